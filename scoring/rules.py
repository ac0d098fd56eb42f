"""The scoring rules of DOMAIN.md as pure, typed functions on Decimal (no Django, no I/O).

Ids of bids, experts and criteria are plain strings chosen by the caller (e.g. ``str(pk)``).
Money and scores are ``Decimal``; rounding (2 decimals, half-up) happens only at the steps DOMAIN.md
names: the deviation rate ``D``, each bid's group totals and its final total. A value that does not
terminate (a mean of three prices) is carried as a ``Fraction`` up to those steps and shown as a
28-digit Decimal, so a value exactly at x.xx5 always rounds up.

Decisions where DOMAIN.md is silent (each is tested):

- Low-price score ``B0 / P × points`` is capped at ``points`` (with a benchmark other than the lowest
  price a bid below ``B0`` would otherwise score above full) and floored at ``price_floor``.
- Deviation-rate score: ``D`` rounded to 2 decimals is multiplied by E1/E2 as a fraction of a percent,
  which is exactly the linear interpolation (插入法) between whole percents.
- window_mean: the band is ``[ceiling × (1 − window_percent/100), ceiling]``; a price above the ceiling
  is rejected, a price below the band gets the floor score, B0 is the mean of the prices in the band.
- Evaluated price: the bid price plus the deltas of confirmed corrections, minus the policy deduction
  percent; kept exact (no rounding step is named).
- Abnormally low: a bid's evaluated price is abnormally low when it is below the mean of the OTHER
  valid bids' evaluated prices by more than ``abnormally_low_percent`` percent of that mean; with fewer
  than two valid bids nothing is flagged. Excluding the bid itself keeps one outlier from pulling the
  mean towards itself.
- drop_widest: the tie on spread goes to the larger sum, over every cell (bid × criterion), of
  ``|own score − mean of the other experts|``; then to a recorded draw.
- A bid's final total is the sum of its rounded group totals (so the printed table adds up); each group
  total is rounded from its exact sum of aggregated cells.
- Ranking: total desc, then evaluated price asc, then (tie_break = technical) technical group total
  desc, then the recorded draw (lower number first). The draw always ends the order, so it is total.
- Lowest-evaluated-price method: evaluated price asc, then the same tie rules after price.
- A summary with blocking findings is still computed (as a preview); missing cells are left out of
  their cell's aggregate.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
ZERO = Decimal("0")
ONE = Decimal("1")

__all__ = [
    "Aggregation",
    "Benchmark",
    "BidInput",
    "Cell",
    "Correction",
    "Criterion",
    "Draws",
    "DropChoice",
    "FailReason",
    "Finding",
    "FindingKind",
    "Group",
    "Item",
    "Method",
    "Outcome",
    "OutcomeDecision",
    "PriceFormula",
    "PriceRule",
    "PriceScores",
    "Ranking",
    "RuleError",
    "ScoringRules",
    "Severity",
    "Summary",
    "TieBreak",
    "abnormally_low",
    "aggregate_item",
    "benchmark_price",
    "candidates",
    "check_value",
    "compute_summary",
    "deviation",
    "deviation_rate",
    "deviation_rate_score",
    "draw_float_k",
    "evaluated_price",
    "evaluation_outcome",
    "low_price_score",
    "objective_differences",
    "price_scores",
    "rank_by_evaluated_price",
    "rank_by_total",
    "round_half_up",
    "widest_expert",
]


class RuleError(ValueError):
    """The inputs are ones no rule can work with (a setting out of range, no valid price ...)."""


# ---------------------------------------------------------------------------------------------
# Closed sets (values match evaluation.protocol.LotRules and evaluation.models.EvaluationMethod)


class Method(StrEnum):
    COMPREHENSIVE = "comprehensive"
    LOWEST_EVALUATED_PRICE = "lowest_evaluated_price"


class PriceFormula(StrEnum):
    LOWEST_PRICE = "lowest_price"  # government procurement 低价优先法: B0 / P × points
    DEVIATION_RATE = "deviation_rate"  # engineering: full − D × E1 / full + D × E2


class Benchmark(StrEnum):
    LOWEST = "lowest"
    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"
    TRIMMED_BY_COUNT = "trimmed_by_count"
    MEAN_WITH_FLOAT = "mean_with_float"
    WINDOW_MEAN = "window_mean"


class Aggregation(StrEnum):
    MEAN = "mean"
    TRIM_HIGH_LOW = "trim_high_low"  # 7+ members
    DROP_WIDEST = "drop_widest"  # 9+ members


class TieBreak(StrEnum):
    TECHNICAL = "technical"
    DRAW = "draw"


class Group(StrEnum):
    TECHNICAL = "technical"  # 技术
    COMMERCIAL = "commercial"  # 商务
    PRICE = "price"  # 价格 (computed, never typed)
    CREDIT = "credit"  # 信用


class Outcome(StrEnum):
    RESULT = "result"
    FAILED = "failed"  # 废标


class FailReason(StrEnum):
    ALL_REJECTED = "all_rejected"
    FEWER_THAN_THREE_VALID = "fewer_than_three_valid"


class Severity(StrEnum):
    BLOCKING = "blocking"
    WARNING = "warning"


class FindingKind(StrEnum):
    MISSING = "missing"  # blocking: an expected cell has no value
    NOT_A_NUMBER = "not_a_number"  # blocking: NaN or infinity
    OUT_OF_RANGE = "out_of_range"  # blocking: outside [0, max]
    OFF_STEP = "off_step"  # blocking: not a multiple of the step
    ARITHMETIC = "arithmetic"  # blocking: a declared total differs from the sum of its cells
    OBJECTIVE_DIFFERS = "objective_differs"  # blocking: experts differ on an objective item
    DEVIATION = "deviation"  # warning: |s − mean of others| / max above the threshold
    ABNORMALLY_LOW = "abnormally_low"  # warning: the bidder must explain the price


MIN_MEMBERS = {Aggregation.MEAN: 1, Aggregation.TRIM_HIGH_LOW: 7, Aggregation.DROP_WIDEST: 9}
MAX_CANDIDATES = 3


# ---------------------------------------------------------------------------------------------
# Small helpers


def round_half_up(value: Decimal, places: Decimal = CENT) -> Decimal:
    """Round to ``places`` (default 2 decimals) half-up, the only rounding DOMAIN.md allows."""
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _mean(values: Sequence[Decimal]) -> Decimal:
    if not values:
        raise RuleError("the mean of no values")
    return sum(values, ZERO) / len(values)


def _exact_mean(values: Sequence[Decimal]) -> Fraction:
    return Fraction(sum(values, ZERO)) / len(values)


def _decimal(value: Fraction) -> Decimal:
    """A Fraction as a Decimal: exact when it terminates within 28 digits, else rounded there."""
    return Decimal(value.numerator) / Decimal(value.denominator)


def _round_fraction(value: Fraction) -> Decimal:
    """An exact value rounded to 2 decimals half-up (away from zero at the half)."""
    hundredths = abs(value) * 100
    whole = math.floor(hundredths + Fraction(1, 2))
    return (Decimal(whole) / 100 * (1 if value >= 0 else -1)).quantize(CENT)


def _finite(value: Decimal, what: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise RuleError(f"{what} must be a finite Decimal, got {value!r}")


class Cell(NamedTuple):
    """One value on an expert's sheet."""

    expert: str
    bid: str
    criterion: str


