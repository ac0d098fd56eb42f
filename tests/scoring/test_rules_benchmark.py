"""Benchmark price B0, every variant of DOMAIN.md, with hand-computed values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.rules import Benchmark, RuleError, benchmark_price, draw_float_k

D = Decimal  # short, for the tables below


def prices(*values: str) -> list[D]:
    return [D(v) for v in values]


@pytest.mark.parametrize(
    ("variant", "values", "expected"),
    [
        (Benchmark.LOWEST, ("100.00", "90.00", "110.00"), "90.00"),
        (Benchmark.LOWEST, ("100.00",), "100.00"),
        (Benchmark.MEAN, ("100.00", "90.00", "110.00"), "100.00"),
        (Benchmark.MEAN, ("1234567.89", "1000000.01"), "1117283.95"),
        # trimmed_mean: n <= 3 is the plain mean
        (Benchmark.TRIMMED_MEAN, ("100.00", "100.00", "130.00"), "110.00"),
        # n = 4: drop one highest and one lowest
        (Benchmark.TRIMMED_MEAN, ("80.00", "100.00", "110.00", "150.00"), "105.00"),
        # equal prices: only one of each extreme goes
        (Benchmark.TRIMMED_MEAN, ("100.00", "100.00", "100.00", "100.00"), "100.00"),
        (Benchmark.TRIMMED_MEAN, ("90.00", "90.00", "100.00", "120.00"), "95.00"),
        # trimmed_by_count: n = 5 mean, n = 6 drop the highest, n = 7 drop both
        (Benchmark.TRIMMED_BY_COUNT, ("10", "20", "30", "40", "100"), "40"),
        (Benchmark.TRIMMED_BY_COUNT, ("10", "20", "30", "40", "50", "150"), "30"),
        (Benchmark.TRIMMED_BY_COUNT, ("5", "10", "20", "30", "40", "50", "150"), "30"),
        (Benchmark.TRIMMED_BY_COUNT, ("100", "100", "100", "100", "100", "100"), "100"),
    ],
)
def test_benchmark_is_computed_as_domain_says(variant, values, expected):
    assert benchmark_price(prices(*values), variant) == D(expected)


def test_mean_with_float_applies_the_recorded_draw():
    assert benchmark_price(prices("100.00", "110.00", "120.00"), Benchmark.MEAN_WITH_FLOAT, float_k=D("-0.05")) == D(
        "104.50"
    )


def test_mean_with_float_without_a_draw_is_refused():
    with pytest.raises(RuleError, match="draw"):
        benchmark_price(prices("100.00"), Benchmark.MEAN_WITH_FLOAT)


def test_window_mean_takes_only_prices_within_the_band():
    band = (D("850.00"), D("1000.00"))
    values = prices("1010.00", "900.00", "950.00", "800.00", "850.00", "1000.00")
    # 900 + 950 + 850 + 1000 = 3700, / 4
    assert benchmark_price(values, Benchmark.WINDOW_MEAN, window=band) == D("925.00")


def test_window_mean_with_no_price_in_the_band_is_refused():
    with pytest.raises(RuleError, match="window"):
        benchmark_price(prices("800.00"), Benchmark.WINDOW_MEAN, window=(D("850"), D("1000")))


def test_no_price_has_no_benchmark():
    with pytest.raises(RuleError, match="no valid price"):
        benchmark_price([], Benchmark.LOWEST)


def test_a_non_finite_price_is_refused():
    with pytest.raises(RuleError, match="finite"):
        benchmark_price([D("NaN")], Benchmark.MEAN)


def test_the_float_draw_comes_from_the_published_list():
    published = [D("-0.03"), D("-0.04"), D("-0.05")]
    assert {draw_float_k(published) for _ in range(30)} <= set(published)
    with pytest.raises(RuleError):
        draw_float_k([])
