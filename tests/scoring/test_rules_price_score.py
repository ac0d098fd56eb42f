"""Price scores: procurement low-price B0/P × points and the engineering deviation-rate method."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.rules import (
    Benchmark,
    PriceFormula,
    PriceRule,
    RuleError,
    deviation_rate,
    deviation_rate_score,
    low_price_score,
    price_scores,
    round_half_up,
)

D = Decimal  # short, for the tables below


@pytest.mark.parametrize(
    ("price", "b0", "expected"),
    [
        ("100.00", "90.00", "27.00"),
        ("90.00", "90.00", "30"),
        ("120.00", "90.00", "22.50"),
    ],
)
def test_low_price_score_is_b0_over_price_times_points(price, b0, expected):
    assert low_price_score(D(price), D(b0), D("30")) == D(expected)


def test_low_price_score_is_exact_not_rounded():
    score = low_price_score(D("1234567.89"), D("1000000.00"), D("30"))
    assert score != round_half_up(score)
    assert round_half_up(score) == D("24.30")


def test_low_price_score_is_capped_at_full_when_b0_is_above_the_price():
    assert low_price_score(D("90"), D("100"), D("30")) == D("30")


@pytest.mark.parametrize(
    ("price", "expected_d"),
    [
        ("1023456.78", "2.35"),  # 2.345678 → 2.35
        ("976543.21", "-2.35"),  # −2.345679 → −2.35
        ("1012250.00", "1.23"),  # exactly 1.225: half-up gives 1.23 (half-even would give 1.22)
        ("987750.00", "-1.23"),  # −1.225: half-up rounds away from zero
        ("1000000.00", "0.00"),
    ],
)
def test_deviation_rate_is_rounded_to_two_decimals_half_up(price, expected_d):
    assert deviation_rate(D(price), D("1000000.00")) == D(expected_d)


@pytest.mark.parametrize(
    ("price", "e1", "e2", "floor", "expected"),
    [
        ("1023456.78", "1", "0.5", "0", "27.65"),  # 30 − 2.35 × 1
        ("976543.21", "1", "0.5", "0", "28.825"),  # 30 − 2.35 × 0.5, kept exact
        ("1012250.00", "1", "0.5", "0", "28.77"),  # D = 1.23
        ("1015000.00", "2", "1", "0", "27"),  # 1.5 % between 1 % (28) and 2 % (26): linear, 27
        ("985000.00", "2", "1", "0", "28.5"),  # −1.5 % between −1 % (29) and −2 % (28)
        ("1000000.00", "2", "1", "0", "30"),  # equal to B0: full
        ("1400000.00", "1", "0.5", "0", "0"),  # 30 − 40 = −10, floored at 0
        ("1400000.00", "1", "0.5", "5", "5"),  # floored at a set minimum
        ("1250000.00", "1", "0.5", "5", "5"),  # 30 − 25 = 5, exactly at the floor
    ],
)
def test_deviation_rate_score_as_domain_says(price, e1, e2, floor, expected):
    score = deviation_rate_score(D(price), D("1000000.00"), D("30"), D(e1), D(e2), D(floor))
    assert score == D(expected)


def test_deviation_rate_against_a_repeating_mean_rounds_from_the_exact_value():
    # B0 = 300 800 / 3 = 100 266.66…; D for 103 400 = 9 400 / 300 800 × 100 = 3.125 exactly → 3.13
    # (dividing by a 28-digit B0 would give 3.12499… and round to 3.12)
    prices = {"a": D("103400.00"), "b": D("97740.00"), "c": D("99660.00")}
    result = price_scores(prices, PriceRule(benchmark=Benchmark.MEAN))
    assert result.deviations["a"] == D("3.13")
    assert result.scores["a"] == D("26.87")


def test_price_scores_of_equal_prices_are_all_full():
    rule = PriceRule(benchmark=Benchmark.MEAN)
    result = price_scores({"a": D("500.00"), "b": D("500.00"), "c": D("500.00")}, rule)
    assert result.benchmark == D("500.00")
    assert set(result.scores.values()) == {D("30")}
    assert set(result.deviations.values()) == {D("0.00")}


def test_a_single_valid_bid_scores_full():
    for formula in PriceFormula:
        result = price_scores({"a": D("777.77")}, PriceRule(formula=formula))
        assert result.scores == {"a": D("30")}


def test_procurement_prices_score_against_the_lowest():
    rule = PriceRule(formula=PriceFormula.LOWEST_PRICE, points=D("10"))
    result = price_scores({"a": D("980000.00"), "b": D("1000000.00"), "c": D("1225000.00")}, rule)
    assert result.benchmark == D("980000.00")
    assert result.scores == {"a": D("10"), "b": D("9.8"), "c": D("8")}
    assert result.deviations == {}


def test_window_mean_rejects_above_the_ceiling_and_floors_below_the_band():
    rule = PriceRule(benchmark=Benchmark.WINDOW_MEAN, ceiling=D("1000.00"), window_percent=D("15"), floor=D("6"))
    result = price_scores({"a": D("1010.00"), "b": D("900.00"), "c": D("950.00"), "d": D("800.00")}, rule)
    assert rule.window == (D("850.00"), D("1000.00"))
    assert result.benchmark == D("925.00")
    assert result.rejected_above_window == frozenset({"a"})
    assert result.below_window == frozenset({"d"})
    # D_b = −25 / 925 × 100 = −2.7027 → −2.70 → 30 − 1.35; D_c = +2.70 → 30 − 2.70
    assert result.deviations == {"b": D("-2.70"), "c": D("2.70")}
    assert result.scores == {"b": D("28.65"), "c": D("27.30"), "d": D("6")}


def test_window_mean_with_nothing_inside_the_band_floors_the_rest():
    rule = PriceRule(benchmark=Benchmark.WINDOW_MEAN, ceiling=D("1000.00"))
    result = price_scores({"a": D("1010.00"), "d": D("800.00")}, rule)
    assert result.benchmark is None
    assert result.scores == {"d": D("0")}
    assert result.rejected_above_window == frozenset({"a"})


def test_mean_with_float_scores_against_the_drawn_benchmark():
    rule = PriceRule(benchmark=Benchmark.MEAN_WITH_FLOAT, float_k=D("-0.05"))
    result = price_scores({"a": D("100.00"), "b": D("110.00"), "c": D("120.00")}, rule)
    assert result.benchmark == D("104.50")
    # D_a = −4.5 / 104.5 × 100 = −4.306 → −4.31 → 30 − 2.155
    assert result.scores["a"] == D("27.845")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": D("0")}, "positive"),
        ({"e1": D("0.5"), "e2": D("1")}, "E2"),
        ({"e1": D("-1"), "e2": D("-1")}, "negative"),
        ({"floor": D("31")}, "floor"),
        ({"benchmark": Benchmark.MEAN_WITH_FLOAT}, "draw"),
        ({"benchmark": Benchmark.MEAN_WITH_FLOAT, "float_k": D("1")}, "between"),
        ({"benchmark": Benchmark.WINDOW_MEAN}, "ceiling"),
        ({"benchmark": Benchmark.WINDOW_MEAN, "ceiling": D("100"), "window_percent": D("0")}, "window"),
        ({"benchmark": "median"}, "median"),
    ],
)
def test_a_price_rule_out_of_range_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PriceRule(**kwargs)


def test_a_price_that_is_not_positive_is_refused():
    with pytest.raises(RuleError, match="positive"):
        price_scores({"a": D("0")}, PriceRule())
