"""Too few valid bids after preliminary review (fewer than three in government procurement, or none
at all) is the failed outcome (废标), reached through the core's fail transition with the reason."""

from __future__ import annotations

import pytest

from evaluation import actions
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Bid, Phase
from scoring import actions as scoring
from scoring import queries
from tests.personas import Cast, seated_users
from tests.scoring.conftest import to_preliminary


def conclude(cast: Cast, failing: set[int]) -> None:
    criteria = queries.preliminary_criteria(cast.session)
    for user in seated_users(cast):
        for bid in Bid.objects.filter(lot=cast.lot):
            for i, criterion in enumerate(criteria):
                fails = bid.pk in failing and i == 0
                scoring.do_mark_preliminary(
                    cast.session, user, bid.pk, criterion.pk, not fails, reason="报价高于最高投标限价" if fails else ""
                )
    scoring.do_conclude_preliminary(cast.session, cast.li)


def test_two_valid_bids_in_government_procurement_fail_the_evaluation(procurement_cast):
    cast = procurement_cast
    to_preliminary(cast)
    conclude(cast, set())
    with pytest.raises(Refused, match="needs at least three"):
        actions.do_transition(cast.session, cast.host, "open_detailed_review")
    scoring.do_fail_on_preliminary(cast.session, cast.li)
    assert cast.refresh().phase == Phase.FAILED
    assert "only 2 valid bids" in cast.session.outcome_reason
    event = AuditEvent.objects.filter(session=cast.session, kind="phase.changed").order_by("-seq").first()
    assert event is not None and event.payload["to"] == "failed"


def test_every_bid_rejected_fails_an_engineering_evaluation_naming_the_bids(cast):
    to_preliminary(cast)
    conclude(cast, set(Bid.objects.filter(lot=cast.lot).values_list("pk", flat=True)))
    outcome = queries.preliminary_outcome(cast.session)
    assert outcome.fails and outcome.valid == []
    scoring.do_fail_on_preliminary(cast.session, cast.host)
    assert cast.refresh().phase == Phase.FAILED
    assert "every bid was rejected" in cast.session.outcome_reason
    assert "A" in cast.session.outcome_reason and "B" in cast.session.outcome_reason


def test_an_engineering_lot_with_two_valid_bids_goes_on_and_cannot_be_failed_this_way(cast):
    to_preliminary(cast)
    conclude(cast, set())
    with pytest.raises(Refused, match="does not fail"):
        scoring.do_fail_on_preliminary(cast.session, cast.li)
    actions.do_transition(cast.session, cast.host, "open_detailed_review")
    assert cast.refresh().phase == Phase.DETAILED_REVIEW


def test_the_failed_outcome_waits_for_every_conclusion_and_for_a_host_or_leader(procurement_cast):
    cast = procurement_cast
    to_preliminary(cast)
    with pytest.raises(Refused, match="not concluded"):
        scoring.do_fail_on_preliminary(cast.session, cast.li)
    conclude(cast, set())
    with pytest.raises(Refused) as refusal:
        scoring.do_fail_on_preliminary(cast.session, cast.zhang)
    assert refusal.value.code == "forbidden"
    assert cast.refresh().phase == Phase.PRELIMINARY_REVIEW