class Item(NamedTuple):
    """One aggregated cell of the summary: a bid on a criterion."""

    bid: str
    criterion: str


# ---------------------------------------------------------------------------------------------
# Price: benchmark and scores


@dataclass(frozen=True)
class PriceRule:
    """How a lot turns valid evaluated prices into price scores.

    ``float_k`` is the recorded draw for mean_with_float, as a fraction (``Decimal("-0.05")``).
    ``ceiling`` and ``window_percent`` define the window_mean band.
    """

    formula: PriceFormula = PriceFormula.DEVIATION_RATE
    benchmark: Benchmark = Benchmark.LOWEST
    points: Decimal = Decimal("30")
    e1: Decimal = Decimal("1")
    e2: Decimal = Decimal("0.5")
    floor: Decimal = ZERO
    float_k: Decimal | None = None
    ceiling: Decimal | None = None
    window_percent: Decimal = Decimal("15")

    def __post_init__(self) -> None:
        object.__setattr__(self, "formula", PriceFormula(self.formula))
        object.__setattr__(self, "benchmark", Benchmark(self.benchmark))
        for name in ("points", "e1", "e2", "floor", "window_percent"):
            _finite(getattr(self, name), name)
        if self.points <= 0:
            raise RuleError("price points must be positive")
        if self.e1 < 0 or self.e2 < 0:
            raise RuleError("E1 and E2 must not be negative")
        if self.e2 > self.e1:
            raise RuleError("E2 must not exceed E1")
        if not ZERO <= self.floor <= self.points:
            raise RuleError("the price floor must lie within [0, price points]")
        if self.benchmark == Benchmark.MEAN_WITH_FLOAT:
            if self.float_k is None:
                raise RuleError("mean_with_float needs the recorded draw k")
            _finite(self.float_k, "k")
            if not -ONE < self.float_k < ONE:
                raise RuleError("k must lie strictly between -1 and 1")
        if self.benchmark == Benchmark.WINDOW_MEAN:
            if self.ceiling is None:
                raise RuleError("window_mean needs the ceiling price")
            _finite(self.ceiling, "ceiling")
            if self.ceiling <= 0:
                raise RuleError("the ceiling price must be positive")
            if not ZERO < self.window_percent <= HUNDRED:
                raise RuleError("the window must lie within (0, 100] percent of the ceiling")

    @property
    def window(self) -> tuple[Decimal, Decimal]:
        """The window_mean band ``(low, high)``, both ends included."""
        if self.ceiling is None:
            raise RuleError("no ceiling price, so no window")
        return self.ceiling * (ONE - self.window_percent / HUNDRED), self.ceiling


