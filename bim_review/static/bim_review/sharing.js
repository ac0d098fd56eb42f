// Shared viewing through the room socket (docs/PROTOCOL.md: view, view_sync, floor; bim.view,
// bim.view_sync, bim.floor). The presenter — the host, the reviewer, or the expert the host gave the
// floor — sends their viewpoint whenever camera, selection, visibility, colours or section planes
// change, at most every SEND_MS (the room's rate limit is 10 frames a second); everyone following
// applies each one as it arrives. Anyone stops following and comes back with one button; a
// follower who arrives asks (view_sync) and the presenter sends their view again at once.

import { RoomClient, fmt, showError } from "../rooms/room.js";

const SEND_MS = 125;
const DELAYS_KEPT = 500;

/** The room client of the viewer page: the room's own client, plus the shared view's frames. */
class ViewerRoomClient extends RoomClient {
  constructor(options, onBim) {
    super(options);
    this.onBim = onBim;
  }

  ephemeral(frame) {
    if (frame.type?.startsWith("bim.")) {
      if (this.state !== null) this.onBim(frame);
      return;
    }
    super.ephemeral(frame);
  }

  apply(frame) {
    if (frame.type === "bim.floor") this.state.floor = frame.data?.member ? frame.data : null;
    super.apply(frame);
    if (frame.type === "bim.model_attached") this.onBim(frame);
  }
}

export class Sharing {
  /**
   * @param {object} options
   * @param {object} options.config the page's configuration (ws_path, ping_seconds, may_present, may_give_floor)
   * @param {object} options.ui the page's texts
   * @param {() => {model: number, viewpoint: object} | null} options.current the view to send
   * @param {(model: number, viewpoint: object) => Promise<void>} options.show apply a presenter's view
   * @param {(data: object) => void} options.onProgress a model's conversion moved on (bim.progress)
   * @param {(data: object) => void} options.onAttached a model was attached to a bid of the lot
   */
  constructor({ config, ui, current, show, onProgress, onAttached }) {
    this.config = config;
    this.onProgress = onProgress;
    this.onAttached = onAttached;
    this.ui = ui;
    this.current = current;
    this.show = show;
    this.presenting = false;
    this.following = true;
    this.presenter = null; // { user, name } of the last view received
    this.tooLarge = null; // bytes of the last view, when it was too large to send
    this.lastSent = 0;
    this.sendTimer = null;
    this.pending = null; // the newest view from the presenter not yet applied
    this.applying = false;
    this.delays = []; // ms from the presenter's send to this page's apply (same clock in the bench)
    this.applied = 0;
    this.client = new ViewerRoomClient(
      {
        path: config.ws_path,
        pingSeconds: config.ping_seconds,
        onChange: () => this.render(),
        onConnection: (state, code) => this.connection(state, code),
        onError: (text) => showError(document.getElementById("model-status"), text),
      },
      (frame) => this.receive(frame),
    );
    this.client.strings = ui;
    this.wire();
  }

  start() {
    this.client.start();
  }

  get state() {
    return this.client.state;
  }

  mayPresent() {
    const state = this.state;
    if (this.config.may_present) return true;
    return Boolean(state?.floor && state.me.member !== null && state.floor.member === state.me.member);
  }

  connection(state) {
    const box = document.getElementById("share-status");
    box.dataset.connection = state;
    if (state === "connected" && !this.synced) {
      this.synced = true;
      if (this.following && !this.presenting) this.client.send({ type: "view_sync" });
    }
    if (state !== "connected") this.synced = false;
    this.render();
  }

  // --- presenting -------------------------------------------------------------------------------

  setPresenting(on) {
    this.presenting = on && this.mayPresent();
    if (this.presenting) {
      this.following = false;
      this.sendNow();
    }
    this.render();
  }

  /** Something in the view changed: send it, at most every SEND_MS, and always the last state. */
  changed() {
    if (!this.presenting) return;
    const wait = this.lastSent + SEND_MS - performance.now();
    if (wait <= 0) this.sendNow();
    else if (this.sendTimer === null) this.sendTimer = setTimeout(() => this.sendNow(), wait);
  }

  sendNow() {
    clearTimeout(this.sendTimer);
    this.sendTimer = null;
    const view = this.current();
    if (!view || !this.presenting) return;
    this.lastSent = performance.now();
    const frame = { type: "view", model: view.model, viewpoint: view.viewpoint, sent_at: Date.now() };
    // The room refuses frames over its limit (and counts them against the socket): a view that
    // does not fit stays here, and the presenter is told why, until one fits again.
    const bytes = new TextEncoder().encode(JSON.stringify(frame)).length;
    this.tooLarge = bytes > this.config.max_frame_bytes ? bytes : null;
    if (this.tooLarge === null) this.client.send(frame);
    this.render();
  }

