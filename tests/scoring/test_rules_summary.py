"""The whole summary from plain inputs, on a lot small enough to compute by hand.

Five experts, bids A, B, C; price by deviation rate against the lowest price (E1 1, E2 0.5):
A 1 000 000.00 → D 2.04 → 27.96; B 1 050 000.00 → D 7.14 → 22.86; C 980 000.00 → 30.
            t1 (tech, 10)        t2 (tech, objective, 5)   m1 (commercial, 10)
  A   8, 8.5, 9, 7.5, 8 → 8.2      5 → 5                  7 → 7
  B   6 → 6                        3 → 3                  8, 8, 8, 8, 7 → 7.8
  C   9, 9, 9, 9, 9.5 → 9.1        4 → 4                  6, 6.5, 6, 6, 6 → 6.1
Technical A 13.2, B 9, C 13.1; commercial A 7, B 7.8, C 6.1; totals A 48.16, B 39.66, C 49.20.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from scoring.rules import (
    Aggregation,
    Benchmark,
    BidInput,
    Cell,
    Criterion,
    Draws,
    FailReason,
    FindingKind,
    Group,
    Item,
    Method,
    Outcome,
    PriceFormula,
    PriceRule,
    RuleError,
    ScoringRules,
    Severity,
    compute_summary,
    round_half_up,
)

D = Decimal  # short, for the tables below

EXPERTS = ("e1", "e2", "e3", "e4", "e5")
CRITERIA = (
    Criterion("t1", Group.TECHNICAL, D("10"), D("0.5")),
    Criterion("t2", Group.TECHNICAL, D("5"), D("1"), objective=True),
    Criterion("m1", Group.COMMERCIAL, D("10"), D("0.5")),
    Criterion("price", Group.PRICE, D("30"), D("0.01")),
)
SHEET = {
    ("A", "t1"): ("8", "8.5", "9", "7.5", "8"),
    ("A", "t2"): ("5",) * 5,
    ("A", "m1"): ("7",) * 5,
    ("B", "t1"): ("6",) * 5,
    ("B", "t2"): ("3",) * 5,
    ("B", "m1"): ("8", "8", "8", "8", "7"),
    ("C", "t1"): ("9", "9", "9", "9", "9.5"),
    ("C", "t2"): ("4",) * 5,
    ("C", "m1"): ("6", "6.5", "6", "6", "6"),
}
RULES = ScoringRules(price=PriceRule(points=D("30")))


def sheet_scores(sheet=SHEET) -> dict[Cell, D]:
    return {Cell(e, bid, c): D(v) for (bid, c), values in sheet.items() for e, v in zip(EXPERTS, values, strict=True)}


def bids(**overrides: BidInput) -> list[BidInput]:
    base = {
        "A": BidInput("A", D("1000000.00")),
        "B": BidInput("B", D("1050000.00")),
        "C": BidInput("C", D("980000.00")),
    }
    base.update(overrides)
    return list(base.values())


def summarize(rules=RULES, criteria=CRITERIA, bid_list=None, experts=EXPERTS, scores=None, **kwargs):
    return compute_summary(
        rules,
        criteria,
        bids() if bid_list is None else bid_list,
        experts,
        sheet_scores() if scores is None else scores,
        **kwargs,
    )


def test_the_hand_computed_lot_sums_and_ranks_as_computed_by_hand():
    summary = summarize()
    assert summary.outcome.outcome == Outcome.RESULT
    assert summary.valid_bids == ("A", "B", "C")
    assert summary.price.benchmark == D("980000.00")
    assert summary.aggregated[Item("A", "t1")] == D("8.2")
    assert summary.aggregated[Item("B", "price")] == D("22.86")
    assert summary.group_totals["A"] == {
        Group.TECHNICAL: D("13.20"),
        Group.COMMERCIAL: D("7.00"),
        Group.PRICE: D("27.96"),
    }
    assert summary.totals == {"A": D("48.16"), "B": D("39.66"), "C": D("49.20")}
    assert summary.ranking.order == ("C", "A", "B")
    assert summary.candidates == ("C", "A", "B")
    assert summary.expert_totals["e1"]["A"] == D("47.96")
    assert summary.findings == ()
    assert not summary.blocked
    assert summary.dropped_expert is None


def test_a_bid_that_failed_preliminary_review_is_left_out_of_everything():
    summary = summarize(bid_list=bids(D=BidInput("D", D("900000.00"), passed=False)))
    assert summary.valid_bids == ("A", "B", "C")
    assert summary.price.benchmark == D("980000.00")
    assert "D" not in summary.totals
    assert summary.totals["C"] == D("49.20")


def test_all_bids_failing_preliminary_review_fail_the_evaluation():
    failing = [replace(b, passed=False) for b in bids()]
    summary = summarize(bid_list=failing)
    assert (summary.outcome.outcome, summary.outcome.reason) == (Outcome.FAILED, FailReason.ALL_REJECTED)
    assert summary.valid_bids == ()
    assert summary.totals == {}
    assert summary.ranking.order == ()
    assert summary.candidates == ()


def test_fewer_than_three_valid_bids_fail_a_procurement_evaluation():
    rules = replace(RULES, government_procurement=True)
    summary = summarize(rules=rules, bid_list=bids(B=BidInput("B", D("1050000.00"), passed=False)))
    assert summary.outcome.reason == FailReason.FEWER_THAN_THREE_VALID
    assert summary.candidates == ()
    assert summary.totals["C"] == D("49.20")  # the table is still shown with the reasons
    assert summarize(rules=rules).outcome.outcome == Outcome.RESULT


def test_a_single_valid_bid_in_engineering_is_ranked_and_scores_full_price():
    summary = summarize(bid_list=bids(A=BidInput("A", D("1"), passed=False), B=BidInput("B", D("1"), passed=False)))
    assert summary.outcome.outcome == Outcome.RESULT
    assert summary.aggregated[Item("C", "price")] == D("30")
    assert summary.candidates == ("C",)


def test_objective_items_that_differ_block_and_name_every_cell():
    sheet = dict(SHEET)
    sheet[("A", "t2")] = ("5", "5", "4", "5", "5")
    summary = summarize(scores=sheet_scores(sheet))
    assert summary.blocked
    [finding] = summary.blocking
    assert finding.kind == FindingKind.OBJECTIVE_DIFFERS
    assert (finding.bid, finding.criterion) == ("A", "t2")
    assert finding.cells == tuple(Cell(e, "A", "t2") for e in EXPERTS)


def test_a_missing_cell_blocks_and_is_named():
    scores = sheet_scores()
    del scores[Cell("e4", "B", "m1")]
    summary = summarize(scores=scores)
    [finding] = summary.blocking
    assert (finding.kind, finding.cells) == (FindingKind.MISSING, (Cell("e4", "B", "m1"),))
    # a blocked summary is still a preview: the mean of the four present values 8, 8, 8, 7
    assert summary.aggregated[Item("B", "m1")] == D("7.75")


@pytest.mark.parametrize(
    ("value", "kind"),
    [("10.5", FindingKind.OUT_OF_RANGE), ("7.3", FindingKind.OFF_STEP), ("NaN", FindingKind.NOT_A_NUMBER)],
)
def test_a_bad_cell_blocks_and_is_named(value, kind):
    scores = sheet_scores()
    scores[Cell("e2", "C", "t1")] = D(value)
    summary = summarize(scores=scores)
    kinds = {(f.kind, f.cells) for f in summary.blocking}
    assert (kind, (Cell("e2", "C", "t1"),)) in kinds


def test_a_score_far_from_the_others_warns_its_expert_without_blocking():
    sheet = dict(SHEET)
    sheet[("C", "t1")] = ("9", "9", "9", "9", "2")
    summary = summarize(scores=sheet_scores(sheet))
    assert not summary.blocked
    [warning] = summary.warnings
    assert warning.kind == FindingKind.DEVIATION
    assert warning.severity == Severity.WARNING
    assert warning.cells == (Cell("e5", "C", "t1"),)
    assert warning.value == D("0.7")


def test_a_deviation_exactly_at_the_threshold_does_not_warn():
    sheet = dict(SHEET)
    # e5: |3 − 6| / 10 = 0.3
    sheet[("B", "t1")] = ("6", "6", "6", "6", "3")
    assert summarize(scores=sheet_scores(sheet)).warnings == ()


def test_a_declared_total_that_does_not_add_up_blocks():
    assert summarize(declared_totals={("e1", "A"): D("47.96")}).findings == ()
    [finding] = summarize(declared_totals={("e1", "A"): D("48.00")}).blocking
    assert finding.kind == FindingKind.ARITHMETIC
    assert finding.cells == (Cell("e1", "A", "t1"), Cell("e1", "A", "t2"), Cell("e1", "A", "m1"))


def test_a_declared_total_is_compared_at_two_decimals():
    # low-price formula, A at 1 020 000: 980000 / 1020000 × 30 = 28.8235…, so e1's total on A is
    # 8 + 5 + 7 + 28.8235… = 48.8235…, shown as 48.82
    rules = replace(RULES, price=PriceRule(formula=PriceFormula.LOWEST_PRICE, points=D("30")))
    lot_bids = bids(A=BidInput("A", D("1020000.00")))
    exact = summarize(rules=rules, bid_list=lot_bids).expert_totals["e1"]["A"]
    assert exact != round_half_up(exact)
    for declared in (exact, D("48.82")):
        assert summarize(rules=rules, bid_list=lot_bids, declared_totals={("e1", "A"): declared}).findings == ()
    [finding] = summarize(rules=rules, bid_list=lot_bids, declared_totals={("e1", "A"): D("48.32")}).blocking
    assert finding.kind == FindingKind.ARITHMETIC


def test_an_abnormally_low_price_warns():
    summary = summarize(bid_list=bids(C=BidInput("C", D("700000.00"))))
    assert [(f.kind, f.bid) for f in summary.warnings] == [(FindingKind.ABNORMALLY_LOW, "C")]
    assert summary.abnormally_low == frozenset({"C"})


def test_group_totals_round_half_up_and_the_total_adds_the_rounded_groups():
    criteria = (Criterion("x", Group.TECHNICAL, D("1"), D("0.25")), Criterion("y", Group.COMMERCIAL, D("1"), D("0.25")))
    scores = {Cell(e, "A", c): D(v) for c in ("x", "y") for e, v in (("e1", "0"), ("e2", "0.25"))}
    summary = compute_summary(RULES, criteria, [BidInput("A", D("1"))], ["e1", "e2"], scores)
    assert summary.aggregated[Item("A", "x")] == D("0.125")
    assert summary.group_totals["A"] == {Group.TECHNICAL: D("0.13"), Group.COMMERCIAL: D("0.13")}
    assert summary.totals["A"] == D("0.26")


def test_group_totals_are_rounded_from_the_exact_sum_of_the_means():
    # six experts, three cells: the exact technical total is 907/200 = 4.535, which rounds to 4.54;
    # adding the three 28-digit means as Decimals would give 4.534999… and round to 4.53
    sheet = {
        "x": ("0.5", "3.0", "0.00", "1.5", "0.09", "4.5"),
        "y": ("0.01", "0.09", "0.75", "5.0", "0.07", "4.0"),
        "z": ("1.5", "0.2", "2.00", "0.5", "0.00", "3.5"),
    }
    experts = [f"e{i}" for i in range(1, 7)]
    criteria = [Criterion(c, Group.TECHNICAL, D("10"), D("0.01")) for c in sheet]
    scores = {Cell(e, "A", c): D(v) for c, values in sheet.items() for e, v in zip(experts, values, strict=True)}
    summary = compute_summary(RULES, criteria, [BidInput("A", D("1"))], experts, scores)
    assert summary.group_totals["A"] == {Group.TECHNICAL: D("4.54")}
    assert summary.totals["A"] == D("4.54")


def test_trim_high_low_needs_seven_members():
    with pytest.raises(RuleError, match="at least 7"):
        summarize(rules=replace(RULES, aggregation=Aggregation.TRIM_HIGH_LOW))


def test_trim_high_low_drops_one_highest_and_one_lowest_per_cell():
    experts = [f"e{i}" for i in range(1, 8)]
    criteria = (Criterion("t", Group.TECHNICAL, D("10"), D("1")),)
    values = ("1", "2", "3", "4", "5", "6", "10")
    scores = {Cell(e, "A", "t"): D(v) for e, v in zip(experts, values, strict=True)}
    rules = replace(RULES, aggregation=Aggregation.TRIM_HIGH_LOW)
    summary = compute_summary(rules, criteria, [BidInput("A", D("1"))], experts, scores)
    assert summary.totals["A"] == D("4.00")


def drop_widest_lot(e9_a: str = "10", e9_b: str = "0"):
    experts = [f"e{i}" for i in range(1, 10)]
    criteria = (Criterion("t", Group.TECHNICAL, D("10"), D("1")),)
    values = ("5", "5", "5", "5", "6", "6", "6", "6")
    scores = {Cell(e, bid, "t"): D(v) for bid in "AB" for e, v in zip(experts, values, strict=False)}
    scores[Cell("e9", "A", "t")] = D(e9_a)
    scores[Cell("e9", "B", "t")] = D(e9_b)
    rules = replace(RULES, aggregation=Aggregation.DROP_WIDEST)
    lot_bids = [BidInput("A", D("200")), BidInput("B", D("100"))]
    return rules, criteria, lot_bids, experts, scores


def test_drop_widest_drops_the_widest_expert_then_trims():
    rules, criteria, lot_bids, experts, scores = drop_widest_lot()
    summary = compute_summary(rules, criteria, lot_bids, experts, scores)
    assert summary.dropped_expert is not None
    assert summary.dropped_expert.expert == "e9"
    # the eight left: 5,5,5,5,6,6,6,6 → drop one 5 and one 6 → 5.5; the tie goes to the lower price
    assert summary.totals == {"A": D("5.50"), "B": D("5.50")}
    assert summary.ranking.order == ("B", "A")


def test_drop_widest_needs_nine_members():
    rules, criteria, lot_bids, experts, scores = drop_widest_lot()
    with pytest.raises(RuleError, match="at least 9"):
        compute_summary(rules, criteria, lot_bids, experts[:8], scores)


def test_drop_widest_uses_the_recorded_draw_when_experts_tie():
    rules, criteria, lot_bids, experts, scores = drop_widest_lot(e9_a="5", e9_b="5")
    # every spread is 0; a 6 lies 6 − 43/8 = 0.625 from the others' mean on each bid, a 5 only 0.5,
    # so e5..e8 tie on the deviation sum (1.25 each) and a draw decides
    first = compute_summary(rules, criteria, lot_bids, experts, scores)
    assert first.dropped_expert is not None
    tied = first.dropped_expert.tied_on_deviation
    assert tied == ("e5", "e6", "e7", "e8")
    assert first.dropped_expert.drawn
    again = compute_summary(rules, criteria, lot_bids, experts, scores, draws=Draws(widest_expert=tied[-1]))
    assert again.dropped_expert is not None
    assert again.dropped_expert.expert == tied[-1]


def test_lowest_evaluated_price_method_ranks_by_evaluated_price():
    rules = replace(RULES, method=Method.LOWEST_EVALUATED_PRICE)
    summary = compute_summary(rules, (), bids(), EXPERTS, {})
    assert summary.ranking.order == ("C", "A", "B")
    assert summary.candidates == ("C", "A", "B")


def test_window_mean_rejects_a_bid_above_the_ceiling():
    price = PriceRule(benchmark=Benchmark.WINDOW_MEAN, ceiling=D("1040000.00"), window_percent=D("10"))
    summary = summarize(rules=replace(RULES, price=price))
    assert summary.rejected_above_window == frozenset({"B"})
    assert summary.valid_bids == ("A", "C")
    assert summary.price.benchmark == D("990000.00")


def test_the_price_criterion_must_carry_the_price_points():
    with pytest.raises(RuleError, match="price points"):
        summarize(rules=replace(RULES, price=PriceRule(points=D("40"))))


def test_two_bids_with_one_id_are_refused():
    with pytest.raises(RuleError, match="share one id"):
        summarize(bid_list=[*bids(), BidInput("A", D("5"))])
