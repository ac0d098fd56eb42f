"""A media worker in the test's event loop, and aiortc peers that join it through the room socket
as a browser would (rtc.offer → rtc.answer, then trickled candidates)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy
from django.conf import settings as django_settings

from rooms import media
from rtc import registry as rtc_registry
from rtc import signalling
from rtc.worker import MediaWorker
from tests.conftest import require_service
from tests.rtc.media_peers import PatternTrack, ToneTrack

if TYPE_CHECKING:
    from tests.rooms.conftest import Socket


async def clear_redis_registry() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(django_settings.REDIS_URL, socket_connect_timeout=3)
    try:
        keys = [key async for key in client.scan_iter("eval:rtc:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def media_workers(settings, tmp_path) -> AsyncIterator[Any]:
    """``await media_workers()`` starts a media worker in this loop (on Redis when REDIS_URL is set);
    every worker, and this loop's signalling client, is closed after the test."""
    settings.RTC_EMBEDDED_WORKER = False
    settings.RTC_ICE_HOST_ADDRESSES = ["127.0.0.1"]
    settings.RTC_STUN_URLS = []
    settings.RTC_RECORDING_DIR = tmp_path / "recordings"
    if settings.CI:
        require_service("Redis", bool(settings.REDIS_URL), "CI runs the media registry on Redis")
    if settings.REDIS_URL:
        await clear_redis_registry()
    rtc_registry.MEMORY.clear()
    started: list[MediaWorker] = []

    async def _start(worker_id: str | None = None) -> MediaWorker:
        worker = MediaWorker(worker_id=worker_id)
        await worker.start()
        started.append(worker)
        return worker

    yield _start
    await media.cancel_pending_leaves()
    await signalling.shutdown()
    for worker in started:
        await worker.close()
    rtc_registry.MEMORY.clear()


def peer(*, publish: bool, video_slots: int = 2, audio_slots: int = 2) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    if publish:
        pc.addTransceiver(ToneTrack(), direction="sendonly")
        pc.addTransceiver(PatternTrack(), direction="sendonly")
    for _ in range(video_slots):
        pc.addTransceiver("video", direction="recvonly")
    for _ in range(audio_slots):
        pc.addTransceiver("audio", direction="recvonly")
    return pc


async def reply_to(socket: Socket, frame: dict[str, Any], timeout: float = 20) -> dict[str, Any]:
    """Send ``frame`` with an id; the frame that answers it (rtc.answer, ack or error)."""
    frame = {"id": f"m-{uuid.uuid4().hex[:8]}", **frame}
    await socket.send(frame)
    skipped: list[dict[str, Any]] = []
    while True:
        reply = json.loads(await socket.communicator.receive_from(timeout))
        if reply.get("ref") == frame["id"] and reply["type"] in ("rtc.answer", "ack", "error"):
            socket.backlog.extend(skipped)
            return reply
        skipped.append(reply)


async def join_media(socket: Socket, pc: RTCPeerConnection) -> dict[str, Any]:
    """Offer through the room socket and apply the answer; the ``rtc.answer`` frame."""
    await pc.setLocalDescription(await pc.createOffer())
    reply = await reply_to(socket, {"type": "rtc.offer", "sdp": pc.localDescription.sdp})
    assert reply["type"] == "rtc.answer", reply
    await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["data"]["sdp"], type="answer"))
    return reply


@asynccontextmanager
async def in_media(socket: Socket) -> AsyncIterator[RTCPeerConnection]:
    """A publishing peer joined through ``socket`` for the block's length, then closed."""
    pc = peer(publish=True)
    try:
        await join_media(socket, pc)
        yield pc
    finally:
        await pc.close()
