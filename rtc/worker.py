"""A media worker: the process (``manage.py run_media_worker``; on the embedded default, a task in
the web process) that owns a ``MediaServer`` and every peer connection of the rooms placed on it.

It reads signalling requests from its own channel-layer channel, answers each on the sender's reply
channel, and sends the media server's events (renegotiate, levels, tiles, recording) to the room's
group, where every web process's hub hands them to the room's sockets. Its heartbeat in the
registry (``rtc/registry.py``) carries its channel, its load and whether it drains.

Requests arrive at most once and may be repeated under the same id: the worker remembers each
answer for ``REPLY_MEMORY_SECONDS`` and answers a repeat from memory (or waits for the first, if it
is still being worked on), so an offer is never negotiated twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from rtc import media as media_server
from rtc import protocol
from rtc.protocol import ErrorCode, MediaError
from rtc.registry import Registry, WorkerInfo, make_registry

log = logging.getLogger(__name__)

REPLY_MEMORY_SECONDS = 60.0
# How long a draining worker waits for its rooms to empty before it stops anyway.
DRAIN_LIMIT_SECONDS = 4 * 3600

# The media server's refusals, as the codes the room shows.
_CODES: dict[type[media_server.MediaError], str] = {
    media_server.BadOffer: ErrorCode.INVALID,
    media_server.BadCandidate: ErrorCode.INVALID,
    media_server.PublishRefused: ErrorCode.FORBIDDEN,
    media_server.UnknownPeer: ErrorCode.CONFLICT,
    media_server.MediaServerClosed: ErrorCode.UNAVAILABLE,
}


def media_config(on_event: media_server.EventSink) -> media_server.MediaConfig:
    return media_server.MediaConfig(
        ice_servers=server_ice_servers(),
        host_addresses=list(settings.RTC_ICE_HOST_ADDRESSES) or None,
        last_n=settings.RTC_LAST_N,
        recordings_dir=settings.RTC_RECORDING_DIR,
        segment_seconds=float(settings.RTC_RECORDING_SEGMENT_SECONDS),
        on_event=on_event,
    )


def server_ice_servers() -> list[dict[str, Any]]:
    """The worker's own ICE servers: STUN only (it has public addresses or sits beside coturn).
    Always the configured list, empty by default: aiortc would otherwise ask a public STUN host."""
    return [{"urls": url} for url in settings.RTC_STUN_URLS]


@dataclass
class _Remembered:
    until: float
    reply: asyncio.Future[dict[str, Any]]


@dataclass
class _RoomState:
    """What the worker keeps about a room beyond its peer connections: where its events go, and
    each participant's microphone and camera state (for late joiners' tiles)."""

    group: str
    mutes: dict[str, dict[str, bool]] = field(default_factory=dict)


class MediaWorker:
    def __init__(
        self,
        *,
        registry: Registry | None = None,
        layer: BaseChannelLayer | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.id = worker_id or uuid.uuid4().hex[:12]
        self.registry = registry or make_registry()
        self.layer = layer or get_channel_layer()
        self.channel = ""
        self.server: media_server.MediaServer | None = None
        self.draining = False
        hosts = list(settings.RTC_ICE_HOST_ADDRESSES)
        self._loopback_only = bool(hosts) and all(ipaddress.ip_address(h).is_loopback for h in hosts)
        self.rooms: dict[int, _RoomState] = {}
        self._replies: dict[str, _Remembered] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._heart: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._events: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()
        self._closed = False

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        assert self.layer is not None, "the media worker needs a channel layer (CHANNEL_LAYERS)"
        settings.RTC_RECORDING_DIR.mkdir(parents=True, exist_ok=True)
        self.server = media_server.MediaServer(media_config(self._on_event))
        self.channel = await self.layer.new_channel("rtc.worker.")
        self._reader = asyncio.create_task(self._read())
        self._sender = asyncio.create_task(self._send_events())
        await self.step()
        self._heart = asyncio.create_task(self._beat())
        log.info("media worker %s listening on %s", self.id, self.channel)

    def info(self) -> WorkerInfo:
        load = self.server.load() if self.server is not None else {}
        return WorkerInfo(
            id=self.id,
            channel=self.channel,
            load=float(load.get("peers", 0)),
            rooms=int(load.get("rooms", 0)),
            draining=self.draining,
        )

    def busy(self) -> bool:
        """Does any room here still have a participant?"""
        return self.server is not None and self.server.load().get("peers", 0) > 0

    async def step(self) -> WorkerInfo:
        """One beat of the worker's clock: the heartbeat (load, drain flag), and old answers forgotten.

        A drain an operator asked for in the registry is picked up here.
        """
        info = self.info()
        if await self.registry.heartbeat(info) and not self.draining:
            log.info("media worker %s drains: no new rooms", self.id)
            self.draining = True
            info = self.info()
            await self.registry.heartbeat(info)
        now = time.monotonic()
        for rid in [rid for rid, r in self._replies.items() if r.until <= now and r.reply.done()]:
            del self._replies[rid]
        return info

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(settings.RTC_WORKER_HEARTBEAT_SECONDS)
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis restarting, say: the next beat tries again (the TTL allows a few misses).
                log.exception("media worker %s: heartbeat failed", self.id)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; then drain (no new rooms) until the rooms are empty, or
        ``stop`` is set a second time, and close."""
        await self.start()
        try:
            await stop.wait()
            stop.clear()
            self.draining = True
            await self.step()
            log.info("media worker %s drains", self.id)
            limit = time.monotonic() + DRAIN_LIMIT_SECONDS
            while self.busy() and not stop.is_set() and time.monotonic() < limit:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.RTC_WORKER_HEARTBEAT_SECONDS)
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop reading, close every peer connection and recording, leave the registry. Safe twice."""
        if self._closed:
            return
        self._closed = True
        running = [t for t in (self._heart, self._reader, *self._tasks) if t is not None]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self.server is not None:
            await self.server.close()
        if self._sender is not None:
            # The last events (leaves) go out first; a sentinel, not cancel(): a cancellation that
            # lands inside the channel layer's send can be swallowed there.
            self._events.put_nowait(None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sender, 5)
        with contextlib.suppress(Exception):
            await self.registry.forget(self.id)
        await self.registry.close()

    # --- requests -------------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self.layer is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("media worker %s could not read its channel", self.id)
                await asyncio.sleep(0.5)
                continue
            self._spawn(self.handle(message))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Answer one request from the channel layer (to its reply channel) and return the answer.

        Each request runs in its own task: a slow offer does not hold up another room.
        """
        rid = message.get("rid")
        reply_to = message.get("reply_to")
        if not isinstance(rid, str) or not isinstance(reply_to, str):
            log.warning("media worker %s dropped a request without rid or reply_to", self.id)
            return None
        remembered = self._replies.get(rid)
        if remembered is None:
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._replies[rid] = _Remembered(time.monotonic() + REPLY_MEMORY_SECONDS, future)
            future.set_result(await self._answer(rid, message))
        reply = await asyncio.shield(self._replies[rid].reply)
        assert self.layer is not None
        try:
            await self.layer.send(reply_to, reply)
        except Exception:
            # The sender asks again under the same id; the answer is remembered for it.
            log.exception("media worker %s could not reply to %s", self.id, reply_to)
        return reply

    async def _answer(self, rid: str, message: dict[str, Any]) -> dict[str, Any]:
        try:
            request = protocol.parse_request(message)
            # One request at a time per room: the media server's room changes (a leave that empties
            # it, an offer that joins it) must not interleave; other rooms go on meanwhile.
            async with self._room_lock(request.session):
                return protocol.reply_ok(rid, await self._apply(request))
        except MediaError as exc:
            return protocol.reply_error(rid, exc)
        except media_server.MediaError as exc:
            return protocol.reply_error(rid, MediaError(_CODES.get(type(exc), ErrorCode.INVALID), str(exc)))
        except Exception:
            log.exception("media worker %s failed on request %s", self.id, rid)
            return protocol.reply_error(rid, MediaError(ErrorCode.INTERNAL, "the media worker failed on this request"))

    async def _apply(self, request: protocol.Request) -> dict[str, Any]:
        server = self.server
        if server is None:
            raise MediaError(ErrorCode.UNAVAILABLE, "the media worker is not started")
        session = request.session
        if isinstance(request, protocol.Offer):
            if session not in server.rooms and self.draining:
                raise MediaError(ErrorCode.UNAVAILABLE, "this media worker is draining")
            room = self.rooms.setdefault(session, _RoomState(group=request.group))
            room.group = request.group
            sdp = await server.negotiate(
                session,
                request.participant,
                request.sdp,
                can_publish=request.can_publish,
                display=request.display.model_dump(),
            )
            return {"sdp": sdp, "mutes": room.mutes}
        if isinstance(request, protocol.Candidate):
            candidate = None
            if request.candidate and not self._reachable(request.candidate):
                return {}
            if request.candidate:
                candidate = {
                    "candidate": request.candidate,
                    "sdpMid": request.sdp_mid,
                    "sdpMLineIndex": request.sdp_mline_index,
                }
            await server.add_candidate(session, request.participant, candidate)
            return {}
        if isinstance(request, protocol.Leave):
            await server.leave(session, request.participant)
            state = self.rooms.get(session)
            if state is not None:
                state.mutes.pop(request.participant, None)
            await self._forget_if_empty(session)
            return {}
        if isinstance(request, protocol.Pin):
            await server.pin(session, request.participant)
            return {}
        return await self._mute(server, request)

    def _room_lock(self, session: int) -> asyncio.Lock:
        lock = self._locks.get(session)
        if lock is None:
            lock = self._locks[session] = asyncio.Lock()
        return lock

    def _reachable(self, candidate: str) -> bool:
        """A worker that gathers on loopback only (tests, the embedded default) pairs with loopback
        candidates only: the browser's others would only send checks to its machine's other
        addresses."""
        if not self._loopback_only:
            return True
        parts = candidate.removeprefix("candidate:").split()
        try:
            return ipaddress.ip_address(parts[4]).is_loopback
        except (IndexError, ValueError):
            return True  # malformed, or a name (.local): the media server refuses or drops those itself

    async def _mute(self, server: media_server.MediaServer, request: protocol.Mute) -> dict[str, Any]:
        room = self.rooms.get(request.session)
        if room is None:
            raise MediaError(ErrorCode.CONFLICT, "mute before joining the room's media")
        before = room.mutes.get(request.participant, {"audio_muted": False, "video_muted": False})
        now = {"audio_muted": request.audio_muted, "video_muted": request.video_muted}
        for kind in ("audio", "video"):
            if before[f"{kind}_muted"] != now[f"{kind}_muted"]:
                await server.mute(request.session, request.participant, kind, now[f"{kind}_muted"])
        room.mutes[request.participant] = now
        self._on_event(request.session, {"type": "rtc.muted", "to": None, "participant": request.participant, **now})
        return {}

    async def _forget_if_empty(self, session: int) -> None:
        if self.server is not None and session not in self.server.rooms:
            self.rooms.pop(session, None)
            await self.registry.release(session, self.id)

    # --- events ---------------------------------------------------------------------------------

    def _on_event(self, session_id: int, event: dict[str, Any]) -> None:
        """The media server's event (called synchronously): queued for the room's group, in order."""
        room = self.rooms.get(session_id)
        if room is None:
            return
        kind = str(event.get("type", ""))
        data = {k: v for k, v in event.items() if k != "type"}
        self._events.put_nowait((room.group, {"type": kind, "data": data}))

    async def _send_events(self) -> None:
        assert self.layer is not None
        while True:
            event = await self._events.get()
            if event is None:
                return
            group, message = event
            try:
                await self.layer.group_send(group, message)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A lost tile or level update is repaired by the next; a lost renegotiate by the
                # browser's own re-offer after a reconnect.
                log.exception("media worker %s could not send %s", self.id, message.get("type"))