def draw_float_k(choices: Sequence[Decimal]) -> Decimal:
    """Draw k for mean_with_float from the published list (cryptographic randomness); record it."""
    if not choices:
        raise RuleError("the published list of k is empty")
    return secrets.choice(list(choices))


def benchmark_price(
    prices: Sequence[Decimal],
    variant: Benchmark,
    *,
    float_k: Decimal | None = None,
    window: tuple[Decimal, Decimal] | None = None,
) -> Decimal:
    """B0 of the valid ``prices`` by ``variant`` (no rounding step; a repeating mean to 28 digits).

    trimmed_mean: n ≤ 3 mean, else drop one highest and one lowest; trimmed_by_count: n ≤ 5 mean,
    n = 6 drop the highest, n ≥ 7 drop highest and lowest; mean_with_float: mean × (1 + k);
    window_mean: mean of the prices within ``window`` (both ends included).
    Raises RuleError on no price (or none in the window).
    """
    return _decimal(_benchmark_exact(prices, variant, float_k=float_k, window=window))


def _benchmark_exact(
    prices: Sequence[Decimal],
    variant: Benchmark,
    *,
    float_k: Decimal | None = None,
    window: tuple[Decimal, Decimal] | None = None,
) -> Fraction:
    if not prices:
        raise RuleError("no valid price to take a benchmark from")
    for price in prices:
        _finite(price, "price")
    ordered = sorted(prices)
    n = len(ordered)
    variant = Benchmark(variant)
    if variant == Benchmark.LOWEST:
        return Fraction(ordered[0])
    if variant == Benchmark.MEAN:
        return _exact_mean(ordered)
    if variant == Benchmark.TRIMMED_MEAN:
        return _exact_mean(ordered if n <= 3 else ordered[1:-1])
    if variant == Benchmark.TRIMMED_BY_COUNT:
        if n <= 5:
            return _exact_mean(ordered)
        return _exact_mean(ordered[:-1] if n == 6 else ordered[1:-1])
    if variant == Benchmark.MEAN_WITH_FLOAT:
        if float_k is None:
            raise RuleError("mean_with_float needs the recorded draw k")
        return _exact_mean(ordered) * (1 + Fraction(float_k))
    if window is None:
        raise RuleError("window_mean needs the band")
    low, high = window
    inside = [p for p in ordered if low <= p <= high]
    if not inside:
        raise RuleError("no valid price lies within the window")
    return _exact_mean(inside)


def low_price_score(price: Decimal, b0: Decimal | Fraction, points: Decimal, floor: Decimal = ZERO) -> Decimal:
    """Government procurement 低价优先法: ``B0 / P × points``, within [floor, points] (no rounding step)."""
    if price <= 0 or b0 <= 0:
        raise RuleError("prices must be positive")
    raw = Fraction(b0) / Fraction(price) * Fraction(points)
    return _decimal(min(Fraction(points), max(Fraction(floor), raw)))


def deviation_rate(price: Decimal, b0: Decimal | Fraction) -> Decimal:
    """``D = (P − B0) / B0 × 100``, percent, rounded to 2 decimals half-up (from the exact value)."""
    if b0 <= 0:
        raise RuleError("the benchmark must be positive")
    exact_b0 = Fraction(b0)
    return _round_fraction((Fraction(price) - exact_b0) / exact_b0 * 100)


def deviation_rate_score(
    price: Decimal, b0: Decimal | Fraction, full: Decimal, e1: Decimal, e2: Decimal, floor: Decimal = ZERO
) -> Decimal:
    """Engineering deviation-rate score: ``full − D × E1`` above B0, ``full + D × E2`` below, floored.

    E1/E2 are points per whole percent; D has 2 decimals, so the product is the linear
    interpolation (插入法) between whole percents. Exact, no rounding after D.
    """
    d = deviation_rate(price, b0)
    raw = full - d * e1 if d > 0 else full + d * e2
    return max(floor, raw)


@dataclass(frozen=True)
class PriceScores:
    """The price scores of one lot: B0, per-bid score, D (deviation-rate only), window rejections."""

    benchmark: Decimal | None
    scores: Mapping[str, Decimal]
    deviations: Mapping[str, Decimal] = field(default_factory=dict)
    rejected_above_window: frozenset[str] = frozenset()
    below_window: frozenset[str] = frozenset()


