// The sub-venue attendant's view: their venue's roll and seats, and the identity check of the
// members seated there. The snapshot already holds only the attendant's venues.

import { RoomPage, memberControls, renderRoll } from "./room.js";

const page = new RoomPage({
  render(state, self) {
    renderRoll(state, self);
  },
});
page.memberControls = memberControls(page, { remove: false });
page.start();
