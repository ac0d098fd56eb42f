"""The media server: one aiortc peer connection per participant, encoded media forwarded as RTP.

The browser is always the offerer (``negotiate`` answers every offer, first or re-offer); the server
never trickles (aiortc gathers before answering, so the answer carries its candidates); browser
candidates arrive through ``add_candidate``. Nothing is decoded or encoded: each publisher's VP8 and
Opus RTP is decrypted once and written, rewritten (SSRC, payload type, sequence number, timestamp;
header extensions dropped), to every subscriber's slot (see ``rtc/forward.py``).

How the browser's offer must look (``RTCPeerConnection({bundlePolicy: "max-bundle", iceServers})``):

- a publisher adds its microphone and camera (``addTrack`` or ``addTransceiver(track, {direction:
  "sendrecv"|"sendonly"})``): at most one audio and one video section that carries a track; the
  server answers them ``recvonly``;
- receive slots: ``addTransceiver("video", {direction: "recvonly"})`` ``RTC_LAST_N + 1`` times (last-N
  plus the pinned tile; default 7) and ``addTransceiver("audio", {direction: "recvonly"})`` once per
  other participant who may speak (``RTC_AUDIO_SLOTS``, default 15). Any number works: a subscriber
  gets as many tiles as it offered slots; when it has fewer audio slots than there are speakers the
  server emits ``rtc.renegotiate`` with the count it needs, and the browser re-offers with more;
- a supervisor (``can_publish=False``) offers only receive slots: a section with a track that is
  ``sendrecv``/``sendonly`` is refused (``PublishRefused``) and nothing of the offer is applied;
- only VP8 (video) and Opus (audio) are answered; the mid of each slot is its name in the events.

Events go out through ``on_event(session_id, event)``; ``event["to"]`` names the participant when the
event is for one participant only (``None``: for the whole room):

- ``{"type": "rtc.renegotiate", "to": p, "reason": str, "audio_slots": n, "video_slots": n}``
- ``{"type": "rtc.levels", "to": None, "levels": {p: 0..127 (dBov below 0, 127 silence)}, "speaking": [p]}``
  (4 times a second while anyone's level changes)
- ``{"type": "rtc.tiles", "to": p, "video": {mid: participant | None}, "audio": {mid: participant | None},
  "pinned": participant | None, "display": {participant: display dict}}``
- ``{"type": "rtc.recording", "to": None, "entry": manifest entry}`` for every manifest entry written;
- ``{"type": "rtc.peer", "to": None, "participant": p, "state": "connected" | "failed" | "closed"}``:
  a failed or closed connection (ICE failure, consent expired) is dropped at once (its tiles go,
  the recording notes a gap) and awaits a new offer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.sdp import SessionDescription, candidate_from_sdp

from rtc import _aiortc_internals as internals
from rtc import rtcp
from rtc.forward import AUDIO_BITRATE, Slot, Source
from rtc.lastn import SpeakerOrder, choose_tiles
from rtc.recording import SessionRecording

logger = logging.getLogger(__name__)

EventSink = Callable[[int, dict[str, Any]], None]


class MediaError(Exception):
    """A signalling request the media server cannot apply; ``code`` names it for an error frame."""

    code = "rtc_error"


class BadOffer(MediaError):
    """The offer is not SDP the server can answer (malformed, no VP8/Opus, wrong state)."""

    code = "rtc_bad_offer"


class PublishRefused(MediaError):
    """A participant who may only receive offered a section that sends."""

    code = "rtc_publish_refused"


class UnknownPeer(MediaError):
    """No peer connection for this session and participant (a candidate before its offer, or after leave)."""

    code = "rtc_unknown_peer"


class BadCandidate(MediaError):
    """An ICE candidate that cannot be parsed."""

    code = "rtc_bad_candidate"


class MediaServerClosed(MediaError):
    code = "rtc_closed"


@dataclass
class MediaConfig:
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    host_addresses: list[str] | None = None
    last_n: int = 6
    recordings_dir: Path | None = None
    segment_seconds: float = 30.0
    remb_bps: int = 2_000_000
    on_event: EventSink | None = None

    @classmethod
    def from_settings(cls, ice_servers: list[dict[str, Any]], on_event: EventSink | None = None) -> MediaConfig:
        """The RTC_* settings; ``ice_servers`` as the browser gets them (the caller makes TURN credentials)."""
        from django.conf import settings

        return cls(
            ice_servers=ice_servers,
            host_addresses=list(settings.RTC_ICE_HOST_ADDRESSES) or None,
            last_n=settings.RTC_LAST_N,
            recordings_dir=Path(settings.RTC_RECORDING_DIR),
            segment_seconds=float(settings.RTC_RECORDING_SEGMENT_SECONDS),
            on_event=on_event,
        )


def _ice_servers(servers: list[dict[str, Any]]) -> list[RTCIceServer]:
    return [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential")) for s in servers]


@dataclass
class _OfferShape:
    ufrag: str
    publish: dict[str, str]  # kind -> mid of the section that carries a track
    ssrcs: dict[str, list[int]]  # mid -> its SSRCs
    rtx: dict[str, int]  # mid -> the SSRC of its retransmissions
    sdp: str


def _parse_offer(offer_sdp: str) -> _OfferShape:
    if not isinstance(offer_sdp, str) or not offer_sdp.startswith("v=0"):
        raise BadOffer("the offer is not SDP")
    # mDNS names are never resolved: drop their candidate lines before aiortc sees them.
    lines = [ln for ln in offer_sdp.splitlines() if not (ln.startswith("a=candidate:") and ".local " in ln)]
    sdp = "\r\n".join(lines) + "\r\n"
    try:
        description = SessionDescription.parse(sdp)
    except Exception as exc:
        raise BadOffer(f"the offer is malformed SDP: {exc}") from exc
    if not description.media:
        raise BadOffer("the offer has no media section")
    publish: dict[str, str] = {}
    ssrcs: dict[str, list[int]] = {}
    rtx: dict[str, int] = {}
    ufrag = ""
    for media in description.media:
        if media.kind not in ("audio", "video"):
            continue
        mid = media.rtp.muxId
        if not mid:
            raise BadOffer("every media section needs a mid (use bundlePolicy max-bundle)")
        if media.ice and media.ice.usernameFragment:
            ufrag = ufrag or media.ice.usernameFragment
        ssrcs[mid] = [s.ssrc for s in media.ssrc]
        for group in media.ssrc_group:
            if group.semantic == "FID" and len(group.items) == 2:
                primary, repair = int(group.items[0]), int(group.items[1])
                ssrcs[mid] = [primary] + [s for s in ssrcs[mid] if s != primary]
                rtx[mid] = repair
        if media.direction in ("sendrecv", "sendonly") and media.ssrc:
            if media.kind in publish:
                raise BadOffer(f"at most one {media.kind} track may be published")
            publish[media.kind] = mid
    return _OfferShape(ufrag=ufrag, publish=publish, ssrcs=ssrcs, rtx=rtx, sdp=sdp)


class Peer:
    """One participant's peer connection: what it publishes and the slots it receives on."""

    def __init__(self, room: Room, participant: str, pc: RTCPeerConnection, can_publish: bool, display: dict) -> None:
        self.room = room
        self.participant = participant
        self.pc = pc
        self.can_publish = can_publish
        self.display = display
        self.ufrag = ""
        self.lock = asyncio.Lock()
        self.sources: dict[str, Source] = {}
        self.by_ssrc: dict[int, Source] = {}
        self.by_rtx: dict[int, Source] = {}
        self.slots: dict[str, list[Slot]] = {"audio": [], "video": []}
        self.by_slot_ssrc: dict[int, Slot] = {}
        self.raw: internals.RawSender | None = None
        self.rtcp_ssrc = 0
        self.cname = b""
        self.joined = time.time()
        self.closed = False

    def on_rtp(self, plain: bytes) -> None:
        ssrc = int.from_bytes(plain[8:12], "big")
        source = self.by_ssrc.get(ssrc)
        if source is not None:
            source.on_rtp(plain)
        elif (source := self.by_rtx.get(ssrc)) is not None:
            source.on_rtp(plain, rtx=True)

    def on_rtcp(self, plain: bytes) -> None:
        """What the participant's browser reports: about its own streams (SR), about our slots (RR, NACK,
        PLI, FIR) and its bandwidth (REMB)."""
        now = time.time()
        for item in rtcp.parse(plain):
            if isinstance(item, rtcp.SenderInfo | rtcp.Receiver):
                if isinstance(item, rtcp.SenderInfo) and (source := self.by_ssrc.get(item.ssrc)) is not None:
                    source.sender_report(item.ntp_middle, now)
                for block in item.blocks:
                    if (slot := self.by_slot_ssrc.get(block.ssrc)) is not None:
                        slot.reported(block, now)
            elif isinstance(item, rtcp.Nack):
                if (slot := self.by_slot_ssrc.get(item.media_ssrc)) is not None:
                    slot.retransmit(item.lost)
            elif isinstance(item, rtcp.KeyframeRequest):
                for ssrc in item.media_ssrcs:
                    if (slot := self.by_slot_ssrc.get(ssrc)) is not None:
                        slot.keyframe_requested()
            elif isinstance(item, rtcp.Remb):
                for ssrc in item.ssrcs:
                    if (slot := self.by_slot_ssrc.get(ssrc)) is not None:
                        slot.remb_share, slot.remb_at = item.bitrate // len(item.ssrcs), now

    def nack(self, ssrc: int, lost: list[int]) -> None:
        if self.raw is not None:
            self.raw.rtcp(rtcp.nack(self.rtcp_ssrc, ssrc, lost) + self._sdes())

    def request_keyframe(self, ssrc: int) -> None:
        if self.raw is not None:
            self.raw.rtcp(rtcp.pli(self.rtcp_ssrc, ssrc) + self._sdes())

    def _sdes(self) -> bytes:
        return rtcp.sdes_cname(self.rtcp_ssrc, self.cname)

    def reports(self, remb_bps: int) -> list[bytes]:
        """This connection's compound RTCP for one interval (RFC 3550 6.1, RFC 8108 5.3).

        An SR for every slot that has sent something (none for idle slots), the first carrying the
        reception reports about what the participant publishes; an RR instead when no slot has sent;
        one SDES CNAME; a REMB for what it publishes, from what its viewers report (``Source.bandwidth``).
        Split only if it outgrows one datagram.
        """
        now = time.time()
        blocks = [s.report_block(now) for s in self.sources.values() if s.ssrc]
        packets = [
            slot.sender_report(now, blocks if i == 0 else None)
            for i, slot in enumerate(s for kind in ("video", "audio") for s in self.slots[kind] if s.packets)
        ]
        if not packets and not blocks:
            return []
        if not packets:
            packets = [rtcp.receiver_report(self.rtcp_ssrc, blocks)]
        video = self.sources.get("video")
        if video is not None and video.ssrc:
            bitrate = video.bandwidth(now, remb_bps) + (AUDIO_BITRATE if "audio" in self.sources else 0)
            packets.append(rtcp.remb(self.rtcp_ssrc, bitrate, [b.ssrc for b in blocks]))
        first_ssrc = int.from_bytes(packets[0][4:8], "big")
        return rtcp.compound(packets, rtcp.sdes_cname(first_ssrc, self.cname))

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for source in self.sources.values():
            source.close()
        with contextlib.suppress(Exception):
            await self.pc.close()


