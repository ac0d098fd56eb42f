"""The snapshot a socket gets on connect: the room as its viewer may see it, with the head version."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from evaluation import actions
from evaluation.models import Phase
from tests.personas import advance_to

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def in_election(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    actions.do_cast_vote(cast.session, cast.zhang, cast.member(cast.li).pk)
    return cast


async def test_expert_sees_phase_committee_declarations_and_the_head_version(in_election, join):
    cast = in_election
    li = await join(cast.li, cast.session.pk)
    frame = await li.receive()
    session = await database_sync_to_async(cast.refresh)()
    assert frame["type"] == "snapshot"
    assert frame["version"] == session.audit_seq
    data = frame["data"]
    assert data["session"]["phase"] == "leader_election"
    members = {m["name"]: m for m in data["members"]}
    assert set(members) == {"李明", "张华", "陈静", "刘洋", "赵代表"}
    assert members["张华"]["venue"] == cast.ningbo.pk
    assert members["张华"]["checked_in_at"] is not None
    assert members["张华"]["declared"] == ["integrity", "recusal"]
    assert data["election"]["cast"] == 1 and data["election"]["seated"] == 5
    assert data["election"]["voted"] is False
    assert data["leader"] is None
    assert [p["name"] for p in data["presence"]] == ["李明"]
    assert data["audit"] is None, "the audit feed is for the host and the supervisor"
    assert "cast_vote" in data["actions"]


async def test_snapshot_names_the_elected_leader(in_election, join):
    cast = in_election
    await database_sync_to_async(
        lambda: [
            actions.do_cast_vote(cast.session, u, cast.member(cast.li).pk)
            for u in (cast.li, cast.chen, cast.liu, cast.zhao)
        ]
    )()
    zhang = await join(cast.zhang, cast.session.pk)
    data = (await zhang.receive())["data"]
    li_member = await database_sync_to_async(cast.member)(cast.li)
    assert data["leader"] == li_member.pk
    assert data["election"]["open"] is False


async def test_attendant_sees_only_the_seats_of_their_venue(cast, join):
    sun = await join(cast.sun, cast.session.pk)
    data = (await sun.receive())["data"]
    assert [m["name"] for m in data["members"]] == ["张华"]
    assert [v["city"] for v in data["venues"]] == ["宁波"]
    assert data["chat"] == []


async def test_host_sees_the_audit_feed_and_what_they_may_do(cast, join):
    host = await join(cast.host, cast.session.pk)
    data = (await host.receive())["data"]
    assert data["audit"][0]["kind"] == "session.created"
    assert {"name": "open_check_in", "blocked": None} in data["transitions"]


async def test_members_see_each_other_present_but_never_the_supervisor(cast, join):
    zheng = await join(cast.zheng, cast.session.pk)
    await zheng.receive()
    li = await join(cast.li, cast.session.pk)
    li_roll = [p["name"] for p in (await li.receive())["data"]["presence"]]
    host = await join(cast.host, cast.session.pk)
    host_roll = {p["name"] for p in (await host.receive())["data"]["presence"]}
    assert li_roll == ["李明"]
    assert host_roll == {"李明", "郑监督", "王主持"}
