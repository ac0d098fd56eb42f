"""Media signalling through the room socket: the socket relays the browser's offer over the channel
layer to the room's media worker and returns its answer; the worker's events reach the room's
sockets; supervisors only receive; bad signalling gets error frames and harms nobody else."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from evaluation import actions
from evaluation.models import AuditEvent
from tests.personas import build_cast
from tests.rooms.media_support import in_media, join_media, peer, reply_to

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def cast_async():
    return await database_sync_to_async(build_cast)()


async def test_two_experts_meet_through_the_room_socket_and_see_each_other_s_tiles(cast_async, join, media_workers):
    cast = cast_async
    await media_workers()
    li, zhang = await join(cast.li, cast.session.pk), await join(cast.zhang, cast.session.pk)
    await li.expect("snapshot")
    await zhang.expect("snapshot")
    pcs = [peer(publish=True), peer(publish=True)]
    try:
        await join_media(li, pcs[0])
        answer = await join_media(zhang, pcs[1])
        assert "a=fingerprint" in answer["data"]["sdp"]
        tiles = await li.expect("rtc.tiles", timeout=10)
        assert f"u{cast.zhang.pk}" in tiles["data"]["video"].values()
        shown = tiles["data"]["display"][f"u{cast.zhang.pk}"]
        assert shown == {"user": cast.zhang.pk, "name": "张华", "venue": "宁波", "role": "member"}
        mid = next(m for m, p in tiles["data"]["video"].items() if p == f"u{cast.zhang.pk}")
        track = next(t.receiver.track for t in pcs[0].getTransceivers() if t.mid == mid)
        frame = await asyncio.wait_for(track.recv(), 10)
        assert getattr(frame, "width", None) == 160
    finally:
        for pc in pcs:
            await pc.close()


async def test_a_supervisor_receives_but_an_offer_that_sends_is_refused(cast_async, join, media_workers):
    cast = cast_async
    await media_workers()
    zheng = await join(cast.zheng, cast.session.pk)
    await zheng.expect("snapshot")
    sending, receiving = peer(publish=True), peer(publish=False)
    try:
        await sending.setLocalDescription(await sending.createOffer())
        refused = await reply_to(zheng, {"type": "rtc.offer", "sdp": sending.localDescription.sdp})
        assert refused["type"] == "error" and refused["code"] == "forbidden"
        await join_media(zheng, receiving)
        muted = await reply_to(zheng, {"type": "rtc.mute", "audio_muted": True, "video_muted": False})
        assert muted["code"] == "forbidden"
    finally:
        await sending.close()
        await receiving.close()


async def test_only_the_host_pins_or_asks_someone_to_mute_and_the_request_reaches_only_them(
    cast_async, join, media_workers
):
    cast = cast_async
    await media_workers()
    host, li, zhang = [await join(u, cast.session.pk) for u in (cast.host, cast.li, cast.zhang)]
    for socket in (host, li, zhang):
        await socket.expect("snapshot")
    refused = await reply_to(li, {"type": "rtc.please_mute", "user": cast.zhang.pk})
    assert refused["code"] == "forbidden"
    refused = await reply_to(li, {"type": "rtc.pin", "user": cast.zhang.pk})
    assert refused["code"] == "forbidden"
    ack = await reply_to(host, {"type": "rtc.please_mute", "user": cast.zhang.pk})
    assert ack["type"] == "ack"
    asked = await zhang.expect("rtc.please_mute")
    assert asked["data"]["by"] == "王主持"
    assert asked["version"] == ack["version"]
    # The others learn only that the audit trail moved on.
    assert (await li.expect("hidden"))["version"] == ack["version"]


async def test_the_hosts_request_to_mute_is_kept_in_the_audit_trail(cast_async, join, media_workers):
    cast = cast_async
    await media_workers()
    host = await join(cast.host, cast.session.pk)
    await host.expect("snapshot")
    ack = await reply_to(host, {"type": "rtc.please_mute", "user": cast.zhang.pk})
    assert ack["type"] == "ack"
    refused = await reply_to(host, {"type": "rtc.please_mute", "user": cast.bidder_a_user.pk})
    assert refused["type"] == "error"  # a bidder never joins the media

    def audited() -> list[dict]:
        events = AuditEvent.objects.filter(session=cast.session, kind="rtc.please_mute")
        return [dict(e) for e in events.values("seq", "actor", "payload")]

    (event,) = await database_sync_to_async(audited)()
    assert event["seq"] == ack["version"] and event["actor"] == cast.host.pk
    assert event["payload"] == {"to": f"u{cast.zhang.pk}", "user": cast.zhang.pk, "by": "王主持"}


async def test_mute_state_reaches_the_room_and_a_late_joiner_gets_it_in_the_answer(cast_async, join, media_workers):
    cast = cast_async
    await media_workers()
    li, zhang = await join(cast.li, cast.session.pk), await join(cast.zhang, cast.session.pk)
    await li.expect("snapshot")
    await zhang.expect("snapshot")
    pcs = [peer(publish=True), peer(publish=True)]
    try:
        await join_media(li, pcs[0])
        ack = await reply_to(li, {"type": "rtc.mute", "audio_muted": True, "video_muted": False})
        assert ack["type"] == "ack"
        event = await li.expect("rtc.muted")
        assert event["data"] == {"to": None, "participant": f"u{cast.li.pk}", "audio_muted": True, "video_muted": False}
        answer = await join_media(zhang, pcs[1])
        assert answer["data"]["mutes"][f"u{cast.li.pk}"]["audio_muted"] is True
    finally:
        for pc in pcs:
            await pc.close()


async def test_a_removed_member_leaves_the_media_at_once(cast_async, join, media_workers):
    cast = cast_async
    worker = await media_workers()
    chen = await join(cast.chen, cast.session.pk)
    await chen.expect("snapshot")
    async with in_media(chen):
        assert worker.server.load()["peers"] == 1
        await database_sync_to_async(
            lambda: actions.do_remove_member(cast.session.pk, cast.host, cast.member(cast.chen).pk, reason="离席")
        )()
        assert await chen.closed_with(5) == 4409
        for _ in range(50):
            if worker.server.load()["peers"] == 0:
                break
            await asyncio.sleep(0.1)
        assert worker.server.load()["peers"] == 0


async def test_a_page_that_went_away_leaves_the_media_after_the_grace_unless_it_came_back(
    cast_async, join, media_workers, settings
):
    cast = cast_async
    settings.RTC_LEAVE_GRACE_SECONDS = 1
    worker = await media_workers()
    first = await join(cast.zhang, cast.session.pk)
    await first.expect("snapshot")
    pc = peer(publish=True)
    try:
        await join_media(first, pc)
        await first.close()
        back = await join(cast.zhang, cast.session.pk)  # the page reconnects within the grace
        await back.expect("snapshot")
        await asyncio.sleep(1.5)
        assert worker.server.load()["peers"] == 1
        await back.close()  # this socket never offered: its close changes nothing
        await asyncio.sleep(1.5)
        assert worker.server.load()["peers"] == 1
        gone = await join(cast.zhang, cast.session.pk)
        await gone.expect("snapshot")
        await join_media(gone, pc)
        await gone.close()
        await asyncio.sleep(1.5)
        assert worker.server.load()["peers"] == 0
    finally:
        await pc.close()