class Room:
    def __init__(self, server: MediaServer, session_id: int) -> None:
        self.server = server
        self.session_id = session_id
        self.peers: dict[str, Peer] = {}
        self.speakers = SpeakerOrder()
        self.pinned: str | None = None
        self.recording: SessionRecording | None = None
        self.last_levels: dict[str, int] = {}
        if server.config.recordings_dir is not None:
            self.recording = SessionRecording(
                server.config.recordings_dir / f"session-{session_id}",
                segment_seconds=server.config.segment_seconds,
                on_entry=lambda entry: server.emit(session_id, {"type": "rtc.recording", "to": None, "entry": entry}),
            )

    def publishers(self, kind: str) -> list[Peer]:
        return [p for p in self.peers.values() if kind in p.sources]

    def reassign(self, told: set[str] | None = None) -> None:
        """Give every subscriber's slots to the sources last-N picks; tell whom it changed for.

        ``told``: participants whose slots were emptied already (their tiles changed in any case).
        """
        for peer in list(self.peers.values()):
            if peer.closed:
                continue
            choice = choose_tiles(
                viewer=peer.participant,
                video_publishers=[p.participant for p in self.publishers("video")],
                audio_publishers=[p.participant for p in self.publishers("audio")],
                order=self.speakers,
                pinned=self.pinned,
                video_slots=len(peer.slots["video"]),
                audio_slots=len(peer.slots["audio"]),
                last_n=self.server.config.last_n,
            )
            changed = False
            for kind, wanted in (("video", choice.video), ("audio", choice.audio)):
                changed |= _bind(peer.slots[kind], {p: self.peers[p].sources[kind] for p in wanted})
            if changed or (told and peer.participant in told):
                self.server.emit(self.session_id, self.tiles_event(peer))
            if choice.audio_missing and not getattr(peer, "asked_audio", 0) >= choice.audio_needed:
                peer.asked_audio = choice.audio_needed  # type: ignore[attr-defined]
                self.server.emit(
                    self.session_id,
                    {
                        "type": "rtc.renegotiate",
                        "to": peer.participant,
                        "reason": "more audio slots needed",
                        "audio_slots": choice.audio_needed,
                        "video_slots": self.server.config.last_n + 1,
                    },
                )

    def tiles_event(self, peer: Peer) -> dict[str, Any]:
        def name(slot: Slot) -> str | None:
            return slot.source.participant if slot.source is not None else None

        shown = {name(s) for kind in ("video", "audio") for s in peer.slots[kind]} - {None}
        return {
            "type": "rtc.tiles",
            "to": peer.participant,
            "video": {s.mid: name(s) for s in peer.slots["video"]},
            "audio": {s.mid: name(s) for s in peer.slots["audio"]},
            "pinned": self.pinned,
            "display": {p: self.peers[p].display for p in shown if p in self.peers},
        }