def price_scores(prices: Mapping[str, Decimal], rule: PriceRule) -> PriceScores:
    """Score every valid bid's evaluated price by ``rule``.

    1. window_mean: bids above the ceiling are rejected (no score); bids below the band get the floor.
    2. B0 from the remaining prices (for window_mean: the prices inside the band).
    3. Each scored bid gets the formula's score, within [floor, points].
    """
    for price in prices.values():
        _finite(price, "price")
        if price <= 0:
            raise RuleError("prices must be positive")
    rejected: set[str] = set()
    below: set[str] = set()
    window: tuple[Decimal, Decimal] | None = None
    if rule.benchmark == Benchmark.WINDOW_MEAN:
        window = rule.window
        low, high = window
        rejected = {bid for bid, p in prices.items() if p > high}
        below = {bid for bid, p in prices.items() if p < low}
    counted = {bid: p for bid, p in prices.items() if bid not in rejected and bid not in below}
    if not counted:
        return PriceScores(
            benchmark=None,
            scores={bid: rule.floor for bid in below},
            rejected_above_window=frozenset(rejected),
            below_window=frozenset(below),
        )
    b0 = _benchmark_exact(list(counted.values()), rule.benchmark, float_k=rule.float_k, window=window)
    scores: dict[str, Decimal] = {bid: rule.floor for bid in below}
    deviations: dict[str, Decimal] = {}
    for bid, price in counted.items():
        if rule.formula == PriceFormula.LOWEST_PRICE:
            scores[bid] = low_price_score(price, b0, rule.points, rule.floor)
        else:
            deviations[bid] = deviation_rate(price, b0)
            scores[bid] = deviation_rate_score(price, b0, rule.points, rule.e1, rule.e2, rule.floor)
    return PriceScores(
        benchmark=_decimal(b0),
        scores=scores,
        deviations=deviations,
        rejected_above_window=frozenset(rejected),
        below_window=frozenset(below),
    )


# ---------------------------------------------------------------------------------------------
# Evaluated price, abnormally low, outcome


@dataclass(frozen=True)
class Correction:
    """A correction of the bid price (arithmetic error; words prevail over figures).

    ``delta`` is the signed change to the price; only a correction the bidder confirmed counts.
    """

    delta: Decimal
    confirmed: bool
    reason: str = ""

    def __post_init__(self) -> None:
        _finite(self.delta, "correction")


def evaluated_price(
    price: Decimal, corrections: Iterable[Correction] = (), deduction_percent: Decimal = ZERO
) -> Decimal:
    """The price after confirmed corrections, then less the policy deduction percent (exact).

    Raises RuleError when the result is not positive or the percent is outside [0, 100).
    """
    _finite(price, "price")
    _finite(deduction_percent, "deduction percent")
    if not ZERO <= deduction_percent < HUNDRED:
        raise RuleError("the deduction percent must lie within [0, 100)")
    corrected = price + sum((c.delta for c in corrections if c.confirmed), ZERO)
    if corrected <= 0:
        raise RuleError("the corrected price must be positive")
    return corrected * (ONE - deduction_percent / HUNDRED)


def abnormally_low(prices: Mapping[str, Decimal], threshold_percent: Decimal) -> frozenset[str]:
    """Bids whose price is below the mean of the other bids' prices by more than ``threshold_percent``.

    Strictly below ``mean_others × (1 − threshold/100)``; fewer than two bids flag nothing.
    """
    _finite(threshold_percent, "threshold")
    if not ZERO <= threshold_percent < HUNDRED:
        raise RuleError("the threshold must lie within [0, 100)")
    n = len(prices)
    if n < 2:
        return frozenset()
    total = sum(prices.values(), ZERO)
    factor = ONE - threshold_percent / HUNDRED
    # p < (total − p) / (n − 1) × factor, multiplied out so no division rounds
    return frozenset(bid for bid, p in prices.items() if p * (n - 1) < (total - p) * factor)


@dataclass(frozen=True)
class OutcomeDecision:
    outcome: Outcome
    reason: FailReason | None = None


def evaluation_outcome(valid: int, submitted: int, government_procurement: bool) -> OutcomeDecision:
    """Failed (废标) when every bid is rejected, or fewer than three are valid in government procurement."""
    if valid < 0 or submitted < valid:
        raise RuleError("counts must satisfy 0 ≤ valid ≤ submitted")
    if valid == 0:
        return OutcomeDecision(Outcome.FAILED, FailReason.ALL_REJECTED)
    if government_procurement and valid < 3:
        return OutcomeDecision(Outcome.FAILED, FailReason.FEWER_THAN_THREE_VALID)
    return OutcomeDecision(Outcome.RESULT)


# ---------------------------------------------------------------------------------------------
# Expert scores: checks, aggregation, deviation


@dataclass(frozen=True)
class Criterion:
    """A detailed-review criterion. The one criterion of group PRICE is computed, never typed."""

    id: str
    group: Group
    max_points: Decimal
    step: Decimal = Decimal("0.5")
    objective: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "group", Group(self.group))
        _finite(self.max_points, "max points")
        _finite(self.step, "step")
        if self.max_points <= 0:
            raise RuleError(f"criterion {self.id}: max points must be positive")
        if self.step <= 0 or self.max_points % self.step != 0:
            raise RuleError(f"criterion {self.id}: the step must be positive and divide max points")

    @property
    def computed(self) -> bool:
        return self.group == Group.PRICE


