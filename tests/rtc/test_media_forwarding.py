"""The media server forwards a publisher's VP8 and Opus to its subscribers without transcoding."""

from __future__ import annotations

import asyncio

import pytest

from rtc.media import MediaConfig, MediaServer
from tests.rtc.media_peers import connect


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