def _bind(slots: list[Slot], wanted: dict[str, Source]) -> bool:
    """Keep slots already showing a wanted source; give the others to the rest, in order."""
    changed = False
    placed = set()
    for slot in slots:
        if (
            slot.source is not None
            and slot.source.participant in wanted
            and slot.source is wanted[slot.source.participant]
        ):
            placed.add(slot.source.participant)
        elif slot.source is not None:
            slot.unbind()
            changed = True
    free = [s for s in slots if s.source is None]
    for participant, source in wanted.items():
        if participant in placed or not free:
            continue
        free.pop(0).bind(source)
        changed = True
    return changed


class MediaServer:
    """Owns every peer connection of the rooms placed on this process. Not thread-safe: one event loop."""

    def __init__(self, config: MediaConfig | None = None) -> None:
        self.config = config or MediaConfig()
        internals.set_host_addresses(self.config.host_addresses)
        self.rooms: dict[int, Room] = {}
        self.closed = False
        self._closing: dict[int, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._forwarded = 0
        self._rate = 0.0
        self._rate_at = time.monotonic()

    # --- API --------------------------------------------------------------------------------

    async def negotiate(
        self, session_id: int, participant: str, offer_sdp: str, *, can_publish: bool, display: dict
    ) -> str:
        """Answer the browser's offer (first offer, re-offer, or a new connection after a reconnect)."""
        self._check_open()
        shape = _parse_offer(offer_sdp)
        if shape.publish and not can_publish:
            raise PublishRefused(f"{participant} may only receive: the offer sends {', '.join(sorted(shape.publish))}")
        self._ensure_task()
        room = self.rooms.get(session_id)
        if room is None:
            closing = self._closing.get(session_id)
            if closing is not None:
                await asyncio.shield(closing)
            room = self.rooms.get(session_id)
            if room is None:
                room = self.rooms[session_id] = Room(self, session_id)
        peer = room.peers.get(participant)
        if peer is not None and (peer.closed or (shape.ufrag and peer.ufrag and shape.ufrag != peer.ufrag)):
            await self._drop(room, peer, reason="reconnect")
            peer = None
        fresh = peer is None
        if peer is None:
            pc = RTCPeerConnection(
                RTCConfiguration(
                    iceServers=_ice_servers(self.config.ice_servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
                )
            )
            peer = Peer(room, participant, pc, can_publish, display)
            room.peers[participant] = peer
            self._watch(room, peer)
        peer.display = display
        try:
            async with peer.lock:
                answer = await self._answer(peer, shape)
        except Exception as exc:
            # aiortc cannot roll back: a connection left half-way through an offer is closed, and the
            # browser offers again on a new one (a re-offer refused before it was applied keeps it).
            if fresh or peer.pc.signalingState != "stable":
                await self._drop(room, peer, reason="failed" if fresh else "reconnect")
            if isinstance(exc, MediaError):
                raise
            raise BadOffer(f"the offer cannot be applied: {exc}") from exc
        if fresh and room.recording is not None:
            room.recording.event("join", participant=participant)
        room.reassign()
        return answer

    async def add_candidate(self, session_id: int, participant: str, candidate: dict[str, Any] | None) -> None:
        """Add a browser candidate (``RTCIceCandidate.toJSON()``; None: end of candidates). ``.local`` is dropped."""
        self._check_open()
        peer = self._peer(session_id, participant)
        if candidate is None or not candidate.get("candidate"):
            with contextlib.suppress(Exception):
                await peer.pc.addIceCandidate(None)
            return
        text = str(candidate["candidate"])
        if text.startswith("candidate:"):
            text = text[len("candidate:") :]
        try:
            parsed = candidate_from_sdp(text)
        except Exception as exc:
            raise BadCandidate(f"cannot parse the candidate: {exc}") from exc
        if parsed.ip.endswith(".local"):
            return
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        if parsed.sdpMid is None and parsed.sdpMLineIndex is None:
            parsed.sdpMLineIndex = 0
        try:
            await peer.pc.addIceCandidate(parsed)
        except Exception as exc:
            raise BadCandidate(f"the candidate cannot be added: {exc}") from exc

    async def leave(self, session_id: int, participant: str) -> None:
        """Close the participant's connection (no error if it has none)."""
        room = self.rooms.get(session_id)
        if room is None or participant not in room.peers:
            return
        await self._drop(room, room.peers[participant], reason="leave")
        if not room.peers and self.rooms.get(session_id) is room:
            # Gone from the table before awaiting, so a newcomer opens a new Room, which waits until
            # this recording is closed before it continues the manifest.
            del self.rooms[session_id]
            if room.recording is not None:
                closing = asyncio.ensure_future(room.recording.close())
                self._closing[session_id] = closing
                try:
                    await asyncio.shield(closing)
                finally:
                    if self._closing.get(session_id) is closing:
                        del self._closing[session_id]

    async def pin(self, session_id: int, participant: str | None) -> None:
        """The host pins a participant's video for everyone (None: unpin)."""
        room = self.rooms.get(session_id)
        if room is None:
            raise UnknownPeer(f"no media in session {session_id}")
        room.pinned = participant
        for peer in room.peers.values():
            self.emit(session_id, room.tiles_event(peer))
        room.reassign()

    async def mute(self, session_id: int, participant: str, kind: str, muted: bool) -> None:
        """Note a mute or unmute the browser reported, as an event of the recording."""
        peer = self._peer(session_id, participant)
        if peer.room.recording is not None:
            peer.room.recording.event("mute" if muted else "unmute", participant=participant, kind=kind)

    def load(self) -> dict[str, Any]:
        """What the registry publishes: rooms, peers and forwarded packets per second."""
        now = time.monotonic()
        if now - self._rate_at >= 1.0:
            self._rate = self._forwarded / (now - self._rate_at)
            self._forwarded = 0
            self._rate_at = now
        return {
            "rooms": len(self.rooms),
            "peers": sum(len(r.peers) for r in self.rooms.values()),
            "packets_per_second": round(self._rate, 1),
        }

    async def close(self) -> None:
        """Close every connection and recording; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for room in list(self.rooms.values()):
            for peer in list(room.peers.values()):
                await self._drop(room, peer, reason="close")
            if room.recording is not None:
                await room.recording.close()
        self.rooms.clear()

    # --- inside ------------------------------------------------------------------------------

    def emit(self, session_id: int, event: dict[str, Any]) -> None:
        if self.config.on_event is not None:
            try:
                self.config.on_event(session_id, event)
            except Exception:
                logger.exception("rtc event sink failed")

    def _check_open(self) -> None:
        if self.closed:
            raise MediaServerClosed("the media server is closed")

    def _peer(self, session_id: int, participant: str) -> Peer:
        room = self.rooms.get(session_id)
        peer = room.peers.get(participant) if room is not None else None
        if peer is None or peer.closed:
            raise UnknownPeer(f"no media connection for {participant} in session {session_id}")
        return peer

    async def _answer(self, peer: Peer, shape: _OfferShape) -> str:
        pc = peer.pc
        if pc.signalingState != "stable":
            raise BadOffer("an offer is already being answered")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=shape.sdp, type="offer"))
        for transceiver in pc.getTransceivers():
            internals.silence_sender_rtcp(transceiver.sender)
            if transceiver.mid is None:
                continue
            if not internals.restrict_codecs(transceiver):
                raise BadOffer(f"section {transceiver.mid} offers no {internals.FORWARDED_CODECS[transceiver.kind]}")
            if shape.publish.get(transceiver.kind) == transceiver.mid:
                transceiver.direction = "recvonly"
            else:
                transceiver.direction = "sendonly"
                if transceiver.sender.track is None:
                    transceiver.sender.replaceTrack(internals.IdleTrack(transceiver.kind))
        await pc.setLocalDescription(await pc.createAnswer())
        if peer.raw is None:
            dtls = internals.dtls_transport(pc)
            assert dtls is not None
            peer.raw = internals.RawSender(dtls)
            internals.intercept_srtp(dtls, peer.on_rtp, peer.on_rtcp)
            internals.refuse_checks_from_elsewhere(dtls)
        peer.ufrag = shape.ufrag
        self._update_streams(peer, shape)
        return pc.localDescription.sdp

    def _update_streams(self, peer: Peer, shape: _OfferShape) -> None:
        answer = SessionDescription.parse(peer.pc.localDescription.sdp)
        by_mid = {m.rtp.muxId: m for m in answer.media}
        known = {s.mid for kind in ("audio", "video") for s in peer.slots[kind]}
        for transceiver in peer.pc.getTransceivers():
            mid = transceiver.mid
            media = by_mid.get(mid) if mid is not None else None
            if mid is None or media is None or not media.rtp.codecs:
                continue
            payload_type = media.rtp.codecs[0].payloadType
            assert payload_type is not None
            if not peer.cname and media.ssrc and media.ssrc[0].cname:
                peer.cname = media.ssrc[0].cname.encode()
            kind = transceiver.kind
            if shape.publish.get(kind) == mid:
                ssrcs = shape.ssrcs.get(mid, [])
                source = peer.sources.get(kind)
                if source is None or (ssrcs and source.ssrc != ssrcs[0]):
                    if source is not None:
                        source.close()
                    ext = next((e.id for e in media.rtp.headerExtensions if e.uri.endswith("ssrc-audio-level")), None)
                    source = Source(
                        server=self,
                        peer=peer,
                        kind=kind,
                        ssrc=ssrcs[0] if ssrcs else 0,
                        audio_level_ext=ext,
                        recorder=(
                            peer.room.recording.recorder(peer.participant, kind)
                            if peer.room.recording is not None
                            else None
                        ),
                    )
                    peer.sources[kind] = source
                    peer.by_ssrc = {s.ssrc: s for s in peer.sources.values()}
                    if kind == "video" and mid in shape.rtx:
                        peer.by_rtx = {shape.rtx[mid]: source}
                peer.rtcp_ssrc = internals.sender_ssrc(transceiver.sender)
            elif mid not in known and transceiver.direction == "sendonly":
                slot = Slot(
                    kind=kind,
                    mid=mid,
                    ssrc=internals.sender_ssrc(transceiver.sender),
                    payload_type=payload_type,
                    raw=peer.raw,
                )
                peer.slots[kind].append(slot)
                peer.by_slot_ssrc[slot.ssrc] = slot
        if not peer.rtcp_ssrc:
            for transceiver in peer.pc.getTransceivers():
                peer.rtcp_ssrc = internals.sender_ssrc(transceiver.sender)
                break

    async def _drop(self, room: Room, peer: Peer, reason: str) -> None:
        if room.peers.get(peer.participant) is peer:
            del room.peers[peer.participant]
        affected = set()
        for other in room.peers.values():
            for kind in ("audio", "video"):
                for slot in other.slots[kind]:
                    if slot.source is not None and slot.source.peer is peer:
                        slot.unbind()
                        affected.add(other.participant)
        await peer.close()
        if room.recording is not None and reason != "failed":
            room.recording.event("gap" if reason == "reconnect" else "leave", participant=peer.participant)
        if room.pinned == peer.participant and reason != "reconnect":
            room.pinned = None
        room.reassign(told=affected)

    def _watch(self, room: Room, peer: Peer) -> None:
        """Tell the room when a connection comes up or fails; a failed one is dropped (a gap if recorded)."""

        @peer.pc.on("connectionstatechange")
        async def changed() -> None:
            state = peer.pc.connectionState
            if peer.closed or state not in ("connected", "failed", "closed"):
                return
            event = {"type": "rtc.peer", "to": None, "participant": peer.participant, "state": state}
            self.emit(room.session_id, event)
            if state != "connected" and room.peers.get(peer.participant) is peer:
                await self._drop(room, peer, reason="reconnect")

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._housekeeping())

    async def _housekeeping(self) -> None:
        """4 Hz: speaking levels and last-N; 1 Hz: one compound RTCP per connection, keyframe retries."""
        tick = 0
        while True:
            await asyncio.sleep(0.25)
            tick += 1
            for room in list(self.rooms.values()):
                try:
                    self._levels(room)
                    if tick % 4 == 0:
                        self._rtcp(room)
                except Exception:
                    logger.exception("rtc housekeeping failed for session %s", room.session_id)

    def _levels(self, room: Room) -> None:
        now = time.monotonic()
        levels: dict[str, int] = {}
        moved = False
        for peer in room.peers.values():
            source = peer.sources.get("audio")
            if source is None:
                continue
            level = source.take_level()
            levels[peer.participant] = min(127, level // 4 * 4)  # coarser steps: fewer events, same meter
            if level <= source.speaking_threshold:
                moved |= room.speakers.spoke(peer.participant, now)
        if levels != room.last_levels:
            room.last_levels = levels
            speaking = [p for p, lv in levels.items() if lv <= Source.speaking_threshold]
            self.emit(room.session_id, {"type": "rtc.levels", "to": None, "levels": levels, "speaking": speaking})
        if moved:
            room.reassign()

    def _rtcp(self, room: Room) -> None:
        for peer in room.peers.values():
            for source in peer.sources.values():
                self._forwarded += source.take_forwarded()
                source.tick()
            if peer.raw is not None:
                for packet in peer.reports(self.config.remb_bps):
                    peer.raw.rtcp(packet)
            for kind in ("audio", "video"):
                for slot in peer.slots[kind]:
                    slot.tick()