def check_value(value: Decimal, criterion: Criterion) -> FindingKind | None:
    """Why ``value`` is not a valid score on ``criterion`` (None if it is): number, range, step."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return FindingKind.NOT_A_NUMBER
    if not ZERO <= value <= criterion.max_points:
        return FindingKind.OUT_OF_RANGE
    if value % criterion.step != 0:
        return FindingKind.OFF_STEP
    return None


def aggregate_item(scores: Sequence[Decimal], trim: bool) -> Decimal:
    """One cell's committee score: the mean, or with ``trim`` the mean after dropping one highest and
    one lowest (only when at least three scores remain to trim from). Exact."""
    if trim and len(scores) >= 3:
        ordered = sorted(scores)
        return _mean(ordered[1:-1])
    return _mean(scores)


@dataclass(frozen=True)
class DropChoice:
    """The expert dropped by drop_widest, those tied on the spread, whether a draw decided, and
    whether that draw was made just now (``fresh``: record it) rather than read from the record."""

    expert: str
    tied_on_spread: tuple[str, ...]
    tied_on_deviation: tuple[str, ...]
    drawn: bool
    fresh: bool = False


def widest_expert(
    totals: Mapping[str, Mapping[str, Decimal | Fraction]],
    deviation_sums: Mapping[str, Decimal | Fraction],
    drawn: str | None = None,
) -> DropChoice:
    """drop_widest step 1: the expert whose spread (max − min of their totals across bids) is largest.

    ``totals`` is expert → bid → that expert's total. A tie goes to the larger ``deviation_sums``
    (sum of |own − mean of the others| over cells), then to ``drawn`` (the recorded draw) when it is
    one of the tied, else to a fresh draw made here with ``secrets`` (``fresh``, to be recorded).
    """
    if not totals:
        raise RuleError("no experts to drop from")
    spreads = {e: _spread([Fraction(v) for v in t.values()]) for e, t in totals.items()}
    widest = max(spreads.values())
    tied = tuple(sorted(e for e, s in spreads.items() if s == widest))
    if len(tied) == 1:
        return DropChoice(tied[0], tied, tied, drawn=False)
    sums = {e: Fraction(deviation_sums.get(e, 0)) for e in tied}
    top = max(sums.values())
    tied_dev = tuple(e for e in tied if sums[e] == top)
    if len(tied_dev) == 1:
        return DropChoice(tied_dev[0], tied, tied_dev, drawn=False)
    if drawn in tied_dev:
        return DropChoice(drawn, tied, tied_dev, drawn=True)
    # no record, or one from another tie (before a correction): a fresh draw, to be recorded
    return DropChoice(secrets.choice(tied_dev), tied, tied_dev, drawn=True, fresh=True)


def _spread(values: Sequence[Fraction]) -> Fraction:
    return max(values) - min(values) if values else Fraction(0)


def deviation(score: Decimal, others: Sequence[Decimal], max_points: Decimal) -> Decimal | None:
    """``|score − mean(others)| / max_points`` (exact); None without other experts."""
    if not others:
        return None
    return abs(score - _mean(others)) / max_points


def objective_differences(
    scores: Mapping[Cell, Decimal], objective_criteria: Iterable[str]
) -> dict[Item, dict[str, Decimal]]:
    """The objective items on which experts differ: item → expert → value (only items that differ)."""
    wanted = set(objective_criteria)
    values: dict[Item, dict[str, Decimal]] = {}
    for cell, value in scores.items():
        if cell.criterion in wanted:
            values.setdefault(Item(cell.bid, cell.criterion), {})[cell.expert] = value
    return {item: by_expert for item, by_expert in values.items() if len(set(by_expert.values())) > 1}


# ---------------------------------------------------------------------------------------------
# Ranking and candidates


@dataclass(frozen=True)
class Ranking:
    """Bids in rank order (first is best) and the draw numbers used or made (bid → number)."""

    order: tuple[str, ...]
    draw: Mapping[str, int]
    draw_made: bool

    def rank_of(self, bid: str) -> int:
        return self.order.index(bid) + 1


def _complete_draw(bids: Sequence[str], draw: Mapping[str, int] | None) -> tuple[dict[str, int], bool]:
    """Draw numbers for the tied ``bids``: the recorded ones, and for bids the record lacks (a tie
    that arose after a correction) a fresh draw numbered after every recorded number."""
    recorded = dict(draw or {})
    numbers = {b: recorded[b] for b in bids if b in recorded}
    if len(set(numbers.values())) != len(numbers):
        raise RuleError("the recorded draw gives two bids the same number")
    fresh = [b for b in bids if b not in numbers]
    if not fresh:
        return numbers, False
    secrets.SystemRandom().shuffle(fresh)
    start = max(recorded.values(), default=0)
    numbers.update({b: start + i for i, b in enumerate(fresh, start=1)})
    return numbers, True


def _needs_draw(keys: Mapping[str, tuple[Decimal, ...]]) -> list[str]:
    seen: dict[tuple[Decimal, ...], list[str]] = {}
    for bid, key in keys.items():
        seen.setdefault(key, []).append(bid)
    return sorted(b for group in seen.values() if len(group) > 1 for b in group)


def _rank(keys: Mapping[str, tuple[Decimal, ...]], draw: Mapping[str, int] | None) -> Ranking:
    tied = _needs_draw(keys)
    numbers: dict[str, int] = {}
    made = False
    if tied:
        numbers, made = _complete_draw(tied, draw)
    order = sorted(keys, key=lambda b: (keys[b], numbers.get(b, 0)))
    return Ranking(order=tuple(order), draw=numbers, draw_made=made)


def rank_by_total(
    totals: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    technical: Mapping[str, Decimal],
    tie_break: TieBreak = TieBreak.TECHNICAL,
    draw: Mapping[str, int] | None = None,
) -> Ranking:
    """Comprehensive method: total desc, price asc, then technical desc (if chosen), then the draw.

    ``draw`` (bid → number, lower first) is needed only for bids still tied; tied bids it lacks get a
    fresh draw here (``secrets``), numbered after the recorded ones, returned with ``draw_made`` to be
    recorded.
    """
    keys: dict[str, tuple[Decimal, ...]]
    if TieBreak(tie_break) == TieBreak.TECHNICAL:
        keys = {b: (-totals[b], prices[b], -technical.get(b, ZERO)) for b in totals}
    else:
        keys = {b: (-totals[b], prices[b]) for b in totals}
    return _rank(keys, draw)


def rank_by_evaluated_price(
    prices: Mapping[str, Decimal],
    technical: Mapping[str, Decimal] | None = None,
    tie_break: TieBreak = TieBreak.DRAW,
    draw: Mapping[str, int] | None = None,
) -> Ranking:
    """Lowest-evaluated-price method: evaluated price asc, then the same tie rules as rank_by_total."""
    keys: dict[str, tuple[Decimal, ...]]
    if TieBreak(tie_break) == TieBreak.TECHNICAL and technical is not None:
        keys = {b: (p, -technical.get(b, ZERO)) for b, p in prices.items()}
    else:
        keys = {b: (p,) for b, p in prices.items()}
    return _rank(keys, draw)


def candidates(ranking: Ranking, count: int = MAX_CANDIDATES) -> tuple[str, ...]:
    """The recommended candidates: the first ``count`` (1..3) bids of the ranking."""
    if not 1 <= count <= MAX_CANDIDATES:
        raise RuleError("between one and three candidates")
    return ranking.order[:count]


# ---------------------------------------------------------------------------------------------
# The whole summary


@dataclass(frozen=True)
class ScoringRules:
    """A lot's rule settings; field names follow evaluation.protocol.LotRules."""

    method: Method = Method.COMPREHENSIVE
    government_procurement: bool = False
    price: PriceRule = field(default_factory=PriceRule)
    aggregation: Aggregation = Aggregation.MEAN
    deviation_threshold: Decimal = Decimal("0.3")
    tie_break: TieBreak = TieBreak.TECHNICAL
    abnormally_low_percent: Decimal | None = Decimal("20")
    max_candidates: int = MAX_CANDIDATES

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", Method(self.method))
        object.__setattr__(self, "aggregation", Aggregation(self.aggregation))
        object.__setattr__(self, "tie_break", TieBreak(self.tie_break))
        _finite(self.deviation_threshold, "deviation threshold")
        if not ZERO < self.deviation_threshold <= ONE:
            raise RuleError("the deviation threshold must lie within (0, 1]")
        if not 1 <= self.max_candidates <= MAX_CANDIDATES:
            raise RuleError("between one and three candidates")


