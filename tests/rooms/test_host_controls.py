"""The host's controls over the socket; each goes through the core's actions and is audited."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from evaluation import actions
from evaluation.models import AuditEvent, CommitteeMember, EvaluationSession, Phase
from rooms.consumers import Close
from tests.personas import advance_to

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def at_check_in(cast):
    actions.do_transition(cast.session, cast.host, "open_check_in")
    return cast


async def last_event(cast) -> AuditEvent:
    return await AuditEvent.objects.filter(session=cast.session).alatest("seq")


async def member_id(cast, user) -> int:
    return (await database_sync_to_async(cast.member)(user)).pk


async def test_host_verifies_an_expert_and_everyone_sees_the_check_in(at_check_in, join):
    cast = at_check_in
    host, zhang = await join(cast.host, cast.session.pk), await join(cast.zhang, cast.session.pk)
    await host.expect("snapshot"), await zhang.expect("snapshot")
    zhang_id = await member_id(cast, cast.zhang)
    reply = await host.request({"type": "verify", "member": zhang_id, "note": "身份证与人脸视频一致"})
    assert reply["type"] == "ack"
    event = await zhang.expect("member.checked_in")
    assert event["data"]["member"] == zhang_id and event["version"] == reply["version"]
    recorded = await last_event(cast)
    assert recorded.kind == "member.checked_in" and recorded.actor_name == "wang_host"
    assert recorded.payload["note"] == "身份证与人脸视频一致"


async def test_attendant_verifies_only_the_experts_of_their_own_venue(at_check_in, join):
    cast = at_check_in
    sun = await join(cast.sun, cast.session.pk)
    await sun.expect("snapshot")
    assert (await sun.request({"type": "verify", "member": await member_id(cast, cast.zhang)}))["type"] == "ack"
    refused = await sun.request({"type": "verify", "member": await member_id(cast, cast.chen)})
    assert refused["type"] == "error" and refused["code"] in ("forbidden", "refused")


async def test_attendant_gets_only_the_version_of_a_check_in_in_another_venue(at_check_in, join):
    cast = at_check_in
    sun = await join(cast.sun, cast.session.pk)
    await sun.expect("snapshot")
    await database_sync_to_async(actions.do_verify_member)(cast.session, cast.host, await member_id(cast, cast.chen))
    hidden = await sun.expect("hidden")
    assert (
        hidden["data"] == {}
        and hidden["version"] == (await EvaluationSession.objects.aget(pk=cast.session.pk)).audit_seq
    )


async def test_host_advances_the_phase_and_an_expert_may_not(cast, join):
    host, li = await join(cast.host, cast.session.pk), await join(cast.li, cast.session.pk)
    await host.expect("snapshot"), await li.expect("snapshot")
    refused = await li.request({"type": "transition", "name": "open_check_in"})
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert (await host.request({"type": "transition", "name": "open_check_in"}))["type"] == "ack"
    assert (await li.expect("phase.changed"))["data"]["to"] == "check_in"


async def test_only_the_leader_rolls_the_phase_back(cast, join):
    await database_sync_to_async(advance_to)(cast, Phase.DETAILED_REVIEW)
    host, li = await join(cast.host, cast.session.pk), await join(cast.li, cast.session.pk)
    await host.expect("snapshot")
    transitions = {t["name"] for t in (await li.expect("snapshot"))["data"]["transitions"]}
    assert "roll_back" in transitions
    refused = await host.request({"type": "transition", "name": "roll_back", "reason": "重新推选"})
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    reply = await li.request({"type": "transition", "name": "roll_back", "reason": "评审依据需重新确认"})
    assert reply["type"] == "ack"
    assert (await host.expect("phase.changed"))["data"]["to"] == "preliminary_review"


async def test_host_suspends_with_a_cause_and_resumes(at_check_in, join):
    cast = at_check_in
    host, li = await join(cast.host, cast.session.pk), await join(cast.li, cast.session.pk)
    await host.expect("snapshot"), await li.expect("snapshot")
    missing = await host.request({"type": "transition", "name": "suspend"})
    assert missing["type"] == "error" and missing["message"] == "请填写原因"
    assert (await host.request({"type": "transition", "name": "suspend", "reason": "宁波分会场网络中断"}))[
        "type"
    ] == "ack"
    suspended = await li.expect("phase.changed")
    assert suspended["data"]["to"] == "suspended" and suspended["data"]["reason"] == "宁波分会场网络中断"
    assert (await host.request({"type": "transition", "name": "resume"}))["type"] == "ack"
    assert (await li.expect("phase.changed"))["data"]["to"] == "check_in"


async def test_host_posts_a_notice_to_everyone_or_to_one_venue(at_check_in, join):
    cast = at_check_in
    host, zhang, chen = [await join(u, cast.session.pk) for u in (cast.host, cast.zhang, cast.chen)]
    for socket in (host, zhang, chen):
        await socket.expect("snapshot")
    await host.request({"type": "notice", "text": "请各分会场调试摄像头"})
    assert (await zhang.expect("host.notice"))["data"]["text"] == "请各分会场调试摄像头"
    assert (await chen.expect("host.notice"))["data"]["venue"] is None
    reply = await host.request({"type": "notice", "text": "宁波分会场请调高音量", "venue": cast.ningbo.pk})
    notice = await zhang.expect("host.notice")
    assert notice["data"]["text"] == "宁波分会场请调高音量" and notice["version"] == reply["version"]
    assert (await chen.expect("hidden"))["version"] == reply["version"]
    assert (await last_event(cast)).payload["venue"] == cast.ningbo.pk


async def test_expert_may_not_post_a_notice(at_check_in, join):
    cast = at_check_in
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    reply = await li.request({"type": "notice", "text": "大家好"})
    assert reply["type"] == "error" and reply["code"] == "forbidden"


async def test_removed_participant_is_disconnected_and_rejoins_only_once_the_host_readmits(at_check_in, join):
    cast = at_check_in
    host, chen = await join(cast.host, cast.session.pk), await join(cast.chen, cast.session.pk)
    await host.expect("snapshot"), await chen.expect("snapshot")
    chen_id = await member_id(cast, cast.chen)
    assert (await host.request({"type": "remove", "member": chen_id, "reason": "多次离席"}))["type"] == "ack"
    assert await chen.closed_with() == Close.REMOVED
    again = await join(cast.chen, cast.session.pk)
    assert await again.closed_with() == Close.FORBIDDEN
    assert (await host.request({"type": "readmit", "member": chen_id, "reason": "已说明情况"}))["type"] == "ack"
    back = await join(cast.chen, cast.session.pk)
    assert (await back.expect("snapshot"))["data"]["me"]["member"] == chen_id
    member = await CommitteeMember.objects.aget(pk=chen_id)
    assert member.removed_at is None
    assert (await last_event(cast)).kind == "member.readmitted"


async def test_expert_declares_and_a_recusal_locks_them_out(cast, join):
    await database_sync_to_async(advance_to)(cast, Phase.DECLARATIONS)
    chen, li = await join(cast.chen, cast.session.pk), await join(cast.li, cast.session.pk)
    snapshot = await chen.expect("snapshot")
    await li.expect("snapshot")
    assert "family" in snapshot["data"]["recusal_grounds"]
    assert (await chen.request({"type": "declare", "kind": "integrity"}))["type"] == "ack"
    await chen.send({"type": "declare", "kind": "recusal", "grounds": ["family"]})
    assert (await li.expect("member.recused"))["data"]["name"] == "陈静"
    assert await chen.closed_with() == Close.FORBIDDEN


async def test_vote_is_counted_without_revealing_the_ballot(cast, join):
    await database_sync_to_async(advance_to)(cast, Phase.LEADER_ELECTION)
    li, zhang = await join(cast.li, cast.session.pk), await join(cast.zhang, cast.session.pk)
    await li.expect("snapshot"), await zhang.expect("snapshot")
    assert (await zhang.request({"type": "vote", "candidate": await member_id(cast, cast.li)}))["type"] == "ack"
    cast_event = await li.expect("vote.cast")
    assert cast_event["data"] == {"round": 1, "cast": 1, "seated": 5}
    again = await zhang.request({"type": "vote", "candidate": None})
    assert again["type"] == "error" and again["code"] == "conflict"
