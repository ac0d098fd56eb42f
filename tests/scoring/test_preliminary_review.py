"""Preliminary review: each member marks pass/fail per criterion per bid (a reason on fail); the
leader records the committee's conclusion: unanimous, or the majority with each dissent kept."""

from __future__ import annotations

import pytest

from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Bid
from scoring import actions as scoring
from scoring import queries
from scoring.models import PreliminaryConclusion, PreliminaryCriterion, PreliminaryMark
from tests.personas import Cast, seated_users
from tests.scoring.conftest import to_preliminary


@pytest.fixture
def prelim(cast: Cast) -> tuple[Cast, list[Bid], list[PreliminaryCriterion]]:
    to_preliminary(cast)
    return cast, list(Bid.objects.filter(lot=cast.lot).order_by("pk")), queries.preliminary_criteria(cast.session)


def mark_all(cast: Cast, bid: Bid, criteria: list[PreliminaryCriterion], failing: dict) -> None:
    """Every seated member marks every criterion of ``bid``; ``failing`` maps a user to a reason,
    given on the first criterion."""
    for user in seated_users(cast):
        for i, criterion in enumerate(criteria):
            fails = user in failing and i == 0
            scoring.do_mark_preliminary(
                cast.session, user, bid.pk, criterion.pk, not fails, reason=failing.get(user, "") if fails else ""
            )


def test_a_fail_needs_its_reason_and_nothing_is_stored_without_one(prelim):
    cast, bids, criteria = prelim
    with pytest.raises(Refused, match="reason"):
        scoring.do_mark_preliminary(cast.session, cast.zhang, bids[0].pk, criteria[0].pk, False, reason="  ")
    assert not PreliminaryMark.objects.exists()


def test_a_unanimous_pass_is_recorded_as_unanimous(prelim):
    cast, bids, criteria = prelim
    mark_all(cast, bids[0], criteria, {})
    [conclusion] = scoring.do_conclude_preliminary(cast.session, cast.li, bids[0].pk)
    assert conclusion.passed and conclusion.unanimous and conclusion.dissent == []


def test_the_majority_is_recorded_and_each_dissent_kept_with_its_reasons(prelim):
    cast, bids, criteria = prelim
    mark_all(cast, bids[0], criteria, {cast.zhang: "投标函未加盖单位章", cast.chen: "签字不全"})
    [conclusion] = scoring.do_conclude_preliminary(cast.session, cast.li, bids[0].pk)
    assert conclusion.passed and not conclusion.unanimous
    dissent = {d["name"]: d for d in conclusion.dissent}
    assert set(dissent) == {"张华", "陈静"}
    assert dissent["张华"]["passed"] is False
    assert dissent["张华"]["reasons"][0]["reason"] == "投标函未加盖单位章"
    event = AuditEvent.objects.get(session=cast.session, kind="preliminary.concluded")
    assert len(event.payload["dissent"]) == 2


def test_a_bid_failed_by_the_majority_keeps_their_reasons_and_leaves_detailed_review(prelim):
    cast, bids, criteria = prelim
    mark_all(cast, bids[1], criteria, {cast.zhang: "未盖章", cast.chen: "未盖章", cast.liu: "签字缺失"})
    [conclusion] = scoring.do_conclude_preliminary(cast.session, cast.li, bids[1].pk)
    assert not conclusion.passed and not conclusion.unanimous
    [ground] = conclusion.reasons
    assert ground["code"] == criteria[0].code
    assert sorted(r["reason"] for r in ground["reasons"]) == ["未盖章", "未盖章", "签字缺失"]
    assert {d["name"] for d in conclusion.dissent} == {"李明", "赵代表"}
    assert bids[1].pk not in queries.detailed_bids(cast.session)


def test_the_leader_cannot_conclude_before_every_member_marked_every_criterion(prelim):
    cast, bids, criteria = prelim
    scoring.do_mark_preliminary(cast.session, cast.zhang, bids[0].pk, criteria[0].pk, True)
    with pytest.raises(Refused, match="not yet marked") as refusal:
        scoring.do_conclude_preliminary(cast.session, cast.li, bids[0].pk)
    assert "李明" in refusal.value.reason
    assert not PreliminaryConclusion.objects.exists()


def test_only_the_leader_concludes_and_marks_stay_until_the_bid_is_concluded(prelim):
    cast, bids, criteria = prelim
    mark_all(cast, bids[0], criteria, {})
    with pytest.raises(Refused) as refusal:
        scoring.do_conclude_preliminary(cast.session, cast.zhang, bids[0].pk)
    assert refusal.value.code == "forbidden"
    scoring.do_mark_preliminary(cast.session, cast.zhang, bids[0].pk, criteria[1].pk, False, reason="复核后不通过")
    scoring.do_conclude_preliminary(cast.session, cast.li, bids[0].pk)
    with pytest.raises(Refused, match="concluded"):
        scoring.do_mark_preliminary(cast.session, cast.zhang, bids[0].pk, criteria[1].pk, True)


def test_a_member_reads_only_their_own_marks(prelim):
    cast, bids, criteria = prelim
    scoring.do_mark_preliminary(cast.session, cast.zhang, bids[0].pk, criteria[0].pk, False, reason="未盖章")
    assert queries.preliminary_sheet(cast.session, cast.zhang) == {(bids[0].pk, criteria[0].pk): (False, "未盖章")}
    assert queries.preliminary_sheet(cast.session, cast.chen) == {}
    status = {s.bid.id: s for s in queries.preliminary_status(cast.session, cast.chen)}
    assert status[bids[0].pk].marks == 1 and status[bids[0].pk].expected == 5 * len(criteria)


def test_a_member_passes_a_whole_bid_at_once_replacing_earlier_marks(prelim):
    cast, bids, criteria = prelim
    scoring.do_mark_preliminary(cast.session, cast.zhang, bids[0].pk, criteria[0].pk, False, reason="未盖章")
    marks = scoring.do_pass_preliminary(cast.session, cast.zhang, bids[0].pk)
    assert len(marks) == len(criteria)
    mine = queries.preliminary_sheet(cast.session, cast.zhang)
    assert {k: v for k, v in mine.items() if k[0] == bids[0].pk} == {(bids[0].pk, c.pk): (True, "") for c in criteria}
