// The room client shared by the room pages (room, host console, venue view): one socket to
// /ws/sessions/<id>/, the state it keeps in version order, and the parts every page renders.
//
// Versions: the snapshot carries the version it is consistent with; each versioned event carries the
// version it produced. An event one past the last applied is applied; an older one is already in the
// state; a newer one waits in a buffer, and if the gap is not filled within GAP_MS (events from
// different server processes may arrive out of order) the client asks for a new snapshot. A ping's
// version is the server's head: being behind it is a gap too.
//
// Text from the server is only ever set with textContent; nothing is parsed as HTML.

const HEARTBEAT_MS = 3000;
const GAP_MS = 1000;
const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 10000;
const TYPING_MS = 4000;
const PENDING_MS = 15000;
const AUDIT_KEEP = 200;
// Close codes after which retrying cannot help (rooms/consumers.py, Close).
const FINAL_CLOSE_CODES = new Set([4401, 4402, 4403, 4404, 4409]);
const ABUSE_CLOSE_CODE = 4429;
// Events after which the snapshot is the simplest truth: it carries the viewer's transitions and
// actions, the committee's rows and the election, all of which these events change.
const RESYNC_AFTER = new Set([
  "phase.changed",
  "leader.elected",
  "member.checked_in",
  "member.recused",
  "member.removed",
  "member.readmitted",
  "member.added",
  "declaration.made",
  "election.round_opened",
  "election.round_closed",
  "vote.cast",
  "assignment.added",
  "cosign.requested",
  "opening.imported",
  "re_evaluation.created",
  "session.edited",
]);

// --- small helpers ------------------------------------------------------------------------------

