"""Recusal locks an expert out of the session; the host seats a replacement."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from evaluation import actions
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Expert, Phase
from evaluation.permissions import can_view_session, session_roles
from tests.personas import advance_to, prepare


def test_declaring_a_recusal_ground_locks_the_expert_out_of_the_session(cast):
    advance_to(cast, Phase.DECLARATIONS)
    actions.do_declare(cast.session, cast.chen, "recusal", grounds=["employment_or_shares"])
    member = cast.member(cast.chen)
    assert member.recused_at is not None and "任职" in member.recusal_reason
    assert session_roles(cast.chen, cast.session) == frozenset()
    assert not can_view_session(cast.chen, cast.session)
    with pytest.raises(Refused) as info:
        actions.do_declare(cast.session, cast.chen, "integrity")
    assert info.value.code == "forbidden"
    assert AuditEvent.objects.filter(session=cast.session, kind="member.recused").count() == 1


def test_the_election_cannot_open_until_the_recused_expert_is_replaced_and_verified(cast):
    advance_to(cast, Phase.DECLARATIONS)
    prepare(cast, Phase.LEADER_ELECTION)  # everyone declares, no grounds
    recused = cast.member(cast.zhang)
    actions.do_recuse_member(cast.session, cast.host, recused.pk, reason="经核查，系投标人乙的股东")
    with pytest.raises(Refused, match="at least 5"):
        actions.do_transition(cast.session, cast.host, "open_election")
    replacement = actions.do_add_member(cast.session, cast.host, cast.qian, venue=cast.ningbo, replaces_id=recused.pk)
    assert replacement.replaces == recused
    with pytest.raises(Refused, match="not yet verified: 钱进"):
        actions.do_transition(cast.session, cast.host, "open_election")
    actions.do_verify_member(cast.session, cast.sun, replacement.pk)
    with pytest.raises(Refused, match="declarations missing: 钱进"):
        actions.do_transition(cast.session, cast.host, "open_election")
    actions.do_declare(cast.session, cast.qian, "recusal", grounds=[])
    actions.do_declare(cast.session, cast.qian, "integrity")
    actions.do_transition(cast.session, cast.host, "open_election")
    assert cast.refresh().phase == Phase.LEADER_ELECTION


def test_a_recused_member_is_replaced_only_once_and_a_seated_one_not_at_all(cast):
    recused = cast.member(cast.zhang)
    actions.do_recuse_member(cast.session, cast.host, recused.pk, reason="近亲属关系")
    actions.do_add_member(cast.session, cast.host, cast.qian, venue=cast.ningbo, replaces_id=recused.pk)
    with pytest.raises(Refused, match="not yet replaced"):
        actions.do_add_member(cast.session, cast.host, cast.outsider, venue=cast.main, replaces_id=recused.pk)
    with pytest.raises(Refused, match="recused or removed"):
        actions.do_add_member(
            cast.session, cast.host, cast.outsider, venue=cast.main, replaces_id=cast.member(cast.li).pk
        )


def test_other_grounds_need_details_and_unknown_grounds_are_refused(cast):
    advance_to(cast, Phase.DECLARATIONS)
    with pytest.raises(Refused, match="details is required"):
        actions.do_declare(cast.session, cast.li, "recusal", grounds=["other_interest"])
    with pytest.raises(Refused, match="unknown recusal grounds"):
        actions.do_declare(cast.session, cast.li, "recusal", grounds=["likes_bidder"])
    actions.do_declare(cast.session, cast.li, "integrity")
    with pytest.raises(Refused, match="already been made"):
        actions.do_declare(cast.session, cast.li, "integrity")
    assert cast.member(cast.li).is_seated


def test_a_supervisor_who_is_also_a_pool_expert_cannot_sit_on_the_committee_they_supervise(cast):
    cast.zheng.groups.add(Group.objects.get(name="expert"))
    Expert.objects.create(user=cast.zheng, full_name="郑监督", city="杭州")
    zheng = type(cast.zheng).objects.get(pk=cast.zheng.pk)  # group membership is read once per user object
    with pytest.raises(Refused, match="already has a role"):
        actions.do_add_member(cast.session, cast.host, zheng, venue=cast.main)
