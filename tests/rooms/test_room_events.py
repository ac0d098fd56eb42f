"""Events reach every socket of the room after commit, versioned when audited, and clients can resync."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from evaluation import actions
from evaluation.models import EvaluationSession, Phase
from tests.personas import advance_to, declare_all

pytestmark = pytest.mark.django_db(transaction=True)


async def head(cast) -> int:
    return (await EvaluationSession.objects.aget(pk=cast.session.pk)).audit_seq


async def test_phase_change_reaches_every_member_with_the_version_it_produced(cast, join):
    li, zhang = await join(cast.li, cast.session.pk), await join(cast.zhang, cast.session.pk)
    host = await join(cast.host, cast.session.pk)
    for socket in (li, zhang, host):
        await socket.expect("snapshot")
    reply = await host.request({"type": "transition", "name": "open_check_in"})
    assert reply["type"] == "ack" and reply["version"] == await head(cast)
    for socket in (li, zhang, host):
        event = await socket.expect("phase.changed")
        assert event["version"] == reply["version"]
        assert event["data"]["from"] == "scheduled" and event["data"]["to"] == "check_in"


async def test_presence_hand_and_typing_do_not_bump_the_version(cast, join):
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    before = await head(cast)
    zhang = await join(cast.zhang, cast.session.pk)
    joined = await li.expect("presence", name="张华")
    assert joined["data"]["state"] == "joined" and "version" not in joined
    assert (await zhang.request({"type": "hand", "raised": True}))["type"] == "ack"
    raised = await li.expect("hand.raised")
    assert raised["data"]["name"] == "张华" and "version" not in raised
    await zhang.send({"type": "typing", "id": "t1"})
    typing = await li.expect("typing")
    assert typing["ref"] == "t1" and "version" not in typing
    await zhang.send({"type": "hand", "raised": False})
    assert "version" not in await li.expect("hand.lowered")
    # Lowering a hand that is down changes nothing, and is still answered.
    assert (await zhang.request({"type": "hand", "raised": False}))["type"] == "ack"
    assert await head(cast) == before


async def test_raised_hands_are_in_the_snapshot_of_a_late_joiner(cast, join):
    zhang = await join(cast.zhang, cast.session.pk)
    await zhang.expect("snapshot")
    await zhang.send({"type": "hand", "raised": True})
    await zhang.expect("hand.raised")
    host = await join(cast.host, cast.session.pk)
    hands = (await host.expect("snapshot"))["data"]["hands"]
    assert [h["user"] for h in hands] == [cast.zhang.pk]


async def test_ping_carries_the_head_version_so_a_lost_event_is_noticed(cast, join, settings):
    settings.ROOM_PING_SECONDS = 1
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    ping = await li.expect("ping", timeout=3)
    assert ping["version"] == await head(cast)


async def test_hello_with_an_old_version_resyncs_and_with_the_head_is_acknowledged(cast, join):
    li = await join(cast.li, cast.session.pk)
    stale = (await li.expect("snapshot"))["version"]
    await database_sync_to_async(actions.do_transition)(cast.session, cast.host, "open_check_in")
    await li.expect("phase.changed")
    await li.send({"type": "hello", "last_version": stale, "id": "again"})
    snapshot = await li.expect("snapshot")
    assert snapshot["version"] == await head(cast)
    assert snapshot["data"]["session"]["phase"] == "check_in"
    reply = await li.request({"type": "hello", "last_version": snapshot["version"]})
    assert reply == {"type": "ack", "ref": reply["ref"], "version": snapshot["version"]}


async def test_resync_sends_a_fresh_snapshot(cast, join):
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    await li.send({"type": "resync"})
    assert (await li.expect("snapshot"))["version"] == await head(cast)


async def test_reconnecting_with_the_last_version_resumes_with_what_happened_meanwhile(cast, join):
    li = await join(cast.li, cast.session.pk)
    last = (await li.expect("snapshot"))["version"]
    await li.close()
    await database_sync_to_async(actions.do_transition)(cast.session, cast.host, "open_check_in")
    await database_sync_to_async(actions.do_post_notice)(cast.session, cast.host, "九点开始核验")
    again = await join(cast.li, cast.session.pk)
    await again.send({"type": "hello", "last_version": last})
    snapshot = await again.expect("snapshot")
    assert snapshot["version"] == last + 2
    assert snapshot["data"]["session"]["phase"] == "check_in"
    assert [n["text"] for n in snapshot["data"]["notices"]] == ["九点开始核验"]


async def test_chat_is_kept_and_reaches_readers_but_the_attendant_only_sees_the_version(cast, join):
    await database_sync_to_async(actions.do_transition)(cast.session, cast.host, "open_check_in")
    li, sun, zheng = [await join(u, cast.session.pk) for u in (cast.li, cast.sun, cast.zheng)]
    for socket in (li, sun, zheng):
        await socket.expect("snapshot")
    reply = await li.request({"type": "chat", "text": "  甲单位的业绩证明需要核实  "})
    assert reply["type"] == "ack"
    message = await zheng.expect("chat.message")
    assert message["data"]["text"] == "甲单位的业绩证明需要核实" and message["version"] == reply["version"]
    assert await sun.expect("hidden") == {"type": "hidden", "data": {}, "version": reply["version"]}
    late = await join(cast.zhang, cast.session.pk)
    assert [c["text"] for c in (await late.expect("snapshot"))["data"]["chat"]] == ["甲单位的业绩证明需要核实"]


async def test_opening_the_election_sends_each_event_with_its_own_version_in_order(cast, join):
    await database_sync_to_async(advance_to)(cast, Phase.DECLARATIONS)
    await database_sync_to_async(declare_all)(cast)
    li = await join(cast.li, cast.session.pk)
    start = (await li.expect("snapshot"))["version"]
    await database_sync_to_async(actions.do_transition)(cast.session, cast.host, "open_election")
    first, second = await li.expect("phase.changed"), await li.expect("election.round_opened")
    assert (first["type"], first["version"]) == ("phase.changed", start + 1)
    assert (second["type"], second["version"]) == ("election.round_opened", start + 2)


async def test_an_attempt_on_sealed_data_alerts_the_host_and_only_advances_the_members_version(cast, join):
    host, li = await join(cast.host, cast.session.pk), await join(cast.li, cast.session.pk)
    await host.expect("snapshot"), await li.expect("snapshot")
    await database_sync_to_async(
        lambda: EvaluationSession.objects.filter(pk=cast.session.pk).update(phase="sealed_overnight")
    )()
    await database_sync_to_async(actions.record_sealed_access)(cast.session.pk, cast.li, "session page")
    alert = await host.expect("sealed.access_refused")
    assert alert["data"] == {"what": "session page", "by": "li"}
    assert (await li.expect("hidden"))["version"] == alert["version"]


async def test_the_snapshot_speaks_the_language_of_the_page(cast, join):
    li = await join(cast.li, cast.session.pk, language="en")
    data = (await li.expect("snapshot"))["data"]
    assert data["session"]["phase_label"] == "Scheduled"
    assert data["recusal_grounds"]["family"].startswith("Close relative")
    refused = await li.request({"type": "transition", "name": "open_check_in"})
    assert refused["message"] == "open_check_in: only host may do this in this session"


async def test_a_refusal_comes_in_chinese_to_a_chinese_page(cast, join):
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    refused = await li.request({"type": "transition", "name": "open_check_in"})
    assert refused["message"] == "open_check_in：本评标会中只有 host 可以进行此操作"
