"""Aggregation per criterion (mean, trim_high_low) and the choice of the expert drop_widest drops."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.rules import RuleError, aggregate_item, widest_expert

D = Decimal  # short, for the tables below


def scores(*values: str) -> list[D]:
    return [D(v) for v in values]


@pytest.mark.parametrize(
    ("values", "trim", "expected"),
    [
        (("7", "8", "9"), False, D("8")),
        (("1", "2"), False, D("1.5")),
        (("1", "2", "3", "4", "5", "6", "10"), True, D("4")),
        (("5", "5", "5", "5", "5", "5", "5"), True, D("5")),
        (("0", "0", "1", "1", "1", "1", "10"), True, D("0.8")),
        (("1", "1", "2"), False, D(1) + D(1) / D(3)),  # exact, never rounded here
    ],
)
def test_a_cell_aggregates_as_the_lot_says(values, trim, expected):
    assert aggregate_item(scores(*values), trim) == expected


def test_aggregating_nothing_is_refused():
    with pytest.raises(RuleError):
        aggregate_item([], trim=False)


def test_the_expert_with_the_widest_spread_is_dropped():
    totals = {"e1": {"a": D("10"), "b": D("20")}, "e2": {"a": D("12"), "b": D("15")}}
    choice = widest_expert(totals, {"e1": D("0"), "e2": D("9")})
    assert choice.expert == "e1"
    assert not choice.drawn


def test_a_tie_on_spread_goes_to_the_larger_deviation_sum():
    totals = {"e1": {"a": D("10"), "b": D("20")}, "e2": {"a": D("30"), "b": D("20")}, "e3": {"a": D("1"), "b": D("2")}}
    choice = widest_expert(totals, {"e1": D("5"), "e2": D("7"), "e3": D("99")})
    assert choice.expert == "e2"
    assert choice.tied_on_spread == ("e1", "e2")
    assert choice.tied_on_deviation == ("e2",)
    assert not choice.drawn


def test_a_tie_on_both_goes_to_the_recorded_draw():
    totals = {"e1": {"a": D("10"), "b": D("20")}, "e2": {"a": D("30"), "b": D("20")}}
    choice = widest_expert(totals, {"e1": D("5"), "e2": D("5")}, drawn="e1")
    assert choice.expert == "e1"
    assert choice.drawn


def test_without_a_recorded_draw_one_is_made_among_the_tied():
    totals = {"e1": {"a": D("10"), "b": D("20")}, "e2": {"a": D("30"), "b": D("20")}, "e3": {"a": D("3")}}
    choice = widest_expert(totals, {})
    assert choice.expert in {"e1", "e2"}
    assert choice.drawn
    assert choice.fresh


def test_a_recorded_draw_from_another_tie_gives_way_to_a_fresh_one():
    totals = {"e1": {"a": D("10"), "b": D("20")}, "e2": {"a": D("30"), "b": D("20")}, "e3": {"a": D("3")}}
    choice = widest_expert(totals, {}, drawn="e3")
    assert choice.expert in {"e1", "e2"}
    assert choice.drawn
    assert choice.fresh
    assert not widest_expert(totals, {}, drawn="e2").fresh
