"""After the summary a score changes only for one of the four Art. 64 reasons; the old and new
values, who, when and why are kept, audited, and shown in the summary."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation import actions
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Phase
from scoring import actions as scoring
from scoring import queries
from scoring.models import ScoreCorrection
from tests.personas import Cast, advance_to
from tests.scoring.scoring_support import cell_version


@pytest.fixture
def in_summary(cast: Cast) -> Cast:
    advance_to(cast, Phase.SUMMARY)
    return cast


def test_a_correction_keeps_old_and_new_who_when_and_why(in_summary):
    cast = in_summary
    bid = queries.detailed_bids(cast.session)[0]
    criterion, version = cell_version(cast, cast.zhang, bid, "T1")
    before = {r.bid.id: r.total for r in queries.build_summary(cast.session, cast.li).rows}
    correction = scoring.do_correct_score(
        cast.session,
        cast.zhang,
        bid,
        criterion,
        "6",
        reason="abnormal",
        explanation="经评标委员会认定该项评分畸高，复核后调整",
        base_version=version,
    )
    stored = ScoreCorrection.objects.get(pk=correction.pk)
    assert (stored.old_value, stored.new_value, stored.by, stored.reason) == (
        Decimal("10.00"),
        Decimal("6.00"),
        cast.zhang,
        "abnormal",
    )
    assert stored.at is not None
    event = AuditEvent.objects.get(session=cast.session, kind="score.corrected")
    assert (event.payload["old"], event.payload["value"], event.payload["reason"]) == ("10.00", "6.00", "abnormal")
    summary = queries.build_summary(cast.session, cast.li)
    [shown] = summary.corrections
    assert shown["name"] == "张华" and shown["explanation"].startswith("经评标委员会")
    after = {r.bid.id: r.total for r in summary.rows}
    assert after[bid] == before[bid] - Decimal("0.80"), "the mean of five moved by 4/5"


@pytest.mark.parametrize(
    ("reason", "explanation", "words"),
    [("typo", "说明", "Art. 64 reasons"), ("arithmetic", "  ", "explanation is required")],
)
def test_a_correction_without_an_art_64_reason_or_explanation_is_refused(in_summary, reason, explanation, words):
    cast = in_summary
    bid = queries.detailed_bids(cast.session)[0]
    criterion, version = cell_version(cast, cast.zhang, bid, "T1")
    with pytest.raises(Refused, match=words):
        scoring.do_correct_score(
            cast.session, cast.zhang, bid, criterion, "6", reason=reason, explanation=explanation, base_version=version
        )
    assert not ScoreCorrection.objects.exists()


def test_corrections_are_refused_before_the_summary_and_for_other_roles(cast: Cast):
    advance_to(cast, Phase.SUMMARY)
    bid = queries.detailed_bids(cast.session)[0]
    criterion, version = cell_version(cast, cast.zhang, bid, "T1")
    for who in (cast.host, cast.zheng):
        with pytest.raises(Refused) as refusal:
            scoring.do_correct_score(
                cast.session, who, bid, criterion, "6", reason="abnormal", explanation="x", base_version=version
            )
        assert refusal.value.code == "forbidden"
    with pytest.raises(Refused) as refusal:
        scoring.do_save_score(cast.session, cast.zhang, bid, criterion, "6", base_version=version)
    assert refusal.value.code == "wrong_phase"
    assert not ScoreCorrection.objects.exists()


def test_a_correction_that_makes_objective_items_differ_blocks_finalising(in_summary):
    cast = in_summary
    bid = queries.detailed_bids(cast.session)[0]
    criterion, version = cell_version(cast, cast.zhang, bid, "C1")
    scoring.do_correct_score(
        cast.session,
        cast.zhang,
        bid,
        criterion,
        "6",
        reason="arithmetic",
        explanation="业绩计数有误",
        base_version=version,
    )
    with pytest.raises(Refused, match="objective item C1"):
        actions.do_transition(cast.session, cast.li, "finalise")
    scoring.do_correct_score(
        cast.session,
        cast.zhang,
        bid,
        criterion,
        "8",
        reason="objective_differs",
        explanation="与其他成员核对",
        base_version=version + 1,
    )
    actions.do_transition(cast.session, cast.li, "finalise")
    assert cast.refresh().phase == Phase.SIGNING
