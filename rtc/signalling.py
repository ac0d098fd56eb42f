"""The web process's side of media signalling: a request to the worker that holds the room, and
its reply, over the channel layer.

One client per event loop owns a reply channel and matches replies to requests by id. The channel
layer delivers at most once, so a request not answered within ``RTC_REQUEST_TIMEOUT_SECONDS`` is
sent again with the same id (the worker answers a repeated id from memory, so an offer is never
negotiated twice), up to ``RTC_REQUEST_ATTEMPTS`` times; each attempt asks the registry again, so a
room whose worker died is placed on a live one. On the embedded default the worker runs in this
process, started with the first request.

This module does not import aiortc: a web process that only relays signalling never loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from rtc import protocol
from rtc.protocol import ErrorCode, MediaError
from rtc.registry import Registry, make_registry

log = logging.getLogger(__name__)


class SignalClient:
    def __init__(self, registry: Registry | None = None) -> None:
        self.layer = get_channel_layer()
        self.registry = registry or make_registry()
        self.channel = ""
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        assert self.layer is not None, "media signalling needs a channel layer (CHANNEL_LAYERS)"
        self.channel = await self.layer.new_channel("rtc.reply.")
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()
        await self.registry.close()

    async def _read(self) -> None:
        assert self.layer is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("media signalling could not read its reply channel")
                await asyncio.sleep(0.5)
                continue
            future = self.pending.get(str(message.get("rid", "")))
            if future is not None and not future.done():
                future.set_result(message)

    async def request(self, session_id: int, group: str, op: str, **fields: Any) -> dict[str, Any]:
        """Send one request to the room's worker and return its reply's data, or ``MediaError``."""
        assert self.layer is not None
        rid = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        message = protocol.request(rid, self.channel, session_id, group, op, **fields)
        try:
            for _ in range(settings.RTC_REQUEST_ATTEMPTS):
                worker = await self.registry.place(session_id)
                if worker is None and await ensure_embedded_worker():
                    worker = await self.registry.place(session_id)
                if worker is None:
                    raise MediaError(ErrorCode.UNAVAILABLE, "no media worker is running")
                await self.layer.send(worker.channel, message)
                try:
                    # shield: a timed-out attempt keeps the future, a late reply to it still counts.
                    reply = await asyncio.wait_for(asyncio.shield(future), settings.RTC_REQUEST_TIMEOUT_SECONDS)
                except TimeoutError:
                    log.warning("media worker %s did not answer %s %s in time", worker.id, op, rid)
                    continue
                if reply.get("ok"):
                    data = reply.get("data")
                    return data if isinstance(data, dict) else {}
                raise MediaError(str(reply.get("code", ErrorCode.INTERNAL)), str(reply.get("message", "")))
            raise MediaError(ErrorCode.UNAVAILABLE, "the media worker did not answer")
        finally:
            self.pending.pop(rid, None)


# --- the process's client and embedded worker, one per event loop --------------------------------

_client: SignalClient | None = None
_worker: Any = None
_loop: asyncio.AbstractEventLoop | None = None
_lock: asyncio.Lock | None = None


def _this_loop() -> asyncio.Lock:
    # Tests run each case in its own loop: what belonged to another loop is forgotten.
    global _client, _worker, _loop, _lock
    loop = asyncio.get_running_loop()
    if _loop is not loop or _lock is None:
        _client, _worker, _loop, _lock = None, None, loop, asyncio.Lock()
    return _lock


async def client() -> SignalClient:
    global _client
    async with _this_loop():
        if _client is None:
            started = SignalClient()
            await started.start()
            _client = started
        return _client


async def ensure_embedded_worker() -> bool:
    """Start this process's media worker on the embedded default; True if one runs here now."""
    global _worker
    if not settings.RTC_EMBEDDED_WORKER:
        return False
    async with _this_loop():
        if _worker is None:
            from rtc.worker import MediaWorker  # aiortc is loaded only where media runs

            started = MediaWorker()
            await started.start()
            _worker = started
    return True


async def request(session_id: int, group: str, op: str, **fields: Any) -> dict[str, Any]:
    return await (await client()).request(session_id, group, op, **fields)


async def shutdown() -> None:
    """Close this loop's client and embedded worker (tests; a process's end)."""
    global _client, _worker
    async with _this_loop():
        current_client, current_worker = _client, _worker
        _client, _worker = None, None
    if current_client is not None:
        await current_client.close()
    if current_worker is not None:
        await current_worker.close()
