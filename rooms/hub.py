"""One fan-out hub per session per web process.

The naive Channels design gives every socket its own channel in the session's group, so each event
is queued, decoded and dispatched once per socket. Here each process joins the session's group once:
the hub reads each event from the channel layer once, encodes it once, and hands it to every local
consumer, which sends it on (or filters it for its viewer). docs/PERFORMANCE.md has the figures.

The hub also owns the room's clock: a ping with the head version to every local socket, so a lost
last event is noticed, and the sweep of expired presence, so a member whose connection dropped is
shown disconnected to everyone.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from evaluation.events import session_group
from rooms import protocol
from rooms.presence import Connection, PresenceStore, make_store
from rooms.snapshot import head_version

if TYPE_CHECKING:
    from rooms.consumers import RoomConsumer

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0
READ_RETRY_SECONDS = 0.5
REJOIN_TICKS = 3600


class Frame:
    """An event from the channel layer, with its wire text made at most once for all sockets."""

    __slots__ = ("__dict__", "message")

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message

    @property
    def type(self) -> str:
        return str(self.message.get("type", ""))

    @property
    def data(self) -> dict[str, Any]:
        data = self.message.get("data")
        return data if isinstance(data, dict) else {}

    @property
    def version(self) -> int | None:
        version = self.message.get("version")
        return version if isinstance(version, int) else None

    @cached_property
    def text(self) -> str:
        return protocol.encode(
            protocol.event_frame(self.type, self.data, version=self.version, ref=self.message.get("ref"))
        )

    @cached_property
    def hidden_text(self) -> str:
        """What a viewer who may not see the event gets: its version alone, so no gap appears."""
        return protocol.encode(protocol.event_frame("hidden", {}, version=self.version))


class SessionHub:
    def __init__(self, session_id: int) -> None:
        self.session_id = session_id
        self.group = session_group(session_id)
        self.consumers: set[RoomConsumer] = set()
        self.store: PresenceStore = make_store()
        self.layer = get_channel_layer()
        self.channel = ""
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        assert self.layer is not None, "the room needs a channel layer (CHANNEL_LAYERS)"
        self.channel = await self.layer.new_channel("room.")
        await self.layer.group_add(self.group, self.channel)
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._tick())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.layer is not None and self.channel:
            await self.layer.group_discard(self.group, self.channel)
        await self.store.close()

    async def publish(
        self, event_type: str, data: dict[str, Any], *, ref: str | None = None, origin: str | None = None
    ) -> None:
        """An ephemeral event (presence, hand, typing, shared view) to every process's sockets of this
        session; ``origin``, the sending connection, lets its own socket skip it."""
        assert self.layer is not None
        message: dict[str, Any] = {"type": event_type, "data": data}
        if ref is not None:
            message["ref"] = ref
        if origin is not None:
            message["origin"] = origin
        await self.layer.group_send(self.group, message)

    async def _read(self) -> None:
        assert self.layer is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis restarting, say: the sockets' pings show the head, so clients resync any loss.
                log.exception("room hub of session %s could not read the channel layer", self.session_id)
                await asyncio.sleep(READ_RETRY_SECONDS)
                continue
            await self.deliver(Frame(message))

    async def deliver(self, frame: Frame) -> None:
        for consumer in list(self.consumers):
            try:
                await consumer.on_event(frame)
            except Exception:
                # One broken socket must not starve the others of the event.
                log.exception("delivering %s to a room socket failed", frame.type)

    async def _tick(self) -> None:
        ticks_per_ping = max(1, round(settings.ROOM_PING_SECONDS / SWEEP_SECONDS))
        tick = 0
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            tick += 1
            try:
                await self.sweep()
                if tick % ticks_per_ping == 0:
                    await self.ping()
                if tick % REJOIN_TICKS == 0 and self.layer is not None:
                    # The in-memory and core Redis layers forget a group member after a day
                    # (group_expiry); a room may stay open longer than that.
                    await self.layer.group_add(self.group, self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room clock of session %s", self.session_id)

    async def ping(self) -> None:
        text = protocol.encode(protocol.ping_frame(await database_sync_to_async(head_version)(self.session_id)))
        for consumer in list(self.consumers):
            await consumer.send_text(text)

    async def sweep(self) -> None:
        for gone in await self.store.sweep(self.session_id):
            await self.announce_left(gone)

    async def announce_left(self, gone: Connection) -> None:
        remaining = await self.store.connections(self.session_id)
        if not any(c.user == gone.user for c in remaining):
            await self.publish("presence", presence_data(gone, "left"))
            if await self.store.set_hand(self.session_id, gone.user, False):
                await self.publish("hand.lowered", {"user": gone.user, "venue": gone.venue})


def presence_data(c: Connection, state: str) -> dict[str, Any]:
    return {
        "user": c.user,
        "name": c.name,
        "venue": c.venue,
        "member": c.member,
        "roles": list(c.roles),
        "state": state,
    }


# --- the process's hubs -------------------------------------------------------------------------

_hubs: dict[int, SessionHub] = {}
_lock: asyncio.Lock | None = None
_lock_loop: asyncio.AbstractEventLoop | None = None


def _registry_lock() -> asyncio.Lock:
    # One lock per event loop: tests run each case in its own loop.
    global _lock, _lock_loop
    loop = asyncio.get_running_loop()
    if _lock is None or _lock_loop is not loop:
        _lock, _lock_loop = asyncio.Lock(), loop
        _hubs.clear()
    return _lock


async def attach(consumer: RoomConsumer, session_id: int) -> SessionHub:
    async with _registry_lock():
        hub = _hubs.get(session_id)
        if hub is None:
            hub = SessionHub(session_id)
            await hub.start()
            _hubs[session_id] = hub
        hub.consumers.add(consumer)
        return hub


async def detach(consumer: RoomConsumer, hub: SessionHub) -> None:
    async with _registry_lock():
        hub.consumers.discard(consumer)
        if not hub.consumers and _hubs.get(hub.session_id) is hub:
            del _hubs[hub.session_id]
            await hub.stop()
