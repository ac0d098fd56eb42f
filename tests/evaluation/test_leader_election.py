"""The secret ballot for leader, in a live session."""

from __future__ import annotations

from unittest import mock

import pytest

from evaluation import actions
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Ballot, ElectionRound, Phase
from tests.personas import Cast, advance_to


def vote(cast: Cast, choices: dict) -> None:
    """choices: voter -> candidate user (or None for a blank ballot)."""
    for voter, candidate in choices.items():
        actions.do_cast_vote(cast.session, voter, cast.member(candidate).pk if candidate else None)


def test_a_majority_elects_the_leader(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    vote(cast, {cast.li: cast.zhang, cast.zhang: cast.zhang, cast.chen: cast.zhang, cast.liu: cast.li, cast.zhao: None})
    assert cast.refresh().leader().user == cast.zhang
    elected = AuditEvent.objects.get(session=cast.session, kind="leader.elected")
    assert elected.payload["by"] == "majority" and elected.payload["round"] == 1


def test_without_a_majority_the_top_two_go_to_a_runoff(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    vote(cast, {cast.li: cast.li, cast.zhang: cast.li, cast.chen: cast.chen, cast.liu: cast.chen, cast.zhao: cast.liu})
    assert cast.refresh().leader() is None
    runoff = ElectionRound.objects.get(session=cast.session, number=2)
    assert {m.user for m in runoff.candidates.all()} == {cast.li, cast.chen}
    with pytest.raises(Refused, match="not a candidate in round 2"):
        actions.do_cast_vote(cast.session, cast.zhao, cast.member(cast.liu).pk)
    vote(cast, {cast.li: cast.li, cast.zhang: cast.li, cast.chen: cast.chen, cast.liu: cast.li, cast.zhao: cast.chen})
    assert cast.refresh().leader().user == cast.li


def test_after_three_rounds_without_a_majority_a_recorded_draw_decides(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    split = {cast.li: cast.li, cast.zhang: cast.li, cast.chen: cast.chen, cast.liu: cast.chen, cast.zhao: None}
    vote(cast, split)
    vote(cast, split)
    with mock.patch("secrets.SystemRandom.choice", side_effect=lambda seq: seq[-1]):  # the draw leaves the machine
        vote(cast, split)
    leader = cast.refresh().leader()
    assert leader is not None and leader.user in (cast.li, cast.chen)
    drawn = AuditEvent.objects.get(session=cast.session, kind="leader.elected")
    assert drawn.payload["by"] == "draw" and drawn.payload["round"] == 3
    assert sorted(drawn.payload["among"]) == sorted([cast.member(cast.li).pk, cast.member(cast.chen).pk])
    assert drawn.payload["member"] == leader.pk


def test_the_tenderers_representative_cannot_be_elected_in_government_procurement(procurement_cast):
    cast = procurement_cast
    advance_to(cast, Phase.LEADER_ELECTION)
    first = ElectionRound.objects.get(session=cast.session, number=1)
    assert cast.member(cast.zhao) not in first.candidates.all()
    with pytest.raises(Refused, match="not a candidate"):
        actions.do_cast_vote(cast.session, cast.li, cast.member(cast.zhao).pk)


def test_the_tenderers_representative_can_be_elected_in_an_engineering_tender(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    vote(cast, {u: cast.zhao for u in cast.committee})
    assert cast.refresh().leader().user == cast.zhao


def test_a_member_votes_once_per_round_and_ballots_do_not_name_the_voter(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    actions.do_cast_vote(cast.session, cast.li, cast.member(cast.zhang).pk)
    with pytest.raises(Refused, match="already voted"):
        actions.do_cast_vote(cast.session, cast.li, cast.member(cast.chen).pk)
    assert {f.name for f in Ballot._meta.get_fields()} == {"id", "round", "candidate"}
    cast_event = AuditEvent.objects.get(session=cast.session, kind="vote.cast")
    assert set(cast_event.payload) == {"round", "cast", "seated"}


@pytest.mark.parametrize("who", ["host", "zheng", "outsider", "bidder_a_user"])
def test_only_seated_members_vote(cast, who):
    advance_to(cast, Phase.LEADER_ELECTION)
    with pytest.raises(Refused) as info:
        actions.do_cast_vote(cast.session, getattr(cast, who), cast.member(cast.li).pk)
    assert info.value.code == "forbidden"


def test_a_committee_that_is_not_five_or_more_and_odd_cannot_start(cast):
    actions.do_remove_member(cast.session, cast.host, cast.member(cast.liu).pk, reason="未到场")
    with pytest.raises(Refused, match="at least 5"):
        actions.do_transition(cast.session, cast.host, "open_check_in")
    actions.do_add_member(cast.session, cast.host, cast.qian, venue=cast.ningbo)
    actions.do_add_member(cast.session, cast.host, cast.outsider, venue=cast.main)
    with pytest.raises(Refused, match="odd"):
        actions.do_transition(cast.session, cast.host, "open_check_in")
    actions.do_remove_member(cast.session, cast.host, cast.member(cast.outsider).pk, reason="多余")
    actions.do_transition(cast.session, cast.host, "open_check_in")
    assert cast.refresh().phase == Phase.CHECK_IN
