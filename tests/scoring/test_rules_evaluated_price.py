"""Evaluated price (confirmed corrections, policy deduction), the abnormally-low flag, the outcome."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.rules import (
    Correction,
    FailReason,
    Outcome,
    RuleError,
    abnormally_low,
    evaluated_price,
    evaluation_outcome,
)

D = Decimal  # short, for the tables below


def test_only_confirmed_corrections_count_then_the_deduction_applies():
    corrections = [
        Correction(D("1234.50"), confirmed=True, reason="unit price × quantity"),
        Correction(D("-500.00"), confirmed=False, reason="not confirmed by the bidder"),
    ]
    # (1 000 000.00 + 1 234.50) × 0.94
    assert evaluated_price(D("1000000.00"), corrections, D("6")) == D("941160.43")


def test_evaluated_price_is_kept_exact():
    assert evaluated_price(D("999.99"), deduction_percent=D("10")) == D("899.991")


def test_without_corrections_or_deduction_the_price_stands():
    assert evaluated_price(D("123.45")) == D("123.45")


def test_a_correction_of_words_over_figures_can_lower_the_price():
    assert evaluated_price(D("1100000.00"), [Correction(D("-100000.00"), confirmed=True)]) == D("1000000.00")


@pytest.mark.parametrize("percent", ["-1", "100", "NaN"])
def test_a_deduction_out_of_range_is_refused(percent):
    with pytest.raises(RuleError):
        evaluated_price(D("100"), deduction_percent=D(percent))


def test_a_correction_to_nothing_is_refused():
    with pytest.raises(RuleError, match="positive"):
        evaluated_price(D("100"), [Correction(D("-100"), confirmed=True)])


def test_a_price_far_below_the_others_is_abnormally_low():
    prices = {"a": D("100"), "b": D("100"), "c": D("100"), "d": D("75")}
    # d: mean of the others 100, threshold 80; a: (100 + 100 + 75) / 3 × 0.8 = 73.33
    assert abnormally_low(prices, D("20")) == frozenset({"d"})


def test_a_price_exactly_at_the_threshold_is_not_abnormally_low():
    assert abnormally_low({"a": D("100"), "b": D("100"), "d": D("80")}, D("20")) == frozenset()


def test_the_threshold_against_a_repeating_mean_is_exact():
    # d's others: 300.04 / 3 = 100.0133…, less 25 % is 75.01 exactly
    others = {"a": D("100.00"), "b": D("100.01"), "c": D("100.03")}
    assert abnormally_low({**others, "d": D("75.01")}, D("25")) == frozenset()
    assert abnormally_low({**others, "d": D("75.00")}, D("25")) == frozenset({"d"})


def test_of_two_bids_the_far_lower_one_is_abnormally_low():
    assert abnormally_low({"a": D("100"), "b": D("79.99")}, D("20")) == frozenset({"b"})


def test_a_single_bid_is_never_abnormally_low():
    assert abnormally_low({"a": D("1")}, D("20")) == frozenset()


def test_equal_prices_are_never_abnormally_low():
    assert abnormally_low({"a": D("5"), "b": D("5"), "c": D("5")}, D("0")) == frozenset()


@pytest.mark.parametrize(
    ("valid", "submitted", "procurement", "outcome", "reason"),
    [
        (0, 5, False, Outcome.FAILED, FailReason.ALL_REJECTED),
        (0, 5, True, Outcome.FAILED, FailReason.ALL_REJECTED),
        (0, 0, False, Outcome.FAILED, FailReason.ALL_REJECTED),
        (2, 5, True, Outcome.FAILED, FailReason.FEWER_THAN_THREE_VALID),
        (1, 1, True, Outcome.FAILED, FailReason.FEWER_THAN_THREE_VALID),
        (3, 3, True, Outcome.RESULT, None),
        (2, 5, False, Outcome.RESULT, None),
        (1, 1, False, Outcome.RESULT, None),
    ],
)
def test_outcome_fails_with_all_rejected_or_fewer_than_three_in_procurement(
    valid, submitted, procurement, outcome, reason
):
    decision = evaluation_outcome(valid, submitted, procurement)
    assert (decision.outcome, decision.reason) == (outcome, reason)


def test_outcome_counts_must_make_sense():
    with pytest.raises(RuleError):
        evaluation_outcome(3, 2, False)
