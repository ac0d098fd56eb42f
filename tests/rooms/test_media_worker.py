"""The media worker: a repeated request is answered from memory; a room whose worker died moves to a
live one on the client's retry; a drain asked through the registry is taken up at the next beat;
``run`` drains and leaves the registry on the stop signal; the command lists and drains workers."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.management import call_command

from rtc import protocol as wire
from rtc import signalling
from rtc.registry import WorkerInfo, make_registry
from rtc.worker import MediaWorker
from tests.rooms.media_support import peer

DISPLAY = {"user": 7, "name": "李明", "venue": "杭州", "role": "member"}


async def offer_message(rid: str, reply_to: str, session: int = 31) -> tuple[dict, RTCPeerConnection]:
    pc = peer(publish=True)
    await pc.setLocalDescription(await pc.createOffer())
    message = wire.request(
        rid,
        reply_to,
        session,
        f"session.{session}",
        "offer",
        participant="u7",
        sdp=pc.localDescription.sdp,
        can_publish=True,
        display=DISPLAY,
    )
    return message, pc


async def test_a_repeated_request_is_answered_from_memory_and_negotiated_once(media_workers):
    worker = await media_workers()
    channel = await get_channel_layer().new_channel("rtc.test.")
    message, pc = await offer_message("same-id", channel)
    try:
        first, again = await asyncio.gather(worker.handle(message), worker.handle(message))
        later = await worker.handle(message)
        assert first["ok"] and first == again == later
        # A second negotiation would have answered with a newer session version.
        await pc.setRemoteDescription(RTCSessionDescription(sdp=first["data"]["sdp"], type="answer"))
        assert worker.server.load()["peers"] == 1
    finally:
        await pc.close()


async def test_a_room_whose_worker_died_is_placed_on_a_live_one_when_the_client_asks_again(media_workers, settings):
    settings.RTC_WORKER_TTL_SECONDS = 2
    settings.RTC_WORKER_HEARTBEAT_SECONDS = 1
    settings.RTC_REQUEST_TIMEOUT_SECONDS = 1
    settings.RTC_REQUEST_ATTEMPTS = 5
    dead = await media_workers("dead")
    await dead.registry.place(31)
    # The process hangs: it reads nothing and beats no more; its last heartbeat lives out its TTL.
    for task in (dead._reader, dead._heart):
        task.cancel()
    live = await media_workers("live")
    _, pc = await offer_message("unused", "unused")
    try:
        answer = await signalling.request(
            31, "session.31", "offer", participant="u7", sdp=pc.localDescription.sdp, can_publish=True, display=DISPLAY
        )
        assert "a=fingerprint" in answer["sdp"]
        assert await live.registry.placement(31) == "live"
        assert live.server.load()["peers"] == 1
    finally:
        await pc.close()


async def test_a_drain_asked_in_the_registry_is_taken_up_at_the_next_beat_and_no_new_room_comes(media_workers):
    worker = await media_workers("w1")
    await worker.registry.request_drain("w1")
    info = await worker.step()
    assert info.draining and worker.draining
    assert [w.draining for w in await worker.registry.workers()] == [True]
    assert await worker.registry.place(77) is None


async def test_run_drains_on_the_signal_and_leaves_the_registry(media_workers):
    # media_workers (not called): its settings and a clean registry
    worker = MediaWorker(worker_id="runner")
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    for _ in range(50):
        if any(w.id == "runner" for w in await worker.registry.workers()):
            break
        await asyncio.sleep(0.05)
    registry = make_registry()
    try:
        assert [w.id for w in await registry.workers()] == ["runner"]
        stop.set()  # no room holds it: draining ends at once
        await asyncio.wait_for(running, 10)
        assert await registry.workers() == []
    finally:
        await registry.close()


async def test_the_command_lists_the_live_workers_and_asks_one_to_drain(media_workers):
    worker = await media_workers("listed")
    out = io.StringIO()
    await sync_to_async(call_command)("run_media_worker", "--list", stdout=out)
    listed = [WorkerInfo(**json.loads(line)) for line in out.getvalue().splitlines()]
    assert [w.id for w in listed] == ["listed"] and listed[0].channel == worker.channel
    await sync_to_async(call_command)("run_media_worker", "--drain", "listed", stdout=io.StringIO())
    assert (await worker.step()).draining


@pytest.mark.parametrize("address", ["192.0.2.2", "10.1.2.3"])
async def test_a_loopback_worker_ignores_candidates_it_could_not_reach(media_workers, address):
    worker = await media_workers()
    assert not worker._reachable(f"candidate:1 1 udp 2122260223 {address} 5000 typ host")
    assert worker._reachable("candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host")
    assert worker._reachable("candidate:1 1 udp 2122260223 abc.local 5000 typ host")
