// The room's audio and video (rtc/): one RTCPeerConnection to the room's media worker; the browser
// is always the offerer. Signalling rides the room socket (rooms/static/rooms/room.js, RoomClient):
//   rtc.offer → rtc.answer (matched by ref), rtc.candidate (trickled after the offer),
//   rtc.renegotiate (the server asks for a re-offer with more slots), rtc.tiles (which participant
//   each receive slot shows), rtc.levels (speaking), rtc.muted, rtc.please_mute.
// The offer has the layout rtc/media.py answers: the microphone and camera sendonly, then
// video_slots recvonly video sections and audio_slots recvonly audio sections; VP8 and Opus only;
// bundlePolicy max-bundle.
//
// Reconnection: when ICE fails, or the room socket comes back after a drop, the page offers again
// as the same participant (on a fresh connection if the old one is gone); the others keep its tile
// for a few seconds, marked "reconnecting".
//
// Text from the server is only ever set with textContent.

import { el, fmt, keyed } from "../rooms/room.js";

const ANSWER_TIMEOUT_MS = 20000;
const CANDIDATE_TIMEOUT_MS = 10000;
const RETRY_START_MS = 1000;
const RETRY_MAX_MS = 10000;
const DISCONNECTED_GRACE_MS = 4000;
const STATS_MS = 1000;
const GHOST_MS = 15000;
const STALL_MS = 3000; // a tile whose frames stopped this long shows "reconnecting"
const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 20, max: 30 } };
const CODECS = { video: "video/vp8", audio: "audio/opus" };

class MediaFailure extends Error {
  constructor(code, message = "") {
    super(message || code);
    this.code = code;
  }
}

export function startMedia(page) {
  const media = new MediaClient(page);
  window.roomMedia = media; // for diagnosis in the browser's console, and the browser tests
  media.start();
  return media;
}

export class MediaClient {
  constructor(page) {
    this.page = page;
    this.client = page.client;
    this.config = page.config.rtc;
    this.s = page.strings.media;
    this.participant = this.config.participant;
    this.videoSlots = this.config.video_slots;
    this.audioSlots = this.config.audio_slots;
    this.pc = null;
    this.local = null; // own microphone and camera
    this.audioSender = null;
    this.videoSender = null;
    this.audioMuted = false;
    this.videoMuted = false;
    this.tiles = { video: {}, audio: {} }; // mid -> participant (or null)
    this.display = {}; // participant -> { user, name, venue, role }
    this.pinned = null;
    this.mutes = {}; // participant -> { audio_muted, video_muted }
    this.speaking = new Set();
    this.ghosts = new Map(); // participant -> until (ms): shown "reconnecting"
    this.pending = new Map(); // request id -> { resolve, reject, timer }
    this.held = []; // candidates gathered before the answer
    this.answered = false;
    this.negotiating = null;
    this.again = false;
    this.retry = 0;
    this.retryTimer = null;
    this.graceTimer = null;
    this.waitingForSocket = false;
    this.everConnected = false;
    this.active = false;
    this.quality = "unknown";
    this.lastCounts = null;
    this.progress = new Map(); // participant -> { frames, at }: when its video last moved
    this.stalled = new Set();
  }

  // --- life cycle --------------------------------------------------------------------------------

  start() {
    const section = document.getElementById("video-tiles");
    section.hidden = false;
    section.dataset.media = "on";
    document.querySelector("#media-other-tab span").textContent = this.s.other_tab;
    const takeOver = document.getElementById("media-take-over");
    takeOver.textContent = this.s.take_over;
    takeOver.addEventListener("click", () => this.lock(true));
    document.querySelector(".media-quality .label").textContent = this.s.quality;
    document.getElementById("tiles-empty").textContent = this.s.no_tiles;
    const note = document.getElementById("media-note");
    note.hidden = this.config.publish;
    note.textContent = this.config.publish ? "" : this.s.receive_only;
    this.client.frameListeners.add((frame) => this.onFrame(frame));
    this.client.connectionListeners.add((state) => this.onSocket(state));
    window.addEventListener("pagehide", () => this.leave());
    this.wireControls();
    this.lock(false);
  }