@dataclass(frozen=True)
class BidInput:
    """A bid as the summary sees it: its evaluated price and whether it passed preliminary review."""

    id: str
    evaluated_price: Decimal
    passed: bool = True

    def __post_init__(self) -> None:
        _finite(self.evaluated_price, "evaluated price")
        if self.evaluated_price <= 0:
            raise RuleError(f"bid {self.id}: the evaluated price must be positive")


@dataclass(frozen=True)
class Draws:
    """Draws recorded earlier, passed back in so the summary is reproducible."""

    widest_expert: str | None = None
    rank: Mapping[str, int] | None = None


@dataclass(frozen=True)
class Finding:
    """One check result; ``cells`` names every sheet cell concerned (for a bid-level finding: none)."""

    kind: FindingKind
    severity: Severity
    cells: tuple[Cell, ...] = ()
    bid: str | None = None
    criterion: str | None = None
    value: Decimal | None = None  # the deviation, the declared total ...


@dataclass(frozen=True)
class Summary:
    """Everything the leader's summary shows. Totals are rounded; aggregated cells are exact."""

    outcome: OutcomeDecision
    valid_bids: tuple[str, ...]
    evaluated_prices: Mapping[str, Decimal]  # of the valid bids
    rejected_above_window: frozenset[str]
    price: PriceScores
    aggregated: Mapping[Item, Decimal]
    group_totals: Mapping[str, Mapping[Group, Decimal]]
    totals: Mapping[str, Decimal]
    expert_totals: Mapping[str, Mapping[str, Decimal]]  # expert → bid → exact total (incl. price)
    ranking: Ranking
    candidates: tuple[str, ...]
    dropped_expert: DropChoice | None
    findings: tuple[Finding, ...]
    abnormally_low: frozenset[str]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.BLOCKING)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == Severity.WARNING)

    @property
    def blocked(self) -> bool:
        return any(f.severity == Severity.BLOCKING for f in self.findings)


