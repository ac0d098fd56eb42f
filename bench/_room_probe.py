"""A throwaway room, to explore how Channels fans out: an ASGI app speaking the room's wire shapes.

``BENCH_PROBE_MODE`` picks the design (read once, at import):

- ``naive``: each connection's consumer joins the session group with its own channel; each typing
  event is one ``group_send``, which every consumer receives from the layer, decodes and encodes;
  messages go through Channels' stock ``dispatch`` (one thread hop per message, to close old
  database connections).
- ``naive-fast``: the same, with a ``dispatch`` that calls the handler directly (no thread hop).
- ``hub``: a process-local fan-out hub: per session per process ONE layer channel in the group and
  ONE reader task, which encodes each event once and hands the text to each local connection;
  the consumers have no layer channel of their own. Client frames are dispatched without the hop.

Same stack as ``config.asgi`` (origin check, Django session auth), same URL, same group name as
``evaluation.events.session_group``. Served by daphne or uvicorn as ``bench._room_probe:application``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._room_settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from evaluation.events import session_group  # noqa: E402

MODE = os.environ.get("BENCH_PROBE_MODE", "naive")
PING_SECONDS = 5.0

PROFILE = os.environ.get("BENCH_PROBE_PROFILE", "")  # exploration: cProfile 20 s from the first event
_profiling: list[Any] = []


def _profile_from_now() -> None:
    import cProfile

    profile = cProfile.Profile()
    _profiling.append(profile)
    profile.enable()

    def dump() -> None:
        profile.disable()
        profile.dump_stats(f"{PROFILE}.{os.getpid()}")

    asyncio.get_running_loop().call_later(20, dump)


class _Room(AsyncWebsocketConsumer):
    """What the modes share: connect, snapshot, pings, the typing frame in and out."""

    fast_dispatch = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        if not self.fast_dispatch:
            await super().dispatch(message)
            return
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"no handler for {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.member = user.pk
        self.group = session_group(int(self.scope["url_route"]["kwargs"]["session_id"]))
        await self.join()
        await self.accept()
        await self.send(text_data=json.dumps({"type": "snapshot", "version": 0, "data": {"member": self.member}}))
        self.pinger = asyncio.create_task(self.ping())

    async def ping(self) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            await self.send(text_data=json.dumps({"type": "ping", "version": 0}))

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "pinger"):
            self.pinger.cancel()
        if hasattr(self, "group"):
            await self.leave()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            return
        if frame.get("type") == "typing":
            if PROFILE and not _profiling:
                _profile_from_now()
            event = {"type": "room.typing", "ref": str(frame.get("id", ""))[:64], "member": self.member}
            await get_channel_layer().group_send(self.group, event)

    async def join(self) -> None:
        raise NotImplementedError

    async def leave(self) -> None:
        raise NotImplementedError


def typing_text(event: dict[str, Any]) -> str:
    return json.dumps({"type": "typing", "ref": event["ref"], "data": {"member": event["member"]}})


class NaiveRoom(_Room):
    async def join(self) -> None:
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def leave(self) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def room_typing(self, event: dict[str, Any]) -> None:
        await self.send(text_data=typing_text(event))


class NaiveFastRoom(NaiveRoom):
    fast_dispatch = True


class Hub:
    """One session's fan-out in this process: one layer channel, one reader, N local connections."""

    hubs: dict[str, Hub] = {}

    def __init__(self, group: str) -> None:
        self.group = group
        self.members: set[HubRoom] = set()
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def join(cls, group: str, consumer: HubRoom) -> None:
        hub = cls.hubs.get(group)
        if hub is None:
            hub = cls.hubs[group] = Hub(group)
            hub.task = asyncio.create_task(hub.run())
        hub.members.add(consumer)
        await hub.ready.wait()

    @classmethod
    async def leave(cls, group: str, consumer: HubRoom) -> None:
        hub = cls.hubs.get(group)
        if hub is None:
            return
        hub.members.discard(consumer)
        if not hub.members and hub.task is not None:
            del cls.hubs[group]
            hub.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hub.task

    async def run(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self.ready.set()
        try:
            while True:
                event = await layer.receive(channel)
                if event.get("type") != "room.typing":
                    continue
                message = {"type": "websocket.send", "text": typing_text(event)}
                for consumer in list(self.members):
                    await consumer.base_send(message)
        finally:
            await layer.group_discard(self.group, channel)


class HubRoom(_Room):
    channel_layer_alias = "no-layer-of-its-own"  # get_channel_layer() answers None: no channel
    fast_dispatch = True

    async def join(self) -> None:
        await Hub.join(self.group, self)

    async def leave(self) -> None:
        await Hub.leave(self.group, self)


CONSUMERS = {"naive": NaiveRoom, "naive-fast": NaiveFastRoom, "hub": HubRoom}

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("ws/sessions/<int:session_id>/", CONSUMERS[MODE].as_asgi())]))
        ),
    }
)
