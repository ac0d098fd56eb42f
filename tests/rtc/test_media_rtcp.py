"""The media server's RTCP: sender reports only for slots that carry media, real reception reports to publishers."""

from __future__ import annotations

import asyncio

import pytest

from rtc import rtcp
from rtc.forward import AUDIO_BITRATE
from rtc.media import MediaConfig, MediaServer
from tests.rtc.media_peers import SESSION, connect


@pytest.fixture
async def server():
    media = MediaServer(MediaConfig(host_addresses=["127.0.0.1"]))
    yield media
    await media.close()


async def _stats(pc, kind: str) -> list:
    report = await pc.getStats()
    return [s for s in report.values() if s.type == kind]


async def test_a_viewer_gets_sender_reports_for_the_slots_that_carry_media_and_none_for_idle_ones(server):
    publisher = await connect(server, "expert_a")
    viewer = await connect(server, "expert_b", publish=False, video_slots=3, audio_slots=3)
    try:
        await viewer.frames(viewer.mids("video")[0], 2)
        slots = server.rooms[SESSION].peers["expert_b"].slots
        busy = {s.ssrc for kind in ("audio", "video") for s in slots[kind] if s.source is not None}
        assert len(busy) == 2
        reported: set[int] = set()
        for _ in range(40):
            reported = {s.ssrc for s in await _stats(viewer.pc, "remote-outbound-rtp") if s.packetsSent}
            if reported == busy:
                break
            await asyncio.sleep(0.1)
        assert reported == busy
    finally:
        await publisher.close()
        await viewer.close()


async def test_a_publisher_hears_what_arrived_of_its_streams_with_the_round_trip_time(server):
    publisher = await connect(server, "expert_a")
    try:
        inbound: list = []
        for _ in range(60):
            inbound = [s for s in await _stats(publisher.pc, "remote-inbound-rtp") if s.roundTripTime is not None]
            if len(inbound) == 2:
                break
            await asyncio.sleep(0.1)
        assert {s.kind for s in inbound} == {"audio", "video"}
        assert all(s.packetsLost == 0 and 0 <= s.roundTripTime < 1 for s in inbound)
        assert all(s.packetsReceived > 0 for s in inbound)
    finally:
        await publisher.close()


async def test_a_publishers_remb_follows_what_its_viewers_can_take(server):
    publisher = await connect(server, "expert_a")
    viewer = await connect(server, "expert_b", publish=False)
    try:
        await viewer.frames(viewer.mids("video")[0], 2)
        room = server.rooms[SESSION]
        sending, watching = room.peers["expert_a"], room.peers["expert_b"]
        slot = next(s for s in watching.slots["video"] if s.source is not None)

        def remb() -> int:
            (item,) = [i for p in sending.reports(2_000_000) for i in rtcp.parse(p) if isinstance(i, rtcp.Remb)]
            assert set(item.ssrcs) == {s.ssrc for s in sending.sources.values()}
            return item.bitrate - AUDIO_BITRATE

        # The viewer can take 600 kb/s for the two video streams it names: this one gets half.
        watching.on_rtcp(rtcp.remb(1, 600_000, [slot.ssrc, 12345]))
        assert remb() == 300_000
        # A fresh, larger estimate, but the viewer loses half of what this slot sends: backing off.
        watching.on_rtcp(rtcp.remb(1, 20_000_000, [slot.ssrc]))
        lossy = rtcp.ReportBlock(slot.ssrc, 128, 50, 0, 0, 0, 0)
        watching.on_rtcp(rtcp.receiver_report(1, [lossy]))
        first, second = remb(), remb()
        assert second < first < 2_000_000
        assert slot.fraction_lost == 128
    finally:
        await publisher.close()
        await viewer.close()
