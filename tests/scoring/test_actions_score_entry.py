"""do_save_score: saved at once with a new version, or refused with a reason and nothing stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation import actions
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Bid, EvaluationSession, Lot
from scoring import actions as scoring
from scoring.actions import StaleScore
from scoring.models import Criterion, ScoreCell, ScoringTemplate
from tests.personas import COMPREHENSIVE, Cast
from tests.scoring.conftest import to_detailed, to_preliminary, typed_criteria


def stored(cast: Cast) -> tuple[int, list[tuple[int, int, Decimal | None, int]]]:
    version = EvaluationSession.objects.get(pk=cast.session.pk).audit_seq
    cells = ScoreCell.objects.filter(sheet__session=cast.session).order_by("pk")
    return version, list(cells.values_list("bid_id", "criterion_id", "value", "version"))


def refuse(cast: Cast, user, bid: int, criterion: int, value, code: str = "invalid", base: int = 0) -> str:
    before = stored(cast)
    with pytest.raises(Refused) as refusal:
        scoring.do_save_score(cast.session, user, bid, criterion, value, base_version=base)
    assert refusal.value.code == code, refusal.value.reason
    assert refusal.value.reason.strip()
    assert stored(cast) == before, "nothing stored"
    return refusal.value.reason


@pytest.fixture
def sheet(cast: Cast) -> tuple[Cast, Bid, Criterion]:
    to_detailed(cast)
    bid = Bid.objects.filter(lot=cast.lot).order_by("pk").first()
    assert bid is not None
    return cast, bid, typed_criteria(cast)[0]


def test_a_saved_cell_returns_its_new_version_and_the_member_s_progress(sheet):
    cast, bid, criterion = sheet
    saved = scoring.do_save_score(cast.session, cast.zhang, bid.pk, criterion.pk, "7.5", base_version=0)
    assert (saved.value, saved.version, saved.filled) == (Decimal("7.5"), 1, 1)
    assert saved.total == 2 * len(typed_criteria(cast))
    again = scoring.do_save_score(cast.session, cast.zhang, bid.pk, criterion.pk, Decimal("8"), base_version=1)
    assert (again.value, again.version) == (Decimal("8"), 2)
    event = AuditEvent.objects.filter(session=cast.session, kind="score.saved").order_by("-seq").first()
    assert event is not None and event.payload["value"] == "8.00" and event.payload["version"] == 2


def test_clearing_a_cell_keeps_its_version_moving_and_lowers_the_count(sheet):
    cast, bid, criterion = sheet
    scoring.do_save_score(cast.session, cast.zhang, bid.pk, criterion.pk, "5", base_version=0)
    cleared = scoring.do_save_score(cast.session, cast.zhang, bid.pk, criterion.pk, None, base_version=1)
    assert (cleared.value, cleared.version, cleared.filled) == (None, 2, 0)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("10.5", "outside"),
        ("-1", "outside"),
        ("7.3", "step"),
        ("abc", "not a number"),
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
        (7.5, "not a number"),
        (True, "not a number"),
    ],
)
def test_a_value_off_the_criterion_s_scale_is_refused(sheet, value, words):
    cast, bid, criterion = sheet
    assert criterion.max_points == Decimal("10") and criterion.step == Decimal("0.5")
    assert words in refuse(cast, cast.zhang, bid.pk, criterion.pk, value)


def test_a_criterion_of_another_lot_is_refused(sheet):
    cast, bid, _ = sheet
    other = Lot.objects.create(project=cast.lot.project, code="BD02", name="另一标段", ceiling_price=Decimal("100"))
    scheme = scoring.copy_template(other, ScoringTemplate.objects.get(name=COMPREHENSIVE), cast.host)
    foreign = scheme.criteria.exclude(group="price").first()
    assert foreign is not None
    assert "not a criterion of this lot" in refuse(cast, cast.zhang, bid.pk, foreign.pk, "5", code="not_found")


def test_the_price_score_is_never_typed(sheet):
    cast, bid, _ = sheet
    price = Criterion.objects.get(scheme__lot=cast.lot, group="price")
    assert "computed" in refuse(cast, cast.zhang, bid.pk, price.pk, "30")


def test_a_bid_that_failed_preliminary_review_is_refused(cast):
    to_preliminary(cast)
    failing = Bid.objects.filter(lot=cast.lot).order_by("pk").last()
    assert failing is not None
    to_detailed(cast, failing=failing)
    criterion = typed_criteria(cast)[0]
    assert "not in detailed review" in refuse(cast, cast.zhang, failing.pk, criterion.pk, "5")


def test_a_submitted_sheet_is_read_only_to_its_member(sheet):
    cast, bid, criterion = sheet
    for b in Bid.objects.filter(lot=cast.lot):
        for c in typed_criteria(cast):
            scoring.do_save_score(cast.session, cast.zhang, b.pk, c.pk, c.step, base_version=0)
    scoring.do_submit_sheet(cast.session, cast.zhang)
    assert "submitted" in refuse(cast, cast.zhang, bid.pk, criterion.pk, "5", code="conflict", base=1)


def test_scores_are_refused_outside_detailed_review(sheet):
    cast, bid, criterion = sheet
    actions.do_transition(cast.session, cast.host, "suspend", reason="网络中断")
    assert "not possible in phase" in refuse(cast, cast.zhang, bid.pk, criterion.pk, "5", code="wrong_phase")


@pytest.mark.parametrize("who", ["host", "zheng", "sun", "wu", "outsider", "bidder_a_user"])
def test_nobody_but_a_seated_member_scores(sheet, who):
    cast, bid, criterion = sheet
    assert "only" in refuse(cast, getattr(cast, who), bid.pk, criterion.pk, "5", code="forbidden")


def test_a_stale_version_is_refused_with_the_current_value(sheet):
    cast, bid, criterion = sheet
    scoring.do_save_score(cast.session, cast.zhang, bid.pk, criterion.pk, "6", base_version=0)  # tab 1
    before = stored(cast)
    with pytest.raises(StaleScore) as stale:  # tab 2 still saw the empty cell
        scoring.do_save_score(cast.session, cast.zhang, bid.pk, criterion.pk, "9", base_version=0)
    assert (stale.value.value, stale.value.version, stale.value.code) == (Decimal("6"), 1, "stale")
    assert stored(cast) == before
    refreshed = scoring.do_save_score(cast.session, cast.zhang, bid.pk, criterion.pk, "9", base_version=1)
    assert refreshed.version == 2
