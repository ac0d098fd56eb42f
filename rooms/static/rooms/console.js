// The host console: the room's shared parts, the venue-by-venue roll, the staff online, the member
// controls, the notice form and the audit feed. The supervisor gets the same page read-only.

import {
  RoomPage,
  el,
  errorSlot,
  formatTime,
  keyed,
  memberControls,
  presenceOf,
  renderRoll,
  venuesInOrder,
} from "./room.js";

function renderPeople(state, page) {
  const people = (state.presence ?? []).filter((p) => p.member === null || p.member === undefined);
  keyed(
    document.getElementById("people"),
    people,
    (p) => p.user,
    (p) =>
      el("li", { dataset: { user: p.user } }, el("span", { class: "who" }), " ", el("span", { class: "presence" })),
    (node, p) => {
      const roles = (p.roles ?? []).map((r) => page.strings.roles[r] ?? r).join("、");
      node.querySelector(".who").textContent = `${p.name}（${roles}）`;
      const presence = presenceOf({ presence: [p] }, p.user);
      const badge = node.querySelector(".presence");
      badge.className = `presence presence-${presence}`;
      badge.dataset.presence = presence;
      badge.textContent = page.ui[presence];
    },
  );
}

function renderNoticeForm(state) {
  const card = document.getElementById("notice-card");
  if (!card) return;
  card.hidden = !state.actions.includes("post_notice");
  const select = document.getElementById("notice-venue");
  const venues = venuesInOrder(state);
  const signature = JSON.stringify(venues.map((v) => [v.id, v.city, v.center]));
  // Rebuilt only when the venues change, so the host's choice is kept while they write.
  if (select.dataset.venues === signature) return;
  select.dataset.venues = signature;
  const chosen = select.value;
  const everyone = select.options[0]; // the template's "everyone"; the venues follow it
  select.replaceChildren(everyone, ...venues.map((v) => el("option", { value: v.id, text: `${v.city} ${v.center}` })));
  select.value = venues.some((v) => String(v.id) === chosen) ? chosen : "";
}

function wireNoticeForm(page) {
  const form = document.getElementById("notice-form");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = document.getElementById("notice-text").value.trim();
    const venue = document.getElementById("notice-venue").value;
    if (!text) return;
    page.client.request(
      { type: "notice", text, venue: venue ? Number(venue) : null },
      {
        slot: errorSlot("notice", form),
        onAck: () => {
          document.getElementById("notice-text").value = "";
        },
      },
    );
  });
}

function renderAudit(state, page) {
  const body = document.getElementById("audit");
  const events = [...(state.audit ?? [])].reverse();
  keyed(
    body,
    events,
    (e) => `${e.version}-${e.kind}`,
    () =>
      el(
        "tr",
        {},
        el("td", { class: "num", dataset: { col: "version" } }),
        el("td", { dataset: { col: "at" } }),
        el("td", { dataset: { col: "actor" } }),
        el("td", {}, el("code", { dataset: { col: "kind" } })),
      ),
    (row, e) => {
      row.dataset.version = String(e.version);
      row.querySelector('[data-col="version"]').textContent = String(e.version);
      row.querySelector('[data-col="at"]').textContent = formatTime(e.at);
      row.querySelector('[data-col="actor"]').textContent = e.actor || page.ui.audit_actor_unknown;
      row.querySelector('[data-col="kind"]').textContent = e.kind;
    },
  );
}

const page = new RoomPage({
  render(state, self) {
    renderRoll(state, self);
    renderPeople(state, self);
    renderNoticeForm(state);
    renderAudit(state, self);
  },
});
page.memberControls = memberControls(page);
wireNoticeForm(page);
page.start();
