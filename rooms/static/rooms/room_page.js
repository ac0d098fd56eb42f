// The room page of a committee member (also the reviewer's, the host's and the supervisor's view of
// the room): the shared parts, plus what the current phase asks of this member — their check-in,
// their two declarations, their ballot, their scoring sheet (scoring/static/scoring/sheet.js).

import { Sheet, renderScoring } from "../scoring/sheet.js";
import { RoomPage, el, errorSlot, fmt, formatTime, keyed, myMember, showError } from "./room.js";

function renderCheckIn(state, page) {
  const box = document.getElementById("check-in");
  const me = myMember(state);
  const show = me !== null && ["check_in", "declarations"].includes(state.session.phase);
  box.hidden = !show;
  if (!show) return false;
  const status = document.getElementById("check-in-status");
  status.dataset.checkedIn = me.checked_in_at ? "yes" : "no";
  status.textContent = me.checked_in_at
    ? `${page.ui.my_check_in_done} ${formatTime(me.checked_in_at)}`
    : page.ui.my_check_in_pending;
  return true;
}

function renderDeclarations(state, page) {
  const box = document.getElementById("declarations");
  const me = myMember(state);
  const show = me !== null && state.actions.includes("declare");
  box.hidden = !show;
  if (!show) return false;
  const grounds = Object.keys(state.recusal_grounds ?? {});
  keyed(
    document.getElementById("grounds"),
    grounds,
    (code) => code,
    (code) =>
      el(
        "label",
        { class: "ground" },
        el("input", { type: "checkbox", name: "grounds", value: code }),
        " ",
        // The page's own text first; the snapshot's is in the socket's language, normally the same.
        page.strings.grounds[code] ?? state.recusal_grounds[code],
      ),
    () => {},
  );
  for (const kind of ["recusal", "integrity"]) {
    const done = me.declared.includes(kind);
    const form = document.getElementById(`${kind}-form`);
    form.dataset.declared = String(done);
    for (const control of form.querySelectorAll("input, textarea, button")) control.disabled = done;
    form.querySelector(`[data-status-for="${kind}"]`).textContent = done
      ? `✓ ${page.ui.declaration_done}`
      : page.ui.declaration_pending;
  }
  return true;
}

function renderElection(state, page) {
  const box = document.getElementById("election");
  const election = state.election;
  const show = election !== null && election !== undefined && state.session.phase === "leader_election";
  box.hidden = !show;
  if (!show) return false;
  const status = document.getElementById("election-status");
  const round = fmt(page.ui.election_round, { round: election.round });
  const progress = fmt(page.ui.election_progress, { cast: election.cast, seated: election.seated });
  let line = `${round} · ${progress}`;
  if (!election.open) line += ` · ${page.ui.election_closed}`;
  else if (election.voted) line += ` · ${page.ui.election_voted}`;
  status.textContent = line;
  status.dataset.voted = String(Boolean(election.voted));
  const form = document.getElementById("ballot-form");
  const canVote = election.open && !election.voted && state.actions.includes("cast_vote");
  form.hidden = !canVote;
  const choices = [
    ...election.candidates.map((c) => ({ key: c.member, name: c.name })),
    { key: "blank", name: page.ui.blank_ballot },
  ];
  keyed(
    document.getElementById("candidates"),
    // A new round has new candidates: key by round too, so last round's choice is not kept.
    choices.map((c) => ({ ...c, round: election.round })),
    (c) => `${c.round}-${c.key}`,
    (c) =>
      el(
        "label",
        { class: "candidate" },
        el("input", { type: "radio", name: "candidate", value: String(c.key), required: true }),
        " ",
        c.name,
      ),
    () => {},
  );
  const tally = document.getElementById("tally");
  tally.hidden = !election.tally;
  if (election.tally) {
    const names = new Map(election.candidates.map((c) => [String(c.member), c.name]));
    tally.replaceChildren(
      el(
        "ul",
        {},
        Object.entries(election.tally).map(([key, votes]) =>
          el("li", { text: `${key === "blank" ? page.ui.tally_blank : names.get(key) ?? key}: ${votes}` }),
        ),
      ),
    );
  }
  return true;
}

function wireForms(page) {
  const recusal = document.getElementById("recusal-form");
  recusal.addEventListener("submit", (event) => {
    event.preventDefault();
    const grounds = Array.from(recusal.querySelectorAll('input[name="grounds"]:checked')).map((i) => i.value);
    const details = document.getElementById("recusal-details").value.trim();
    const slot = errorSlot("recusal", recusal);
    page.client.request({ type: "declare", kind: "recusal", grounds, details }, { slot });
  });
  const integrity = document.getElementById("integrity-form");
  integrity.addEventListener("submit", (event) => {
    event.preventDefault();
    page.client.request({ type: "declare", kind: "integrity" }, { slot: errorSlot("integrity", integrity) });
  });
  const ballot = document.getElementById("ballot-form");
  ballot.addEventListener("submit", (event) => {
    event.preventDefault();
    const choice = ballot.querySelector('input[name="candidate"]:checked');
    if (!choice) return;
    const candidate = choice.value === "blank" ? null : Number(choice.value);
    const slot = errorSlot("vote", ballot);
    page.client.request({ type: "vote", candidate }, { slot, onAck: () => showError(slot, "") });
  });
}

let sheet = null;
const page = new RoomPage({
  render(state, self) {
    const shown = [renderCheckIn(state, self), renderDeclarations(state, self), renderElection(state, self)];
    shown.push(renderScoring(state, self, sheet));
    document.getElementById("my-actions-none").hidden = shown.some(Boolean);
  },
  onEvent: (frame, client) => sheet.apply(frame, client),
});
sheet = new Sheet(page);
wireForms(page);
page.start();
