"""Signalling fuzz through the room socket: malformed SDP, frames out of order, requests for rooms the
worker has never seen. Each gets an error frame (or error reply); the socket, the worker and the
other rooms carry on."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from rtc import protocol as wire
from tests.personas import build_cast
from tests.rooms.media_support import in_media, reply_to

pytestmark = pytest.mark.django_db(transaction=True)

BAD_OFFERS = [
    "",
    "hello",
    "v=0\r\n",
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n",
    "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF x\r\na=rtpmap:x\r\n" * 40,
    "v=0\r\n" + "a=candidate:" + "9" * 900 + "\r\n",
    "v=0\r\n\x00\xff\ud7ff",
]


@pytest.fixture
async def cast_async():
    return await database_sync_to_async(build_cast)()


async def test_malformed_offers_get_error_frames_and_the_socket_still_joins_afterwards(cast_async, join, media_workers):
    cast = cast_async
    worker = await media_workers()
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    for sdp in BAD_OFFERS:
        reply = await reply_to(li, {"type": "rtc.offer", "sdp": sdp})
        assert reply["type"] == "error", (sdp[:40], reply)
        assert reply["code"] in ("invalid", "too_large"), reply
    # Past the SDP limit the frame is not even read: its error cannot name the request.
    await li.send({"id": "big", "type": "rtc.offer", "sdp": "v=0\r\n" + "a=x\r\n" * 20000})
    too_big = await li.expect("error")
    assert too_big["code"] == "too_large"
    async with in_media(li):
        assert worker.server.load()["peers"] == 1


async def test_frames_out_of_order_are_refused_and_harm_nothing(cast_async, join, media_workers):
    cast = cast_async
    await media_workers()
    zhang = await join(cast.zhang, cast.session.pk)
    await zhang.expect("snapshot")
    candidate = {"type": "rtc.candidate", "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host"}
    early = await reply_to(zhang, {**candidate, "sdp_mid": "0", "sdp_mline_index": 0})
    assert early["type"] == "error" and early["code"] == "conflict"
    muted = await reply_to(zhang, {"type": "rtc.mute", "audio_muted": True, "video_muted": True})
    assert muted["code"] == "conflict"
    left = await reply_to(zhang, {"type": "rtc.leave"})
    assert left["type"] == "ack"  # leaving twice, or before joining, is no fault
    wrong = await reply_to(zhang, {"type": "rtc.candidate", "candidate": 5})
    assert wrong["code"] == "invalid"
    async with in_media(zhang):
        garbage = await reply_to(zhang, {"type": "rtc.candidate", "candidate": "candidate:not a candidate"})
        assert garbage["code"] == "invalid"
        fine = await reply_to(zhang, {**candidate, "sdp_mid": "0", "sdp_mline_index": 0})
        assert fine["type"] == "ack"


async def test_requests_for_unknown_rooms_and_malformed_requests_get_error_replies_and_other_rooms_go_on(
    cast_async, join, media_workers
):
    cast = cast_async
    worker = await media_workers()
    layer = get_channel_layer()
    reply_channel = await layer.new_channel("rtc.test.")
    unknown = wire.request("r1", reply_channel, 424242, "session.424242", "candidate", participant="u1", candidate="")
    garbage = [
        unknown,
        {**unknown, "rid": "r2", "op": "explode"},
        {**unknown, "rid": "r3", "session": "1"},
        {**unknown, "rid": "r4", "reply_to": reply_channel, "group": "bad group!"},
        wire.request("r5", reply_channel, 424242, "session.424242", "pin", participant=None),
    ]
    for message in garbage:
        reply = await worker.handle(message)
        assert reply is not None and reply["ok"] is False, reply
        assert reply["code"] in ("invalid", "conflict"), reply
    assert await worker.handle({"type": "rtc.request"}) is None  # nowhere to answer: dropped
    # The worker still serves the real room.
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    async with in_media(li):
        assert worker.server.load()["rooms"] == 1