  /** One tab per browser takes part (two would take turns replacing each other's connection). */
  lock(steal) {
    const other = document.getElementById("media-other-tab");
    if (!navigator.locks) {
      this.begin();
      return;
    }
    const name = `rtc-media-${this.page.config.session}`;
    navigator.locks
      .request(name, steal ? { steal: true } : { ifAvailable: true }, async (held) => {
        if (held === null) {
          other.hidden = false;
          return;
        }
        other.hidden = true;
        await this.begin();
        await new Promise((release) => {
          this.release = release;
        });
      })
      .catch(() => {
        // Another tab took over: it is the same participant now, so no rtc.leave.
        this.stop();
        other.hidden = false;
      });
  }

  async begin() {
    this.active = true;
    if (this.config.publish) await this.openDevices();
    document.getElementById("media-controls").hidden = !this.config.publish;
    await this.listDevices();
    this.render();
    this.statsTimer = setInterval(() => this.pollStats(), STATS_MS);
    this.connect();
  }

  stop() {
    this.active = false;
    clearInterval(this.statsTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.graceTimer);
    this.closePeer();
    for (const track of this.local?.getTracks() ?? []) track.stop();
    this.local = null;
    this.tiles = { video: {}, audio: {} };
    this.setStatus("off");
    this.render();
  }

  leave() {
    if (this.active) this.client.send({ type: "rtc.leave" });
  }

  // --- devices -------------------------------------------------------------------------------------

  constraints(kind) {
    const chosen = document.getElementById(kind === "audio" ? "media-audio-device" : "media-video-device").value;
    const base = kind === "video" ? { ...CAMERA } : { echoCancellation: true, noiseSuppression: true };
    if (chosen) base.deviceId = { exact: chosen };
    return base;
  }

