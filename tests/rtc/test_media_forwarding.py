"""The media server forwards a publisher's VP8 and Opus to its subscribers without transcoding."""

from __future__ import annotations

import asyncio

import pytest

from rtc.media import MediaConfig, MediaServer
from tests.rtc.media_peers import SESSION, connect


@pytest.fixture
async def server():
    events: list[tuple[int, dict]] = []
    media = MediaServer(MediaConfig(host_addresses=["127.0.0.1"], on_event=lambda s, e: events.append((s, e))))
    media.events = events  # type: ignore[attr-defined]
    yield media
    await media.close()


async def test_two_subscribers_decode_the_forwarded_vp8_and_opus_frame_by_frame(server):
    publisher = await connect(server, "expert_a")
    viewers = [await connect(server, name, publish=False) for name in ("expert_b", "supervisor")]
    try:
        for viewer in viewers:
            video_mid = viewer.mids("video")[0]
            audio_mid = viewer.mids("audio")[0]
            frames = await viewer.frames(video_mid, 10)
            assert all(f.width == 160 and f.height == 120 for f in frames)
            assert len({bytes(f.planes[0])[:1] for f in frames}) > 1  # the picture changes
            audio = await viewer.frames(audio_mid, 20)
            assert all(f.sample_rate == 48000 for f in audio)
        assert server.load()["peers"] == 3
    finally:
        for client in (publisher, *viewers):
            await client.close()


async def test_a_late_subscriber_gets_a_decodable_picture(server):
    publisher = await connect(server, "expert_a")
    try:
        await asyncio.sleep(2)
        late = await connect(server, "expert_late", publish=False)
        frames = await late.frames(late.mids("video")[0], 3, timeout=5)
        assert frames[0].width == 160
        await late.close()
    finally:
        await publisher.close()


async def test_packets_lost_on_the_publishers_leg_are_asked_for_again_and_forwarded(server):
    publisher = await connect(server, "expert_a")
    viewer = await connect(server, "expert_b", publish=False)
    try:
        await viewer.frames(viewer.mids("video")[0], 2)
        source = server.rooms[SESSION].peers["expert_a"].sources["video"]
        forward = source.on_rtp
        dropped: set[int] = set()

        def lossy(plain: bytes, rtx: bool = False) -> None:
            seq = (plain[2] << 8) | plain[3]
            if not rtx and seq % 7 == 0 and seq not in dropped and len(dropped) < 5:
                dropped.add(seq)
                return
            forward(plain, rtx)

        source.on_rtp = lossy
        frames = await viewer.frames(viewer.mids("video")[0], 30)
        assert len(dropped) >= 3
        assert source.lost >= len(dropped) and source.recovered >= len(dropped)
        assert frames[-1].width == 160
    finally:
        await publisher.close()
        await viewer.close()


async def test_a_viewers_nack_is_answered_from_its_own_legs_history(server):
    publisher = await connect(server, "expert_a")
    viewer = await connect(server, "expert_b", publish=False)
    try:
        mid = viewer.mids("video")[0]
        await viewer.frames(mid, 2)
        slot = next(s for s in server.rooms[SESSION].peers["expert_b"].slots["video"] if s.mid == mid)
        real = slot.raw
        dropped: set[int] = set()

        class Lossy:
            def send_rtp(self, first: int, second: int, seq: int, timestamp: int, ssrc: int, payload: bytes) -> None:
                if seq % 5 == 0 and seq not in dropped and len(dropped) < 4:
                    dropped.add(seq)
                    return
                real.send_rtp(first, second, seq, timestamp, ssrc, payload)

        slot.raw = Lossy()
        frames = await viewer.frames(mid, 30)
        assert len(dropped) >= 3
        assert slot.retransmitted >= len(dropped)
        assert frames[-1].width == 160
    finally:
        await publisher.close()
        await viewer.close()


async def test_a_viewer_that_went_away_neither_stops_the_others_nor_a_newcomer(server):
    publisher = await connect(server, "expert_a")
    staying = await connect(server, "expert_b", publish=False)
    leaving = await connect(server, "expert_c", publish=False)
    try:
        await leaving.frames(leaving.mids("video")[0], 2)
        await leaving.close()  # the page closed: no leave through signalling
        for _ in range(50):
            if "expert_c" not in server.rooms[SESSION].peers:
                break
            await asyncio.sleep(0.1)
        assert "expert_c" not in server.rooms[SESSION].peers
        newcomer = await connect(server, "expert_d", publish=False)
        assert (await newcomer.frames(newcomer.mids("video")[0], 3))[0].width == 160
        assert (await staying.frames(staying.mids("video")[0], 3))[0].width == 160
        await newcomer.close()

        await publisher.close()
        for _ in range(50):
            tiles = [e for _, e in server.events if e["type"] == "rtc.tiles" and e["to"] == "expert_b"]
            if tiles and "expert_a" not in tiles[-1]["video"].values():
                break
            await asyncio.sleep(0.1)
        assert "expert_a" not in tiles[-1]["video"].values()  # the viewer is told the tile is gone
    finally:
        await staying.close()
