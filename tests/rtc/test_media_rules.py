"""Who may publish, last-N, mDNS candidates, and bad signalling, at the media server's own API."""

from __future__ import annotations

import asyncio

import pytest

from rtc.lastn import SpeakerOrder, choose_tiles
from rtc.media import BadCandidate, BadOffer, MediaConfig, MediaServer, PublishRefused, UnknownPeer
from tests.rtc.media_peers import SESSION, connect


@pytest.fixture
async def server():
    events: list[tuple[int, dict]] = []
    media = MediaServer(
        MediaConfig(host_addresses=["127.0.0.1"], last_n=1, on_event=lambda s, e: events.append((s, e)))
    )
    media.events = events  # type: ignore[attr-defined]
    yield media
    await media.close()


async def test_a_supervisors_publish_is_refused_and_nothing_of_the_offer_is_applied(server):
    with pytest.raises(PublishRefused, match="may only receive"):
        await connect(server, "supervisor", publish=True, can_publish=False)
    assert server.load()["peers"] == 0


async def test_last_n_shows_the_most_recent_speaker(server):
    quiet = await connect(server, "expert_quiet", loud=False)
    loud = await connect(server, "expert_loud", loud=True)
    viewer = await connect(server, "expert_viewer", publish=False)

    def tiles() -> dict:
        mine = [e for _, e in server.events if e["type"] == "rtc.tiles" and e["to"] == "expert_viewer"]
        return mine[-1]["video"] if mine else {}

    try:
        for _ in range(40):
            if "expert_loud" in tiles().values():
                break
            await asyncio.sleep(0.1)
        assert "expert_loud" in tiles().values()
        assert "expert_quiet" not in tiles().values()  # last-N is 1 here
        levels = [e for _, e in server.events if e["type"] == "rtc.levels"]
        assert levels and "expert_loud" in levels[-1]["speaking"]

        assert loud.audio is not None and quiet.audio is not None
        loud.audio.loud, quiet.audio.loud = False, True
        for _ in range(40):
            if "expert_quiet" in tiles().values():
                break
            await asyncio.sleep(0.1)
        assert "expert_quiet" in tiles().values()
        frames = await viewer.frames(viewer.mids("video")[0], 3)
        assert frames[-1].width == 160
    finally:
        for client in (quiet, loud, viewer):
            await client.close()


def test_the_pinned_tile_comes_on_top_of_the_last_n_speakers():
    order = SpeakerOrder()
    order.spoke("b", 1.0)
    order.spoke("c", 2.0)
    choice = choose_tiles(
        viewer="a",
        video_publishers=["a", "b", "c", "d"],
        audio_publishers=["a", "b", "c", "d"],
        order=order,
        pinned="d",
        video_slots=7,
        audio_slots=2,
        last_n=2,
    )
    assert choice.video == ["d", "c", "b"]
    assert choice.audio == ["c", "b"]
    assert choice.audio_missing and choice.audio_needed == 3


async def test_local_mdns_candidates_are_dropped_without_a_lookup(server):
    viewer = await connect(server, "expert_b", publish=False)
    try:
        await server.add_candidate(
            SESSION,
            "expert_b",
            {"candidate": "candidate:1 1 udp 2122260223 3b0c9a4e-1234.local 50000 typ host", "sdpMid": "0"},
        )
        await server.add_candidate(
            SESSION, "expert_b", {"candidate": "candidate:2 1 udp 2122260223 127.0.0.1 50001 typ host", "sdpMid": "0"}
        )
        remote = viewer.pc  # the server side is what matters: no .local among its remote candidates
        peer = server.rooms[SESSION].peers["expert_b"]
        ice = peer.pc.getTransceivers()[0].receiver.transport.transport
        assert [c.ip for c in ice.getRemoteCandidates() if c.ip.endswith(".local")] == []
        assert remote is not None
    finally:
        await viewer.close()


async def test_bad_signalling_raises_named_errors_and_other_rooms_keep_their_media(server):
    other = await connect(server, "expert_a", session=2)
    watcher = await connect(server, "expert_b", publish=False, session=2)
    try:
        with pytest.raises(BadOffer):
            await server.negotiate(SESSION, "x", "not sdp", can_publish=True, display={})
        with pytest.raises(BadOffer):
            await server.negotiate(SESSION, "x", "v=0\r\nm=audio 9 UDP\r\n", can_publish=True, display={})
        with pytest.raises(UnknownPeer):
            await server.add_candidate(99, "nobody", {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"})
        with pytest.raises(UnknownPeer):
            await server.pin(99, "nobody")
        with pytest.raises(BadCandidate):
            await server.add_candidate(2, "expert_b", {"candidate": "candidate:garbage", "sdpMid": "0"})
        await server.leave(99, "nobody")
        frames = await watcher.frames(watcher.mids("video")[0], 3)
        assert frames[0].width == 160
    finally:
        await other.close()
        await watcher.close()


async def test_close_is_safe_twice(server):
    await server.close()
    await server.close()


async def test_mangled_offers_get_a_named_error_or_an_answer_and_the_server_keeps_serving(server):
    """Signalling fuzz: lines of a real offer dropped, cut short or garbled, one after the other."""
    import random

    from aiortc import RTCConfiguration, RTCPeerConnection
    from aiortc.rtcconfiguration import RTCBundlePolicy

    from rtc.media import MediaError

    watcher = await connect(server, "expert_w", publish=False, session=3)
    source = await connect(server, "expert_s", session=3)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    lines = pc.localDescription.sdp.splitlines()
    rng = random.Random(5)
    outcomes: list[str] = []
    try:
        for attempt in range(25):
            mangled = list(lines)
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(len(mangled))
                mangled[i] = rng.choice(["", "a=garbage", mangled[i][: len(mangled[i]) // 2], "m=video x y z"])
            try:
                await server.negotiate(SESSION, f"fuzz{attempt}", "\r\n".join(mangled), can_publish=False, display={})
                outcomes.append("answered")
            except MediaError as exc:
                outcomes.append(type(exc).__name__)
        assert "BadOffer" in outcomes
        frames = await watcher.frames(watcher.mids("video")[0], 3)
        assert frames[0].width == 160
    finally:
        await pc.close()
        await watcher.close()
        await source.close()
