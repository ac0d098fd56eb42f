"""The Order 87 Art. 64 checks: objective items that differ, out-of-range values and arithmetic
errors block the summary and name their cells; a deviation above the threshold blocks until its
member keeps or changes the score with a written reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation import actions
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Bid, Phase
from scoring import actions as scoring
from scoring import queries
from scoring.models import ScoreCell
from tests.personas import Cast
from tests.scoring.conftest import to_detailed
from tests.scoring.scoring_support import cell_version, fill


@pytest.fixture
def detailed_cast(cast: Cast) -> Cast:
    to_detailed(cast)
    return cast


def first_bid(cast: Cast) -> Bid:
    bid = Bid.objects.filter(lot=cast.lot).order_by("anonymous_label").first()
    assert bid is not None
    return bid


def test_nothing_is_checked_until_every_sheet_is_submitted(detailed_cast):
    cast = detailed_cast
    fill(cast, {(cast.zhang, "C1"): "4"}, submit=False)
    assert queries.run_checks(cast.session) == []
    assert "not submitted" in (queries.summary_problem(cast.session) or "")


def test_objective_items_that_differ_block_the_summary_and_name_the_cells(detailed_cast):
    cast = detailed_cast
    fill(cast, {(cast.zhang, "C1"): "4"})
    [finding, *_] = [f for f in queries.run_checks(cast.session) if f.kind == "objective_differs"]
    assert finding.blocking and set(finding.members) == {m.pk for m in cast.session.seated_members()}
    assert "C1" in finding.message and "张华" in finding.message and "4" not in finding.message
    with pytest.raises(Refused, match="objective item C1 of bid A differs"):
        actions.do_transition(cast.session, cast.host, "open_summary")
    # The leader asks 张华 to re-check; once corrected and resubmitted, the summary opens.
    scoring.do_request_recheck(cast.session, cast.li, cast.member(cast.zhang).pk, reason="类似业绩应为 8 分")
    for bid in queries.detailed_bids(cast.session):
        criterion, version = cell_version(cast, cast.zhang, bid, "C1")
        scoring.do_save_score(cast.session, cast.zhang, bid, criterion, "8", base_version=version)
    scoring.do_submit_sheet(cast.session, cast.zhang)
    assert queries.summary_problem(cast.session) is None
    actions.do_transition(cast.session, cast.host, "open_summary")
    assert cast.refresh().phase == Phase.SUMMARY


def test_a_value_outside_the_range_blocks_the_summary(detailed_cast):
    cast = detailed_cast
    fill(cast)
    # A value that escaped entry validation (written behind the application's back).
    cell = ScoreCell.objects.filter(sheet__member__user=cast.chen, criterion__code="T2").first()
    assert cell is not None
    ScoreCell.objects.filter(pk=cell.pk).update(value=Decimal("6"))
    [finding] = [f for f in queries.run_checks(cast.session) if f.kind == "out_of_range"]
    assert finding.blocking and finding.members == (cast.member(cast.chen).pk,) and "T2" in finding.message
    assert "out of range" in (queries.summary_problem(cast.session) or "")


def test_a_declared_total_that_is_not_the_sum_of_the_cells_blocks_the_summary(detailed_cast):
    cast = detailed_cast
    fill(cast, submit=False)
    bid = first_bid(cast)
    scheme = queries.scheme_of(cast.session)
    assert scheme is not None
    typed = sum((c.max_points for c in queries.typed_criteria(scheme)), Decimal(0))
    for user in [cast.li, cast.zhang, cast.chen, cast.zhao]:
        scoring.do_submit_sheet(cast.session, user, declared_totals={bid.pk: typed})
    scoring.do_submit_sheet(cast.session, cast.liu, declared_totals={bid.pk: typed - Decimal("1")})
    [finding] = [f for f in queries.run_checks(cast.session) if f.kind == "arithmetic"]
    assert finding.blocking and finding.members == (cast.member(cast.liu).pk,) and finding.bid == bid.pk
    assert "declared total" in (queries.summary_problem(cast.session) or "")


def test_a_deviation_blocks_until_its_member_keeps_it_with_a_written_reason(detailed_cast):
    cast = detailed_cast
    fill(cast, {(cast.chen, "T1"): "2"})
    findings = [f for f in queries.run_checks(cast.session) if f.kind == "deviation"]
    assert findings and all(f.blocking and f.members == (cast.member(cast.chen).pk,) for f in findings)
    assert [w.kind for w in queries.member_sheet(cast.session, cast.chen).warnings] == ["deviation"] * len(findings)
    assert queries.member_sheet(cast.session, cast.zhang).warnings == []
    with pytest.raises(Refused, match="deviates"):
        actions.do_transition(cast.session, cast.host, "open_summary")
    criterion, version = cell_version(cast, cast.zhang, findings[0].bid or 0, "T1")
    with pytest.raises(Refused, match="no deviation warning"):
        scoring.do_confirm_deviation(
            cast.session, cast.zhang, findings[0].bid or 0, criterion, reason="x", base_version=version
        )
    for f in findings:
        assert f.bid is not None
        criterion, version = cell_version(cast, cast.chen, f.bid, "T1")
        with pytest.raises(Refused, match="written reason"):
            scoring.do_confirm_deviation(cast.session, cast.chen, f.bid, criterion, reason=" ", base_version=version)
        scoring.do_confirm_deviation(
            cast.session, cast.chen, f.bid, criterion, reason="施工方案缺少深基坑专项措施", base_version=version
        )
    remaining = [f for f in queries.run_checks(cast.session) if f.kind == "deviation"]
    assert remaining and not any(f.blocking for f in remaining), "kept as a warning, answered"
    assert queries.summary_problem(cast.session) is None
    event = AuditEvent.objects.filter(session=cast.session, kind="score.deviation_confirmed").last()
    assert (
        event is not None and event.payload["reason"] == "施工方案缺少深基坑专项措施" and not event.payload["changed"]
    )


def test_a_deviation_may_be_changed_instead_with_its_reason(detailed_cast):
    cast = detailed_cast
    fill(cast, {(cast.chen, "T1"): "2"})
    for bid in queries.detailed_bids(cast.session):
        criterion, version = cell_version(cast, cast.chen, bid, "T1")
        saved = scoring.do_confirm_deviation(
            cast.session, cast.chen, bid, criterion, reason="复核后调整", value="9", base_version=version
        )
        assert (saved.value, saved.version) == (Decimal("9"), version + 1)
    assert [f for f in queries.run_checks(cast.session) if f.kind == "deviation"] == []
    actions.do_transition(cast.session, cast.host, "open_summary")