  async openDevices() {
    const denied = document.getElementById("media-denied");
    denied.hidden = true;
    try {
      this.local = await navigator.mediaDevices.getUserMedia({
        audio: this.constraints("audio"),
        video: this.constraints("video"),
      });
      return;
    } catch (error) {
      this.showDeviceError(error);
    }
    // What is left may still work: a missing camera must not take the microphone with it.
    for (const kind of ["audio", "video"]) {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ [kind]: this.constraints(kind) });
        this.local = this.local ?? new MediaStream();
        for (const track of stream.getTracks()) this.local.addTrack(track);
      } catch {
        // shown above
      }
    }
  }

  showDeviceError(error) {
    const denied = document.getElementById("media-denied");
    const name = error?.name ?? "";
    if (name === "NotAllowedError" || name === "SecurityError") denied.textContent = this.s.denied;
    else if (name === "NotFoundError" || name === "OverconstrainedError") denied.textContent = this.s.no_device;
    else denied.textContent = fmt(this.s.device_error, { error: `${name} ${error?.message ?? ""}`.trim() });
    denied.hidden = false;
    denied.dataset.error = name;
  }

  async listDevices() {
    if (!this.config.publish || !navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, id] of [
      ["audioinput", "media-audio-device"],
      ["videoinput", "media-video-device"],
    ]) {
      const select = document.getElementById(id);
      const current = this.local?.getTracks().find((t) => `${t.kind}input` === kind)?.getSettings().deviceId;
      select.replaceChildren(
        ...devices
          .filter((d) => d.kind === kind)
          .map((d, i) => el("option", { value: d.deviceId, text: d.label || `${kind} ${i + 1}` })),
      );
      if (current) select.value = current;
    }
  }

  /** Another microphone or camera: the new track replaces the old one without renegotiating. */
  async switchDevice(kind) {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ [kind]: this.constraints(kind) });
    } catch (error) {
      this.showDeviceError(error);
      return;
    }
    const track = kind === "audio" ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
    track.enabled = !(kind === "audio" ? this.audioMuted : this.videoMuted);
    this.local = this.local ?? new MediaStream();
    for (const old of this.local.getTracks().filter((t) => t.kind === kind)) {
      this.local.removeTrack(old);
      old.stop();
    }
    this.local.addTrack(track);
    const sender = kind === "audio" ? this.audioSender : this.videoSender;
    if (sender) await sender.replaceTrack(track);
    else this.connect(); // it sent nothing of this kind before: a new offer with the track
    this.render();
  }

  wireControls() {
    document.getElementById("media-mic").addEventListener("click", () => this.setMuted("audio", !this.audioMuted));
    document.getElementById("media-camera").addEventListener("click", () => this.setMuted("video", !this.videoMuted));
    document.getElementById("media-audio-device").addEventListener("change", () => this.switchDevice("audio"));
    document.getElementById("media-video-device").addEventListener("change", () => this.switchDevice("video"));
  }

  setMuted(kind, muted) {
    if (kind === "audio") this.audioMuted = muted;
    else this.videoMuted = muted;
    // A disabled track sends silence or black: the stream stays and unmuting is instant.
    for (const track of this.local?.getTracks() ?? []) if (track.kind === kind) track.enabled = !muted;
    this.sendMutes();
    this.render();
  }

  sendMutes() {
    if (!this.config.publish || !this.answered) return;
    this.request({ type: "rtc.mute", audio_muted: this.audioMuted, video_muted: this.videoMuted }, CANDIDATE_TIMEOUT_MS).catch(
      () => {}, // sent again after the next answer
    );
  }

  // --- the peer connection -----------------------------------------------------------------------

  policy() {
    const forced = new URLSearchParams(location.search).get("ice");
    return forced === "relay" ? "relay" : this.config.ice_transport_policy;
  }

  connect() {
    if (!this.active) return;
    clearTimeout(this.retryTimer);
    clearTimeout(this.graceTimer);
    this.closePeer();
    const pc = new RTCPeerConnection({
      iceServers: this.config.ice_servers,
      iceTransportPolicy: this.policy(),
      bundlePolicy: "max-bundle",
    });
    this.pc = pc;
    this.answered = false;
    this.held = [];
    const audio = this.local?.getAudioTracks()[0];
    const video = this.local?.getVideoTracks()[0];
    this.audioSender = audio ? pc.addTransceiver(audio, { direction: "sendonly", streams: [this.local] }).sender : null;
    this.videoSender = video ? pc.addTransceiver(video, { direction: "sendonly", streams: [this.local] }).sender : null;
    this.addSlots(pc, "video", this.videoSlots);
    this.addSlots(pc, "audio", this.audioSlots);
    pc.addEventListener("icecandidate", (event) => {
      if (this.pc === pc) this.onCandidate(event.candidate);
    });
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc === pc) this.onPeerState(pc);
    });
    pc.addEventListener("track", () => this.render());
    this.negotiate();
  }

  addSlots(pc, kind, count) {
    const have = pc.getTransceivers().filter((t) => t.receiver.track.kind === kind && t.direction === "recvonly");
    for (let i = have.length; i < count; i += 1) {
      const transceiver = pc.addTransceiver(kind, { direction: "recvonly" });
      preferCodec(transceiver, kind);
    }
    for (const t of pc.getTransceivers()) if (t.direction === "sendonly") preferCodec(t, t.sender.track?.kind);
  }

  closePeer() {
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.close();
    }
    this.answered = false;
  }

  /** Offer (again); one negotiation at a time per connection, a request meanwhile runs after it. */
  negotiate() {
    const pc = this.pc;
    if (!pc) return;
    if (this.negotiating && this.negotiating.pc === pc) {
      this.again = true;
      return;
    }
    const run = { pc };
    this.negotiating = run;
    this.again = false;
    this.offer(pc)
      .catch((error) => {
        if (pc === this.pc) this.failed(error);
      })
      .finally(() => {
        if (this.negotiating !== run) return;
        this.negotiating = null;
        if (this.again && pc === this.pc) this.negotiate();
      });
  }

  async offer(pc) {
    if (!this.client.connected) throw new MediaFailure("not_connected");
    this.setStatus(this.everConnected ? "reconnecting" : "joining");
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await this.request({ type: "rtc.offer", sdp: pc.localDescription.sdp }, ANSWER_TIMEOUT_MS);
    if (pc !== this.pc) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.data.sdp });
    this.mutes = { ...(answer.data.mutes ?? {}) };
    this.answered = true;
    for (const frame of this.held.splice(0)) this.sendCandidate(frame);
    if (this.audioMuted || this.videoMuted) this.sendMutes();
    if (pc.connectionState === "connected") this.setStatus("connected");
    this.render();
  }

  failed(error) {
    this.setStatus("failed", error?.message);
    if (error?.code === "forbidden") return; // retrying cannot help
    this.closePeer();
    if (!this.client.connected) {
      this.waitingForSocket = true; // the socket's return starts the next attempt
      return;
    }
    const ceiling = Math.min(RETRY_MAX_MS, RETRY_START_MS * 2 ** this.retry);
    this.retry += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  onPeerState(pc) {
    clearTimeout(this.graceTimer);
    const state = pc.connectionState;
    if (state === "connected") {
      this.everConnected = true;
      this.retry = 0;
      this.setStatus("connected");
    } else if (state === "failed") {
      this.setStatus("reconnecting");
      this.connect();
    } else if (state === "disconnected") {
      this.setStatus("reconnecting");
      // ICE often recovers by itself from a short loss; a fresh connection if it does not.
      this.graceTimer = setTimeout(() => {
        if (this.pc === pc && pc.connectionState !== "connected") this.connect();
      }, DISCONNECTED_GRACE_MS);
    }
  }

  /** The room socket's state: after it was lost, offer again (the server may have missed events). */
  onSocket(state) {
    if (!this.active) return;
    if (state === "closed") {
      this.stop(); // removed from the room, or signed out: no media either
      return;
    }
    if (state !== "connected") {
      this.waitingForSocket = true;
      return;
    }
    if (!this.waitingForSocket) return;
    this.waitingForSocket = false;
    if (this.pc && this.pc.connectionState === "connected") this.negotiate();
    else this.connect();
  }

  onCandidate(candidate) {
    const frame = candidate
      ? {
          type: "rtc.candidate",
          candidate: candidate.candidate,
          sdp_mid: candidate.sdpMid,
          sdp_mline_index: candidate.sdpMLineIndex,
        }
      : { type: "rtc.candidate", candidate: "" };
    if (this.answered) this.sendCandidate(frame);
    else this.held.push(frame);
  }

  sendCandidate(frame) {
    // A lost candidate is not fatal (the others, or the server's, still pair); failures stay quiet.
    this.request(frame, CANDIDATE_TIMEOUT_MS).catch(() => {});
  }

  request(frame, timeout) {
    return new Promise((resolve, reject) => {
      const id = this.client.send(frame);
      if (id === null) {
        reject(new MediaFailure("not_connected"));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new MediaFailure("timeout"));
      }, timeout);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  // --- frames from the room socket ---------------------------------------------------------------

  onFrame(frame) {
    const entry = frame.ref ? this.pending.get(frame.ref) : undefined;
    if (entry && ["rtc.answer", "ack", "error"].includes(frame.type)) {
      this.pending.delete(frame.ref);
      clearTimeout(entry.timer);
      if (frame.type === "error") entry.reject(new MediaFailure(frame.code, `${frame.code}: ${frame.message}`));
      else entry.resolve(frame);
      return true;
    }
    if (typeof frame.type !== "string" || !frame.type.startsWith("rtc.")) return false;
    const data = frame.data ?? {};
    switch (frame.type) {
      case "rtc.tiles":
        this.onTiles(data);
        break;
      case "rtc.levels":
        this.speaking = new Set(data.speaking ?? []);
        this.renderSpeaking();
        break;
      case "rtc.renegotiate":
        this.onRenegotiate(data);
        break;
      case "rtc.muted":
        this.mutes[data.participant] = { audio_muted: data.audio_muted, video_muted: data.video_muted };
        this.render();
        break;
      case "rtc.peer":
        if (data.participant === this.participant) break;
        if (data.state === "failed") this.ghosts.set(data.participant, Date.now() + GHOST_MS);
        else this.ghosts.delete(data.participant);
        this.render();
        break;
      case "rtc.please_mute":
        this.setMuted("audio", true);
        this.showRequest(fmt(this.s.asked_to_mute, { by: data.by ?? "" }));
        return false; // audited, so versioned: the room applies its version too
      default:
        break;
    }
    return true;
  }

  onTiles(data) {
    const before = this.shown();
    this.tiles = { video: data.video ?? {}, audio: data.audio ?? {} };
    Object.assign(this.display, data.display ?? {});
    this.pinned = data.pinned ?? null;
    const now = this.shown();
    // Gone from every slot (not just out of the last N): they lost their connection, or left.
    for (const participant of before) {
      if (!now.has(participant)) {
        this.ghosts.set(participant, Date.now() + GHOST_MS);
        setTimeout(() => this.render(), GHOST_MS + 50);
      }
    }
    for (const participant of now) this.ghosts.delete(participant);
    this.render();
  }

  shown() {
    return new Set([...Object.values(this.tiles.video), ...Object.values(this.tiles.audio)].filter(Boolean));
  }

  onRenegotiate(data) {
    this.audioSlots = Math.max(this.audioSlots, data.audio_slots ?? 0);
    this.videoSlots = Math.max(this.videoSlots, data.video_slots ?? 0);
    if (!this.pc) return;
    this.addSlots(this.pc, "video", this.videoSlots);
    this.addSlots(this.pc, "audio", this.audioSlots);
    this.negotiate();
  }

  showRequest(text) {
    const box = document.getElementById("media-request");
    box.textContent = text;
    box.hidden = !text;
  }

  setStatus(state, detail = "") {
    const node = document.getElementById("media-status");
    node.dataset.state = state;
    node.textContent = state === "off" ? "" : `${this.s[state] ?? state}${detail && state === "failed" ? ` (${detail})` : ""}`;
  }

  // --- rendering ---------------------------------------------------------------------------------

  transceiverOf(mid) {
    return this.pc?.getTransceivers().find((t) => t.mid === mid) ?? null;
  }

  render() {
    this.renderControls();
    const now = Date.now();
    for (const [participant, until] of this.ghosts) if (until <= now) this.ghosts.delete(participant);
    const items = [];
    if (this.local?.getVideoTracks().length) items.push({ key: "self", participant: this.participant, self: true });
    const shown = new Set();
    for (const [mid, participant] of Object.entries(this.tiles.video)) {
      if (!participant) continue;
      shown.add(participant);
      const ghost = this.ghosts.has(participant) || this.stalled.has(participant);
      items.push({ key: participant, participant, mid, ghost });
    }
    for (const participant of this.ghosts.keys()) {
      if (!shown.has(participant)) items.push({ key: participant, participant, ghost: true });
    }
    keyed(
      document.getElementById("tiles"),
      items,
      (item) => item.key,
      (item) => this.createTile(item),
      (node, item) => this.updateTile(node, item),
    );
    document.getElementById("tiles-empty").hidden = items.some((i) => !i.self);
    this.renderAudio();
    this.renderSpeaking();
  }

  createTile(item) {
    const video = el("video", { autoplay: true, playsinline: true });
    video.muted = true; // sound comes from the audio slots, one element each
    const node = el(
      "figure",
      { class: item.self ? "tile self" : "tile", dataset: { participant: item.participant } },
      video,
      el("div", { class: "tile-state", text: this.s.reconnecting_tile }),
      el("figcaption", {}, el("span", { class: "who" }), el("span", { class: "badges" })),
    );
    if (this.config.host && !item.self) {
      const pin = el("button", { type: "button", dataset: { action: "pin" } });
      pin.addEventListener("click", () => {
        const user = this.display[item.participant]?.user ?? null;
        const target = this.pinned === item.participant ? null : user;
        this.request({ type: "rtc.pin", user: target }, CANDIDATE_TIMEOUT_MS).catch((e) => this.setStatus("failed", e.message));
      });
      const hush = el("button", { type: "button", dataset: { action: "please-mute" }, text: this.s.please_mute });
      hush.addEventListener("click", () => {
        const user = this.display[item.participant]?.user;
        if (user) this.request({ type: "rtc.please_mute", user }, CANDIDATE_TIMEOUT_MS).catch(() => {});
      });
      node.append(el("div", { class: "tile-actions" }, pin, hush));
    }
    return node;
  }

  updateTile(node, item) {
    const video = node.querySelector("video");
    const participant = item.participant;
    if (item.self) {
      if (video.srcObject !== this.local) video.srcObject = this.local;
    } else if (!item.mid) {
      video.srcObject = null;
      delete node.dataset.mid;
    } else if (node.dataset.mid !== item.mid) {
      const transceiver = this.transceiverOf(item.mid);
      video.srcObject = transceiver ? new MediaStream([transceiver.receiver.track]) : null;
      node.dataset.mid = item.mid;
    }
    node.dataset.state = item.ghost ? "reconnecting" : "live";
    node.dataset.pinned = String(this.pinned === participant);
    const who = this.whoIs(participant, item.self);
    node.querySelector(".who").textContent = who;
    const mutes = item.self
      ? { audio_muted: this.audioMuted, video_muted: this.videoMuted }
      : this.mutes[participant] ?? {};
    node.dataset.audioMuted = String(Boolean(mutes.audio_muted));
    node.querySelector(".badges").replaceChildren(
      mutes.audio_muted ? el("span", { class: "badge badge-muted", text: this.s.muted }) : "",
      mutes.video_muted ? el("span", { class: "badge", text: this.s.camera_muted }) : "",
      this.pinned === participant ? el("span", { class: "badge", text: this.s.pinned }) : "",
    );
    const pin = node.querySelector('[data-action="pin"]');
    if (pin) pin.textContent = this.pinned === participant ? this.s.unpin : this.s.pin;
    const hush = node.querySelector('[data-action="please-mute"]');
    if (hush) hush.hidden = Boolean(mutes.audio_muted) || Boolean(item.ghost);
  }

  whoIs(participant, self) {
    const state = this.page.state;
    if (self) {
      const venue = state?.venues?.find((v) => v.id === state.me.venue);
      return [`${state?.me?.name ?? ""}（${this.s.me}）`, venue?.city].filter(Boolean).join(" · ");
    }
    const d = this.display[participant] ?? {};
    const role = d.role ? this.page.strings.roles[d.role] ?? d.role : "";
    return [d.name ?? participant, d.venue, role].filter(Boolean).join(" · ");
  }

  renderAudio() {
    const box = document.getElementById("media-audio");
    const mids = Object.keys(this.tiles.audio);
    keyed(
      box,
      mids,
      (mid) => mid,
      () => el("audio", { autoplay: true }),
      (node, mid) => {
        const transceiver = this.transceiverOf(mid);
        const track = transceiver?.receiver.track ?? null;
        if (track && node.srcObject?.getTracks()[0] !== track) node.srcObject = new MediaStream([track]);
        node.dataset.participant = this.tiles.audio[mid] ?? "";
      },
    );
  }

  renderSpeaking() {
    for (const tile of document.querySelectorAll("#tiles .tile")) {
      tile.dataset.speaking = String(this.speaking.has(tile.dataset.participant));
    }
  }

  renderControls() {
    const mic = document.getElementById("media-mic");
    const camera = document.getElementById("media-camera");
    const hasAudio = Boolean(this.local?.getAudioTracks().length);
    const hasVideo = Boolean(this.local?.getVideoTracks().length);
    mic.dataset.muted = String(this.audioMuted);
    mic.textContent = this.audioMuted ? this.s.mic_off : this.s.mic_on;
    mic.disabled = !hasAudio;
    camera.dataset.muted = String(this.videoMuted);
    camera.textContent = this.videoMuted ? this.s.camera_off : this.s.camera_on;
    camera.disabled = !hasVideo;
  }

  // --- statistics ----------------------------------------------------------------------------------

  /** What the connection carries now: frames and samples received per participant, packets sent,
   * the selected candidate pair; used for the quality badge, and by the browser tests. */
  async stats() {
    const pc = this.pc;
    const result = { state: pc?.connectionState ?? "none", video: {}, audio: {}, sent: {}, rtt: null, local: null, remote: null, lost: 0, received: 0 };
    if (!pc) return result;
    const report = await pc.getStats();
    let pair = null;
    for (const stat of report.values()) {
      if (stat.type === "transport" && stat.selectedCandidatePairId) pair = report.get(stat.selectedCandidatePairId);
    }
    if (pair) {
      result.rtt = pair.currentRoundTripTime ?? null;
      result.local = report.get(pair.localCandidateId)?.candidateType ?? null;
      result.remote = report.get(pair.remoteCandidateId)?.candidateType ?? null;
    }
    for (const stat of report.values()) {
      if (stat.type === "inbound-rtp") {
        result.lost += stat.packetsLost ?? 0;
        result.received += stat.packetsReceived ?? 0;
        const participant = stat.kind === "video" ? this.tiles.video[stat.mid] : this.tiles.audio[stat.mid];
        if (!participant) continue;
        if (stat.kind === "video") result.video[participant] = stat.framesDecoded ?? 0;
        else result.audio[participant] = stat.totalSamplesReceived ?? 0;
      } else if (stat.type === "outbound-rtp") {
        result.sent[stat.kind] = (result.sent[stat.kind] ?? 0) + (stat.packetsSent ?? 0);
      }
    }
    return result;
  }

  async pollStats() {
    if (!this.pc || this.pc.connectionState !== "connected") {
      this.showQuality("unknown");
      return;
    }
    const now = await this.stats();
    this.noteProgress(now.video);
    const before = this.lastCounts ?? { lost: 0, received: 0 };
    this.lastCounts = { lost: now.lost, received: now.received };
    const lost = Math.max(0, now.lost - before.lost);
    const received = Math.max(0, now.received - before.received);
    const loss = lost + received > 0 ? lost / (lost + received) : 0;
    const rtt = now.rtt ?? 0;
    this.showQuality(rtt < 0.15 && loss < 0.02 ? "good" : rtt < 0.4 && loss < 0.08 ? "fair" : "poor");
  }

  /** Tiles whose picture stopped (the publisher's connection dropped) show "reconnecting". */
  noteProgress(frames) {
    const at = Date.now();
    const stalled = new Set();
    for (const [participant, count] of Object.entries(frames)) {
      const last = this.progress.get(participant);
      if (!last || count > last.frames) this.progress.set(participant, { frames: count, at });
      else if (at - last.at > STALL_MS && !this.mutes[participant]?.video_muted) stalled.add(participant);
    }
    for (const participant of this.progress.keys()) if (!(participant in frames)) this.progress.delete(participant);
    const changed = stalled.size !== this.stalled.size || [...stalled].some((p) => !this.stalled.has(p));
    this.stalled = stalled;
    if (changed) this.render();
  }

  showQuality(quality) {
    this.quality = quality;
    const node = document.getElementById("media-quality");
    node.dataset.quality = quality;
    node.textContent = this.s[`quality_${quality}`];
  }
}

/** VP8 or Opus only: the server forwards nothing else, and the offer stays small. */
function preferCodec(transceiver, kind) {
  if (!kind || typeof transceiver.setCodecPreferences !== "function") return;
  for (const source of [RTCRtpReceiver, RTCRtpSender]) {
    const codecs = (source.getCapabilities(kind)?.codecs ?? []).filter((c) => c.mimeType.toLowerCase() === CODECS[kind]);
    if (!codecs.length) continue;
    try {
      transceiver.setCodecPreferences(codecs);
      return;
    } catch {
      // this browser checks the other list
    }
  }
}