def compute_summary(
    rules: ScoringRules,
    criteria: Sequence[Criterion],
    bids: Sequence[BidInput],
    experts: Sequence[str],
    scores: Mapping[Cell, Decimal],
    *,
    declared_totals: Mapping[tuple[str, str], Decimal] | None = None,
    draws: Draws | None = None,
) -> Summary:
    """The whole summary from plain inputs.

    1. Valid bids: passed preliminary review (and, for window_mean, not above the ceiling).
    2. Price scores from evaluated prices; the PRICE criterion's cells are those scores.
    3. Checks on typed cells of valid bids: missing, number, range, step (blocking); objective items
       that differ (blocking); declared totals ``(expert, bid) → total`` that differ from the sum of
       the expert's cells plus the price score (both rounded to 2 decimals half-up, as a sheet shows
       them; blocking); deviation above the threshold (warning); abnormally low (warning).
    4. Aggregation per cell (mean / trim_high_low / drop_widest), exact.
    5. Group totals rounded; total = sum of rounded group totals.
    6. Outcome, ranking, candidates (none when the outcome is failed).
    """
    draws = draws or Draws()
    _unique("criterion", [c.id for c in criteria])
    _unique("bid", [b.id for b in bids])
    _unique("expert", list(experts))
    priced = [c for c in criteria if c.computed]
    if len(priced) > 1:
        raise RuleError("a lot has at most one price criterion")
    if priced and priced[0].max_points != rules.price.points:
        raise RuleError("the price criterion's max points must equal the price points")
    if len(experts) < MIN_MEMBERS[rules.aggregation]:
        raise RuleError(f"{rules.aggregation} needs at least {MIN_MEMBERS[rules.aggregation]} members")

    # 1-2. valid bids and price scores
    passed = {b.id: b.evaluated_price for b in bids if b.passed}
    if passed and (priced or rules.price.benchmark == Benchmark.WINDOW_MEAN):
        price = price_scores(passed, rules.price)
    else:
        price = PriceScores(benchmark=None, scores={})
    valid = tuple(b for b in passed if b not in price.rejected_above_window)
    prices = {b: passed[b] for b in valid}
    typed = [c for c in criteria if not c.computed]

    # 3. checks on single cells; collect the numbers per item
    findings: list[Finding] = []
    item_values: dict[Item, dict[str, Decimal]] = {}
    expert_totals: dict[str, dict[str, Decimal]] = {e: {} for e in experts}
    for bid in valid:
        own = dict.fromkeys(experts, price.scores.get(bid, ZERO) if priced else ZERO)
        for criterion in typed:
            numbers = item_values[Item(bid, criterion.id)] = {}
            for expert in experts:
                cell = Cell(expert, bid, criterion.id)
                value = scores.get(cell)
                if value is None:
                    findings.append(_cell_finding(FindingKind.MISSING, cell))
                    continue
                problem = check_value(value, criterion)
                if problem is not None:
                    findings.append(_cell_finding(problem, cell, value))
                    if problem == FindingKind.NOT_A_NUMBER:
                        continue
                numbers[expert] = value
                own[expert] += value
        for expert, total in own.items():
            expert_totals[expert][bid] = total

    # objective items that differ, and deviations on the others. Exact: |s − (T − s)/(n − 1)| is
    # |n·s − T| / (n − 1), so the threshold is compared without dividing, and the sums are kept per
    # divisor n − 1 and divided once at the end (a tie between experts must not hang on the 28th digit).
    scaled_sums: dict[str, dict[int, Decimal]] = {e: {} for e in experts}
    by_id = {c.id: c for c in typed}
    for item, numbers in item_values.items():
        criterion = by_id[item.criterion]
        if criterion.objective:
            if len(set(numbers.values())) > 1:
                cells = tuple(Cell(e, item.bid, item.criterion) for e in numbers)
                findings.append(
                    Finding(FindingKind.OBJECTIVE_DIFFERS, Severity.BLOCKING, cells, item.bid, item.criterion)
                )
            continue
        n = len(numbers)
        if n < 2:
            continue
        total = sum(numbers.values(), ZERO)
        limit = rules.deviation_threshold * criterion.max_points * (n - 1)
        for expert, value in numbers.items():
            scaled = abs(n * value - total)
            per_divisor = scaled_sums[expert]
            per_divisor[n - 1] = per_divisor.get(n - 1, ZERO) + scaled
            if scaled > limit:
                cell = Cell(expert, item.bid, item.criterion)
                ratio = scaled / (criterion.max_points * (n - 1))
                findings.append(
                    Finding(FindingKind.DEVIATION, Severity.WARNING, (cell,), item.bid, item.criterion, ratio)
                )

    for (expert, bid), declared in (declared_totals or {}).items():
        if (
            bid in prices
            and expert in expert_totals
            and round_half_up(declared) != round_half_up(expert_totals[expert][bid])
        ):
            cells = tuple(Cell(expert, bid, c.id) for c in typed)
            findings.append(Finding(FindingKind.ARITHMETIC, Severity.BLOCKING, cells, bid, None, declared))

    flagged: frozenset[str] = frozenset()
    if rules.abnormally_low_percent is not None:
        flagged = abnormally_low(prices, rules.abnormally_low_percent)
        findings.extend(Finding(FindingKind.ABNORMALLY_LOW, Severity.WARNING, bid=b) for b in valid if b in flagged)

    # 4. aggregation: the Decimal for the table, the Fraction for the totals
    dropped: DropChoice | None = None
    counted = set(experts)
    if rules.aggregation == Aggregation.DROP_WIDEST and valid:
        exact_totals = {e: {b: Fraction(t) for b, t in by_bid.items()} for e, by_bid in expert_totals.items()}
        deviation_sums = {
            e: sum((Fraction(v) / k for k, v in per_divisor.items()), Fraction(0))
            for e, per_divisor in scaled_sums.items()
        }
        dropped = widest_expert(exact_totals, deviation_sums, draws.widest_expert)
        counted.discard(dropped.expert)
    trim = rules.aggregation != Aggregation.MEAN
    aggregated: dict[Item, Decimal] = {}
    exact_cells: dict[Item, Fraction] = {}
    for item, numbers in item_values.items():
        kept = [v for e, v in numbers.items() if e in counted]
        if kept:
            aggregated[item] = aggregate_item(kept, trim)
            if trim and len(kept) >= 3:
                kept = sorted(kept)[1:-1]
            exact_cells[item] = Fraction(sum(kept, ZERO)) / len(kept)
    if priced:
        for bid in valid:
            aggregated[Item(bid, priced[0].id)] = price.scores[bid]
            exact_cells[Item(bid, priced[0].id)] = Fraction(price.scores[bid])

    # 5. totals
    group_totals: dict[str, dict[Group, Decimal]] = {}
    totals: dict[str, Decimal] = {}
    groups = [g for g in Group if any(c.group == g for c in criteria)]
    for bid in valid:
        exact = dict.fromkeys(groups, Fraction(0))
        for criterion in criteria:
            exact[criterion.group] += exact_cells.get(Item(bid, criterion.id), Fraction(0))
        rounded = {g: _round_fraction(v) for g, v in exact.items()}
        group_totals[bid] = rounded
        totals[bid] = round_half_up(sum(rounded.values(), ZERO))

    # 6. outcome, ranking, candidates
    outcome = evaluation_outcome(len(valid), len(bids), rules.government_procurement)
    ranking = Ranking(order=(), draw={}, draw_made=False)
    chosen: tuple[str, ...] = ()
    if outcome.outcome == Outcome.RESULT:
        technical = {b: group_totals[b].get(Group.TECHNICAL, ZERO) for b in valid}
        if rules.method == Method.COMPREHENSIVE:
            ranking = rank_by_total(totals, prices, technical, rules.tie_break, draws.rank)
        else:
            ranking = rank_by_evaluated_price(prices, technical, rules.tie_break, draws.rank)
        chosen = candidates(ranking, rules.max_candidates)

    return Summary(
        outcome=outcome,
        valid_bids=valid,
        evaluated_prices=prices,
        rejected_above_window=price.rejected_above_window,
        price=price,
        aggregated=aggregated,
        group_totals=group_totals,
        totals=totals,
        expert_totals=expert_totals,
        ranking=ranking,
        candidates=chosen,
        dropped_expert=dropped,
        findings=tuple(findings),
        abnormally_low=flagged,
    )


def _unique(what: str, ids: Sequence[str]) -> None:
    if len(set(ids)) != len(ids):
        raise RuleError(f"two {what}s share one id")


def _cell_finding(kind: FindingKind, cell: Cell, value: Decimal | None = None) -> Finding:
    return Finding(kind, Severity.BLOCKING, (cell,), cell.bid, cell.criterion, value)