export function readJSON(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

/** An element with attributes and children; strings become text nodes, never markup. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** "{name}" placeholders of a translated text filled in. */
export function fmt(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

/**
 * Make ``container``'s children match ``items`` in order, one child per key: children are made once
 * (so a half-typed input in them survives re-rendering), updated every time, removed when gone.
 */
export function keyed(container, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of Array.from(container.children)) {
    if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  }
  let previous = null;
  for (const item of items) {
    const key = String(keyOf(item));
    let node = existing.get(key);
    if (node) existing.delete(key);
    else {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    const wanted = previous ? previous.nextSibling : container.firstChild;
    if (node !== wanted) container.insertBefore(node, wanted);
    previous = node;
  }
  for (const node of existing.values()) node.remove();
}

export function formatTime(at) {
  if (!at) return "";
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
}

/** A one-line text input for a reason or a note, labelled by its placeholder. */
export function textInput(label) {
  return el("input", { type: "text", class: "reason", maxlength: 2000, placeholder: label, "aria-label": label });
}

export function showError(slot, text) {
  if (!slot) return;
  slot.textContent = text;
  slot.hidden = !text;
}

export function errorSlot(name, scope = document) {
  return scope.querySelector(`[data-error-for="${name}"]`);
}

// --- the client ---------------------------------------------------------------------------------

export class RoomClient {
  /**
   * @param {object} options
   * @param {string} options.path the socket's path, /ws/sessions/<id>/
   * @param {number} options.pingSeconds how often the server pings (its watchdog is three of them)
   * @param {(client: RoomClient) => void} options.onChange called after the state changed
   * @param {(state: string, code?: number) => void} options.onConnection connecting, connected, reconnecting, closed
   * @param {(text: string) => void} options.onError an error frame that answers no pending request
   */
  constructor({ path, pingSeconds, onChange, onConnection, onError, onEvent = null }) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${location.host}${path}`;
    this.onChange = onChange;
    // Other parts of the page (the media client) follow the connection and read frames too.
    this.connectionListeners = new Set();
    this.frameListeners = new Set(); // a listener that returns true has handled the frame
    this.onConnection = (state, code) => {
      onConnection(state, code);
      for (const listener of this.connectionListeners) listener(state, code);
    };
    this.onError = onError;
    this.onEvent = onEvent; // a page's own versioned events (the scoring sheet's), after the shared ones
    this.watchdogMs = Math.max(15000, 3 * 1000 * (pingSeconds || 5));
    this.state = null; // the snapshot's data, kept up to date by the events
    this.version = 0; // the last version applied
    this.head = 0; // the highest version the server said exists (pings)
    this.buffer = new Map(); // version -> frames that arrived early
    this.gapTimer = null;
    this.resyncInFlight = false;
    this.resyncFor = 0; // a snapshot at least this new is needed
    this.pending = new Map(); // request id -> { slot, onAck, at }
    this.nextId = 1;
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.watchdogTimer = null;
    this.lastFrameAt = 0;
    this.final = false;
    this.typing = new Map(); // user -> { member, until }
    this.typingTimer = null;
    document.addEventListener("visibilitychange", () => this.sendPresence());
  }

  start() {
    this.connect();
  }

  get connected() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  connect() {
    this.retryTimer = null;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.onConnection(this.state === null && this.attempt === 0 ? "connecting" : "reconnecting");
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.lastFrameAt = Date.now();
      // The server sends a snapshot on every connect; hello says where this page stopped.
      if (this.state !== null) this.send({ type: "hello", last_version: this.version });
      if (document.hidden) this.send({ type: "presence", state: "idle" });
      this.heartbeatTimer = setInterval(() => this.send({ type: "heartbeat" }), HEARTBEAT_MS);
      this.watchdogTimer = setInterval(() => this.watch(), 1000);
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket) this.receive(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket === socket) this.lost(event.code);
    });
  }

  /** A socket that went silent (no ping for three periods) is treated as lost. */
  watch() {
    if (this.socket && Date.now() - this.lastFrameAt > this.watchdogMs) {
      const socket = this.socket;
      this.lost(1006);
      socket.close();
    }
  }

  lost(code) {
    this.socket = null;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.watchdogTimer);
    this.heartbeatTimer = this.watchdogTimer = null;
    this.resyncInFlight = false;
    for (const [id, entry] of this.pending) {
      showError(entry.slot, this.strings?.lost_request ?? "");
      if (entry.onError) entry.onError({ type: "error", code: "lost", message: this.strings?.lost_request ?? "" });
      this.pending.delete(id);
    }
    if (FINAL_CLOSE_CODES.has(code)) {
      this.final = true;
      this.onConnection("closed", code);
      return;
    }
    this.onConnection("reconnecting", code);
    if (code === ABUSE_CLOSE_CODE) this.attempt = Math.max(this.attempt, 5); // the server asked us to slow down
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2; // jitter: the venues do not all return at once
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Send a frame with a fresh id; returns the id, or null when there is no open socket. */
  send(frame) {
    if (!this.connected) return null;
    const id = `c${this.nextId++}`;
    this.socket.send(JSON.stringify({ ...frame, id }));
    return id;
  }

  /** A request whose ack or error is shown in ``slot`` (the error text beside its control). */
  request(frame, { slot = null, onAck = null, onError = null } = {}) {
    if (!this.connected) {
      showError(slot, this.strings?.not_connected ?? "");
      return null;
    }
    showError(slot, "");
    const id = this.send(frame);
    const now = Date.now();
    for (const [old, entry] of this.pending) if (now - entry.at > PENDING_MS) this.pending.delete(old);
    this.pending.set(id, { slot, onAck, onError, at: now });
    return id;
  }

  sendPresence() {
    this.send({ type: "presence", state: document.hidden ? "idle" : "active" });
  }

  resync(forVersion = 0) {
    this.resyncFor = Math.max(this.resyncFor, forVersion);
    if (this.resyncInFlight || !this.connected) return;
    this.resyncInFlight = true;
    this.send({ type: "resync" });
  }

  // --- frames from the server -------------------------------------------------------------------

  receive(text) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    for (const listener of this.frameListeners) if (listener(frame)) return;
    if (frame.type === "snapshot") return this.applySnapshot(frame);
    if (frame.type === "ping") return this.noteHead(frame.version);
    if (frame.type === "ack" || frame.type === "error") return this.settle(frame);
    if (frame.ref) this.settle({ type: "ack", ref: frame.ref }); // hand and typing answer with their event
    if (typeof frame.version === "number") this.versioned(frame);
    else this.ephemeral(frame);
  }

  settle(frame) {
    const entry = frame.ref ? this.pending.get(frame.ref) : undefined;
    if (entry) this.pending.delete(frame.ref);
    if (frame.type === "error") {
      const text = `${this.strings?.error ?? ""} ${frame.code}: ${frame.message}`.trim();
      if (entry) showError(entry.slot, text);
      else this.onError(text);
      if (entry?.onError) entry.onError(frame);
      return;
    }
    if (entry) {
      showError(entry.slot, "");
      if (entry.onAck) entry.onAck(frame);
    }
  }

  applySnapshot(frame) {
    const stale = this.state !== null && frame.version < this.version;
    this.state = frame.data;
    this.version = frame.version;
    this.head = Math.max(this.head, frame.version);
    this.attempt = 0;
    this.resyncInFlight = false;
    for (const version of this.buffer.keys()) if (version <= this.version) this.buffer.delete(version);
    this.onConnection("connected");
    this.drain(true);
    // An older snapshot than what was applied (it raced an event), or one older than an event that
    // asked for it: ask again.
    if (stale || this.resyncFor > this.version) this.resync();
    else this.resyncFor = 0;
  }

  noteHead(version) {
    if (typeof version !== "number") return;
    this.head = Math.max(this.head, version);
    this.drain(false);
  }

  versioned(frame) {
    if (this.state !== null && frame.version <= this.version) return; // already in the state
    const waiting = this.buffer.get(frame.version) ?? [];
    waiting.push(frame);
    this.buffer.set(frame.version, waiting);
    if (this.state !== null) this.drain(false);
  }

  /** Apply buffered events while they follow on; watch for a gap that is not filled in time. */
  drain(changed) {
    while (this.buffer.has(this.version + 1)) {
      const frames = this.buffer.get(this.version + 1);
      this.buffer.delete(this.version + 1);
      this.version += 1;
      for (const frame of frames) this.apply(frame);
      changed = true;
    }
    this.head = Math.max(this.head, this.version);
    const behind = this.buffer.size > 0 || this.head > this.version;
    if (behind && this.gapTimer === null) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        if (this.buffer.size > 0 || this.head > this.version) this.resync();
      }, GAP_MS);
    } else if (!behind && this.gapTimer !== null) {
      clearTimeout(this.gapTimer);
      this.gapTimer = null;
    }
    if (changed) this.onChange(this);
  }

  apply(frame) {
    const state = this.state;
    const data = frame.data ?? {};
    if (frame.type === "hidden") return; // an event this viewer may not see: only its version
    switch (frame.type) {
      case "phase.changed":
        state.session.phase = data.to;
        state.session.return_phase = data.return_phase ?? "";
        break;
      case "host.notice":
        state.notices.push({ ...data, version: frame.version });
        break;
      case "chat.message":
        if (Array.isArray(state.chat)) state.chat.push({ ...data, version: frame.version });
        for (const [user, typing] of this.typing) if (typing.member === data.member) this.typing.delete(user);
        break;
      case "member.checked_in": {
        const row = state.members.find((m) => m.id === data.member);
        if (row) row.checked_in_at = data.at ?? new Date().toISOString();
        break;
      }
      case "vote.cast":
        if (state.election && state.election.round === data.round) state.election.cast = data.cast;
        break;
      default:
        break;
    }
    if (Array.isArray(state.audit)) {
      state.audit.push({ version: frame.version, kind: frame.type, actor: data.by ?? "", at: data.at ?? null });
      if (state.audit.length > AUDIT_KEEP) state.audit.splice(0, state.audit.length - AUDIT_KEEP);
    }
    if (RESYNC_AFTER.has(frame.type)) this.resync(frame.version);
    if (this.onEvent) this.onEvent(frame, this);
  }

  ephemeral(frame) {
    const state = this.state;
    if (state === null) return;
    const data = frame.data ?? {};
    switch (frame.type) {
      case "presence": {
        const list = state.presence ?? (state.presence = []);
        const index = list.findIndex((p) => p.user === data.user);
        if (data.state === "left") {
          if (index >= 0) list.splice(index, 1);
        } else {
          const entry = {
            user: data.user,
            name: data.name,
            venue: data.venue,
            member: data.member,
            roles: data.roles ?? [],
            state: data.state === "idle" ? "idle" : "active",
          };
          if (index >= 0) list[index] = { ...list[index], ...entry };
          else list.push(entry);
        }
        break;
      }
      case "hand.raised": {
        const hands = state.hands ?? (state.hands = []);
        if (!hands.some((h) => h.user === data.user)) hands.push({ user: data.user, at: data.at, name: data.name });
        break;
      }
      case "hand.lowered":
        state.hands = (state.hands ?? []).filter((h) => h.user !== data.user);
        break;
      case "typing":
        if (data.user === state.me.user) return;
        this.typing.set(data.user, { member: data.member, until: Date.now() + TYPING_MS });
        clearTimeout(this.typingTimer);
        this.typingTimer = setTimeout(() => this.onChange(this), TYPING_MS + 50);
        break;
      default:
        return;
    }
    this.onChange(this);
  }

  /** Members typing now, by member id (expired entries dropped). */
  typingMembers() {
    const now = Date.now();
    const members = [];
    for (const [user, typing] of this.typing) {
      if (typing.until <= now) this.typing.delete(user);
      else members.push(typing.member);
    }
    return members;
  }
}

// --- the parts every room page shows ------------------------------------------------------------

/** Where each user is: active or idle while connected, else disconnected. */
export function presenceOf(state, user) {
  const entry = (state.presence ?? []).find((p) => p.user === user);
  return entry ? entry.state : "disconnected";
}

export function memberName(state, memberId) {
  return state.members.find((m) => m.id === memberId)?.name ?? "";
}

export function myMember(state) {
  return state.me.member === null ? null : state.members.find((m) => m.id === state.me.member) ?? null;
}

/** The venues, the main venue first (then as the snapshot lists them). */
export function venuesInOrder(state) {
  return [...state.venues].sort((a, b) => (a.kind === "main" ? 0 : 1) - (b.kind === "main" ? 0 : 1));
}

export function isSeated(member) {
  return !member.recused && !member.removed;
}

export class RoomPage {
  /**
   * The shell of a room page: connection and phase banners, members by venue, notices, hands, chat
   * and transitions. ``render`` is the page's own part, called after the shared parts.
   */
  constructor({ render = () => {}, memberControls = null, onEvent = null } = {}) {
    this.config = readJSON("room-config");
    this.strings = readJSON("room-strings");
    this.ui = this.strings.ui;
    this.readOnly = Boolean(this.config.read_only);
    this.renderPage = render;
    this.memberControls = memberControls;
    this.client = new RoomClient({
      path: this.config.ws_path,
      pingSeconds: this.config.ping_seconds,
      onChange: () => this.render(),
      onConnection: (state, code) => this.showConnection(state, code),
      onError: (text) => showError(document.getElementById("room-error"), text),
      onEvent: onEvent ? (frame, client) => onEvent(frame, client) : null,
    });
    this.client.strings = this.ui;
    this.wireHand();
    this.wireChat();
  }

  start() {
    this.client.start();
    // The room's audio and video, for those who take part in them (rtc/static/rtc/media.js).
    if (this.config.rtc?.enabled && document.getElementById("video-tiles")) {
      import("../rtc/media.js")
        .then(({ startMedia }) => startMedia(this))
        .catch((error) => showError(document.getElementById("room-error"), String(error)));
    }
    return this;
  }

  get state() {
    return this.client.state;
  }

  showConnection(state, code) {
    const node = document.getElementById("connection-state");
    node.dataset.state = state;
    if (state === "closed") {
      node.textContent = this.strings.close[String(code)] ?? this.ui.closed;
      node.dataset.code = String(code);
      const next = {
        4401: [this.config.login_url, this.ui.sign_in_again],
        4402: [this.config.otp_url, this.ui.pass_second_factor],
      }[code];
      if (next) node.append(" ", el("a", { href: next[0], text: next[1] }));
    } else {
      node.textContent = this.ui[state];
      delete node.dataset.code;
    }
    document.getElementById("room").dataset.connection = state;
  }

  render() {
    const state = this.state;
    if (state === null) return;
    this.renderPhase(state);
    this.renderMembers(state);
    this.renderNotices(state);
    this.renderHands(state);
    this.renderChat(state);
    this.renderTransitions(state);
    this.renderPage(state, this);
  }

  renderPhase(state) {
    const phase = state.session.phase;
    const banner = document.getElementById("phase");
    banner.dataset.phase = phase;
    banner.className = `phase-banner phase-${phase}`;
    document.getElementById("phase-label").textContent = this.strings.phases[phase] ?? state.session.phase_label;
    const back = document.getElementById("return-phase");
    const returnPhase = state.session.return_phase;
    back.hidden = !returnPhase;
    back.textContent = returnPhase ? `${this.ui.return_phase}${this.strings.phases[returnPhase] ?? returnPhase}` : "";
    const sealed = document.getElementById("sealed-notice");
    sealed.hidden = !state.session.sealed;
    sealed.textContent = state.session.sealed ? this.ui.sealed : "";
  }

  venueTitle(venue) {
    return `${this.strings.venue_kinds[venue.kind] ?? venue.kind} · ${venue.city} ${venue.center}`;
  }

  renderMembers(state) {
    const container = document.getElementById("members");
    if (!container) return;
    const venues = venuesInOrder(state).filter((v) => state.members.some((m) => m.venue === v.id));
    document.getElementById("members-empty").hidden = state.members.length > 0;
    const hands = new Set((state.hands ?? []).map((h) => h.user));
    const withControls = this.memberControls !== null;
    keyed(
      container,
      venues,
      (venue) => venue.id,
      (venue) => {
        const columns = ["col_name", "col_kind", "col_presence", "col_check_in", "col_declarations", "col_status"];
        if (withControls) columns.push("col_controls");
        return el(
          "section",
          { class: "venue", dataset: { venue: venue.id } },
          el("h3", { class: "venue-title" }),
          el(
            "table",
            { class: "list members" },
            el("thead", {}, el("tr", {}, columns.map((c) => el("th", { text: this.ui[c] })))),
            el("tbody"),
          ),
        );
      },
      (node, venue) => {
        node.querySelector(".venue-title").textContent = this.venueTitle(venue);
        const rows = state.members.filter((m) => m.venue === venue.id);
        keyed(
          node.querySelector("tbody"),
          rows,
          (m) => m.id,
          (m) => this.createMemberRow(m, withControls),
          (row, m) => this.updateMemberRow(row, m, state, hands),
        );
      },
    );
  }

  createMemberRow(member, withControls) {
    const row = el(
      "tr",
      { dataset: { member: member.id } },
      el("td", { class: "name" }, el("span", { class: "member-name" }), el("span", { class: "tags" })),
      el("td", { class: "kind" }),
      el("td", {}, el("span", { class: "presence" })),
      el("td", { class: "check-in" }),
      el("td", { class: "declared" }),
      el("td", { class: "status" }),
    );
    if (withControls) {
      const cell = el("td", { class: "member-actions" });
      const controls = this.memberControls.create(member);
      if (controls) cell.append(controls);
      row.append(cell);
    }
    return row;
  }

  updateMemberRow(row, m, state, hands) {
    const ui = this.ui;
    const presence = presenceOf(state, m.user);
    row.dataset.presence = presence;
    row.dataset.checkedIn = m.checked_in_at ? "yes" : "no";
    row.dataset.seated = isSeated(m) ? "yes" : "no";
    row.classList.toggle("unseated", !isSeated(m));
    row.classList.toggle("me", m.id === state.me.member);
    row.querySelector(".member-name").textContent = m.id === state.me.member ? `${m.name}（${ui.me}）` : m.name;
    const tags = row.querySelector(".tags");
    tags.replaceChildren(
      state.leader === m.id || m.role === "leader" ? el("span", { class: "tag tag-leader", text: ui.leader }) : "",
      hands.has(m.user) ? el("span", { class: "tag tag-hand", dataset: { hand: "raised" }, text: ui.hand_raised }) : "",
    );
    row.querySelector(".kind").textContent = this.strings.kinds[m.kind] ?? m.kind;
    const badge = row.querySelector(".presence");
    badge.dataset.presence = presence;
    badge.className = `presence presence-${presence}`;
    badge.textContent = ui[presence];
    const checkIn = row.querySelector(".check-in");
    checkIn.textContent = m.checked_in_at ? `✓ ${ui.checked_in} ${formatTime(m.checked_in_at)}` : ui.not_checked_in;
    const declared = row.querySelector(".declared");
    declared.replaceChildren(
      ...["recusal", "integrity"].map((kind) =>
        el("span", {
          class: m.declared.includes(kind) ? "tag" : "tag tag-off",
          dataset: { declared: kind, done: m.declared.includes(kind) ? "yes" : "no" },
          text: `${m.declared.includes(kind) ? "✓" : "—"} ${ui[`declared_${kind}`]}`,
        }),
      ),
    );
    row.querySelector(".status").textContent = m.recused ? ui.recused : m.removed ? ui.removed : ui.seated;
    const controls = row.querySelector(".member-actions > *");
    if (controls && this.memberControls) this.memberControls.update(controls, m, state);
  }

  renderNotices(state) {
    const list = document.getElementById("notices");
    if (!list) return;
    const notices = [...state.notices].reverse();
    document.getElementById("notices-empty").hidden = notices.length > 0;
    const venues = new Map(state.venues.map((v) => [v.id, v]));
    keyed(
      list,
      notices,
      (n) => n.version,
      () => el("li", { class: "notice-item" }, el("span", { class: "meta" }), el("span", { class: "text" })),
      (node, n) => {
        const to = n.venue ? venues.get(n.venue)?.city ?? "" : this.ui.everyone;
        node.querySelector(".meta").textContent = `${formatTime(n.at)} → ${to} `;
        node.querySelector(".text").textContent = n.text;
      },
    );
  }

  renderHands(state) {
    const list = document.getElementById("hands");
    if (!list) return;
    const hands = state.hands ?? [];
    document.getElementById("hands-empty").hidden = hands.length > 0;
    const nameOf = (hand) =>
      hand.name ??
      state.members.find((m) => m.user === hand.user)?.name ??
      (state.presence ?? []).find((p) => p.user === hand.user)?.name ??
      "";
    keyed(
      list,
      hands,
      (h) => h.user,
      (h) => el("li", { dataset: { handUser: h.user } }),
      (node, h) => {
        node.textContent = `${nameOf(h)} ${formatTime(h.at ? h.at * 1000 : null)}`;
      },
    );
    const toggle = document.getElementById("hand-toggle");
    if (toggle) {
      const raised = hands.some((h) => h.user === state.me.user);
      toggle.dataset.raised = String(raised);
      toggle.textContent = raised ? this.ui.lower_hand : this.ui.raise_hand;
    }
  }

  wireHand() {
    const toggle = document.getElementById("hand-toggle");
    if (!toggle) return;
    toggle.addEventListener("click", () => {
      const raised = toggle.dataset.raised === "true";
      this.client.request({ type: "hand", raised: !raised }, { slot: errorSlot("hand") });
    });
  }

  renderChat(state) {
    const list = document.getElementById("chat");
    if (!list) return;
    const lines = Array.isArray(state.chat) ? state.chat : [];
    document.getElementById("chat-empty").hidden = lines.length > 0;
    keyed(
      list,
      lines,
      (line) => line.version,
      () => el("li", {}, el("span", { class: "meta" }), el("span", { class: "text" })),
      (node, line) => {
        node.querySelector(".meta").textContent = `${formatTime(line.at)} ${line.name}：`;
        node.querySelector(".text").textContent = line.text;
      },
    );
    const form = document.getElementById("chat-form");
    if (form) form.hidden = this.readOnly || !state.actions.includes("post_chat");
    const typing = document.getElementById("typing");
    const names = this.client.typingMembers().map((id) => memberName(state, id)).filter(Boolean);
    typing.hidden = names.length === 0;
    typing.textContent = names.length ? `${this.ui.typing}${names.join("、")}` : "";
  }

  wireChat() {
    const form = document.getElementById("chat-form");
    if (!form) return;
    const input = document.getElementById("chat-text");
    let lastTyping = 0;
    input.addEventListener("input", () => {
      const now = Date.now();
      if (now - lastTyping > 2000) {
        lastTyping = now;
        this.client.send({ type: "typing" });
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      this.client.request(
        { type: "chat", text },
        {
          slot: errorSlot("chat", form),
          onAck: () => {
            input.value = "";
          },
        },
      );
    });
  }

  renderTransitions(state) {
    const card = document.getElementById("transitions-card");
    if (!card) return;
    const transitions = state.transitions ?? [];
    card.hidden = transitions.length === 0;
    const needsReason = new Set(this.strings.needs_reason);
    keyed(
      document.getElementById("transitions"),
      transitions,
      (t) => t.name,
      (t) => {
        const reason = needsReason.has(t.name)
          ? textInput(this.ui.reason)
          : null;
        const slot = el("span", { class: "error", hidden: true, dataset: { errorFor: `transition-${t.name}` } });
        const button = el("button", {
          type: "button",
          class: "primary",
          dataset: { transition: t.name },
          text: this.strings.transitions[t.name] ?? t.name,
        });
        if (reason) reason.addEventListener("input", () => showError(slot, ""));
        button.addEventListener("click", () => {
          const frame = { type: "transition", name: t.name, reason: reason ? reason.value.trim() : "" };
          if (reason && !frame.reason) {
            showError(slot, this.ui.reason_required);
            return;
          }
          this.client.request(frame, {
            slot,
            onAck: () => {
              if (reason) reason.value = "";
            },
          });
        });
        return el(
          "li",
          { dataset: { transitionItem: t.name } },
          button,
          reason,
          el("span", { class: "blocked hint", dataset: { blockedFor: t.name } }),
          slot,
        );
      },
      (node, t) => {
        const button = node.querySelector("button");
        button.disabled = this.readOnly || Boolean(t.blocked);
        const blocked = node.querySelector(".blocked");
        blocked.hidden = !t.blocked;
        blocked.textContent = t.blocked ? `${this.ui.blocked}${t.blocked}` : "";
        const reason = node.querySelector("input.reason");
        if (reason) reason.disabled = this.readOnly || Boolean(t.blocked);
      },
    );
  }
}

// --- parts of the staff pages (host console, venue view) ----------------------------------------

/** The venue-by-venue roll: seats, checked in, and the seated members present, idle, disconnected. */
export function renderRoll(state, page) {
  const body = document.getElementById("roll-body");
  if (!body) return;
  keyed(
    body,
    venuesInOrder(state),
    (venue) => venue.id,
    (venue) =>
      el(
        "tr",
        { dataset: { venue: venue.id } },
        el("td", { dataset: { col: "venue" } }),
        el("td", { dataset: { col: "kind" } }),
        ...["seats", "checked_in", "active", "idle", "disconnected"].map((col) =>
          el("td", { class: "num", dataset: { col } }),
        ),
      ),
    (row, venue) => {
      const seated = state.members.filter((m) => m.venue === venue.id && isSeated(m));
      const count = (presence) => seated.filter((m) => presenceOf(state, m.user) === presence).length;
      const cells = {
        venue: `${venue.city} ${venue.center}`,
        kind: page.strings.venue_kinds[venue.kind] ?? venue.kind,
        seats: seated.length,
        checked_in: seated.filter((m) => m.checked_in_at).length,
        active: count("active"),
        idle: count("idle"),
        disconnected: count("disconnected"),
      };
      for (const [col, value] of Object.entries(cells)) {
        row.querySelector(`[data-col="${col}"]`).textContent = String(value);
      }
    },
  );
}

/**
 * The per-member controls of the staff pages: verify with a note, remove and readmit with a reason.
 * Each is shown only when the snapshot's actions allow it and the member's state fits.
 */
export function memberControls(page, { verify = true, remove = true } = {}) {
  if (page.readOnly) return null;
  const group = (action, inputLabel) => {
    const input = textInput(inputLabel);
    const button = el("button", { type: "button", dataset: { action } });
    return el("span", { class: "control", dataset: { control: action } }, input, button);
  };
  return {
    create(member) {
      const slot = el("span", { class: "error", hidden: true, dataset: { errorFor: `member-${member.id}` } });
      const parts = [];
      if (verify) parts.push(group("verify", page.ui.verify_note));
      if (remove) parts.push(group("remove", page.ui.reason), group("readmit", page.ui.reason));
      const node = el("div", { class: "member-controls" }, ...parts, slot);
      for (const part of parts) {
        const action = part.dataset.control;
        const input = part.querySelector("input");
        input.addEventListener("input", () => showError(slot, ""));
        part.querySelector("button").addEventListener("click", () => {
          const text = input.value.trim();
          const frame =
            action === "verify"
              ? { type: "verify", member: member.id, note: text }
              : { type: action, member: member.id, reason: text };
          if (action !== "verify" && !text) {
            showError(slot, page.ui.reason_required);
            return;
          }
          page.client.request(frame, {
            slot,
            onAck: () => {
              input.value = "";
            },
          });
        });
      }
      return node;
    },
    update(node, m, state) {
      const seated = isSeated(m);
      const show = {
        verify: seated && state.actions.includes("verify_member"),
        remove: seated && state.actions.includes("remove_member"),
        readmit: m.removed && !m.recused && state.actions.includes("readmit_member"),
      };
      for (const part of node.querySelectorAll("[data-control]")) {
        const action = part.dataset.control;
        part.hidden = !show[action];
        const label = action === "verify" && m.checked_in_at ? page.ui.verify_again : page.ui[action];
        part.querySelector("button").textContent = label;
      }
    },
  };
}