  // --- following --------------------------------------------------------------------------------

  setFollowing(on) {
    this.following = on;
    if (on) {
      this.presenting = false;
      if (this.pending) this.applyPending();
      else this.client.send({ type: "view_sync" });
    }
    this.render();
  }

  receive(frame) {
    const data = frame.data ?? {};
    if (frame.type === "bim.progress") {
      this.onProgress(data);
      return;
    }
    if (frame.type === "bim.model_attached") {
      this.onAttached(data);
      return;
    }
    if (frame.type === "bim.view_sync") {
      if (this.presenting) this.sendNow();
      return;
    }
    if (frame.type !== "bim.view" || data.user === this.state?.me.user) return;
    this.presenter = { user: data.user, name: data.name };
    this.pending = { ...data, receivedAt: Date.now() };
    if (this.following && !this.presenting) this.applyPending();
    this.render();
  }

  /** Apply the newest view; views that arrive meanwhile replace each other (only the last counts). */
  async applyPending() {
    if (this.applying || !this.pending) return;
    this.applying = true;
    try {
      while (this.pending && this.following) {
        const view = this.pending;
        this.pending = null;
        await this.show(view.model, view.viewpoint);
        this.applied += 1;
        if (typeof view.sent_at === "number") {
          this.delays.push(Date.now() - view.sent_at);
          if (this.delays.length > DELAYS_KEPT) this.delays.shift();
        }
        document.dispatchEvent(new CustomEvent("bim:view-applied", { detail: { model: view.model, at: Date.now() } }));
      }
    } finally {
      this.applying = false;
    }
  }

  // --- the floor --------------------------------------------------------------------------------

  giveFloor(member) {
    const slot = document.querySelector('[data-error-for="floor"]');
    this.client.request({ type: "floor", member }, { slot });
  }

  // --- the page's controls ----------------------------------------------------------------------

  wire() {
    document.getElementById("follow").addEventListener("click", () => this.setFollowing(!this.following));
    document.getElementById("present").addEventListener("click", () => this.setPresenting(!this.presenting));
    document.getElementById("floor-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = document.getElementById("floor-member").value;
      if (value) this.giveFloor(Number(value));
    });
    document.getElementById("floor-take").addEventListener("click", () => this.giveFloor(null));
  }

  render() {
    const state = this.state;
    if (this.presenting && !this.mayPresent()) this.presenting = false; // the floor was taken back
    const status = document.getElementById("share-status");
    const mode = this.presenting ? "presenting" : this.following ? "following" : "free";
    status.dataset.mode = mode;
    status.dataset.error = this.presenting && this.tooLarge ? "too_large" : "";
    if (this.presenting && this.tooLarge) {
      status.textContent = fmt(this.ui.view_too_large, { bytes: this.tooLarge, limit: this.config.max_frame_bytes });
    } else if (this.presenting) status.textContent = this.ui.presenting;
    else if (!this.following) status.textContent = this.ui.not_following;
    else if (this.presenter) status.textContent = fmt(this.ui.following, { name: this.presenter.name });
    else status.textContent = this.ui.nobody_presents;
    const follow = document.getElementById("follow");
    follow.hidden = this.presenting;
    follow.dataset.following = String(this.following);
    follow.textContent = this.following ? this.ui.stop_following : this.ui.follow;
    const present = document.getElementById("present");
    present.hidden = !this.mayPresent();
    present.setAttribute("aria-pressed", String(this.presenting));
    present.textContent = this.presenting ? this.ui.stop_presenting : this.ui.present;
    if (!state) return;
    const panel = document.getElementById("floor-panel");
    panel.hidden = !this.config.may_give_floor && !state.floor;
    document.getElementById("floor-holder").textContent = state.floor
      ? fmt(this.ui.floor_holder, { name: state.floor.name })
      : this.ui.no_floor;
    const form = document.getElementById("floor-form");
    form.hidden = !this.config.may_give_floor;
    const select = document.getElementById("floor-member");
    const seated = (state.members ?? []).filter((m) => !m.recused && !m.removed);
    const wanted = seated.map((m) => `${m.id}:${m.name}`).join("|");
    if (select.dataset.members !== wanted) {
      select.dataset.members = wanted;
      select.replaceChildren(
        ...seated.map((m) => {
          const option = document.createElement("option");
          option.value = String(m.id);
          option.textContent = m.name;
          return option;
        }),
      );
    }
  }
}
