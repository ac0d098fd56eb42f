"""Properties: scores stay within [floor, full]; the ranking is a total order by the tie rules;
aggregation does not depend on the order of experts or bids."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from scoring.rules import (
    Aggregation,
    Benchmark,
    BidInput,
    Cell,
    Criterion,
    Draws,
    Group,
    PriceFormula,
    PriceRule,
    ScoringRules,
    TieBreak,
    compute_summary,
    price_scores,
    rank_by_total,
)

money = st.integers(min_value=1, max_value=10**10).map(lambda cents: Decimal(cents) / 100)
points = st.integers(min_value=1, max_value=100).map(Decimal)
percent = st.integers(min_value=0, max_value=400).map(lambda n: Decimal(n) / 100)


@st.composite
def price_rules(draw: st.DrawFn) -> PriceRule:
    full = draw(points)
    e1 = draw(percent)
    e2 = draw(st.integers(min_value=0, max_value=int(e1 * 100)).map(lambda n: Decimal(n) / 100))
    benchmark = draw(st.sampled_from(Benchmark))
    return PriceRule(
        formula=draw(st.sampled_from(PriceFormula)),
        benchmark=benchmark,
        points=full,
        e1=e1,
        e2=e2,
        floor=Decimal(draw(st.integers(min_value=0, max_value=int(full)))),
        float_k=draw(st.sampled_from([Decimal("-0.07"), Decimal("-0.03"), Decimal("0.02")])),
        ceiling=draw(money),
        window_percent=Decimal(draw(st.integers(min_value=1, max_value=100))),
    )


@given(rule=price_rules(), prices=st.lists(money, min_size=1, max_size=12))
def test_price_scores_stay_within_floor_and_full(rule, prices):
    result = price_scores({f"b{i}": p for i, p in enumerate(prices)}, rule)
    assert all(rule.floor <= s <= rule.points for s in result.scores.values())
    scored = set(result.scores) | result.rejected_above_window
    assert scored == {f"b{i}" for i in range(len(prices))}


ranking_inputs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6).map(Decimal),  # few values, many ties
        st.integers(min_value=1, max_value=3).map(Decimal),
        st.integers(min_value=0, max_value=2).map(Decimal),
    ),
    min_size=1,
    max_size=10,
)


@given(rows=ranking_inputs, tie_break=st.sampled_from(TieBreak), seed=st.integers(0, 2**32))
def test_ranking_is_a_total_order_by_the_tie_rules(rows, tie_break, seed):
    ids = [f"b{i}" for i in range(len(rows))]
    totals = {b: r[0] for b, r in zip(ids, rows, strict=True)}
    prices = {b: r[1] for b, r in zip(ids, rows, strict=True)}
    technical = {b: r[2] for b, r in zip(ids, rows, strict=True)}
    numbers = list(range(1, len(ids) + 1))
    random.Random(seed).shuffle(numbers)
    draw = dict(zip(ids, numbers, strict=True))
    ranking = rank_by_total(totals, prices, technical, tie_break, draw)
    assert sorted(ranking.order) == sorted(ids)

    def key(b: str) -> tuple:
        middle = (-technical[b],) if tie_break == TieBreak.TECHNICAL else ()
        return (-totals[b], prices[b], *middle, draw[b])

    keys = [key(b) for b in ranking.order]
    assert all(a < b for a, b in itertools.pairwise(keys))
    # the result does not depend on the order the bids came in
    again = rank_by_total(dict(reversed(totals.items())), prices, technical, tie_break, draw)
    assert again.order == ranking.order


@st.composite
def lots(draw: st.DrawFn):
    aggregation = draw(st.sampled_from(Aggregation))
    n_experts = draw(st.integers(min_value={"mean": 1, "trim_high_low": 7, "drop_widest": 9}[aggregation], max_value=9))
    n_bids = draw(st.integers(min_value=1, max_value=5))
    criteria = [
        Criterion("t1", Group.TECHNICAL, Decimal("10"), Decimal("0.5")),
        Criterion("c1", Group.COMMERCIAL, Decimal("5"), Decimal("1")),
        Criterion("p", Group.PRICE, Decimal("30"), Decimal("0.01")),
    ]
    experts = [f"e{i}" for i in range(n_experts)]
    bids = [BidInput(f"b{i}", draw(money), passed=draw(st.booleans()) or i == 0) for i in range(n_bids)]
    halves = st.integers(min_value=0, max_value=20).map(lambda n: Decimal(n) / 2)
    units = st.integers(min_value=0, max_value=5).map(Decimal)
    scores = {}
    for e in experts:
        for b in bids:
            scores[Cell(e, b.id, "t1")] = draw(halves)
            scores[Cell(e, b.id, "c1")] = draw(units)
    rules = ScoringRules(aggregation=aggregation, price=PriceRule(benchmark=draw(st.sampled_from(list(Benchmark)[:4]))))
    return rules, criteria, bids, experts, scores


@given(lot=lots(), seed=st.integers(0, 2**32))
def test_the_summary_does_not_depend_on_the_order_of_experts_and_bids(lot, seed):
    rules, criteria, bids, experts, scores = lot
    first = compute_summary(rules, criteria, bids, experts, scores)
    # replay the draws the first run made, as the application records them
    draws = Draws(
        widest_expert=first.dropped_expert.expert if first.dropped_expert else None,
        rank=dict(first.ranking.draw) or None,
    )
    first = compute_summary(rules, criteria, bids, experts, scores, draws=draws)
    shuffler = random.Random(seed)
    experts2, bids2 = list(experts), list(bids)
    shuffler.shuffle(experts2)
    shuffler.shuffle(bids2)
    scores2 = dict(shuffler.sample(list(scores.items()), len(scores)))
    second = compute_summary(rules, criteria, bids2, experts2, scores2, draws=draws)
    assert second.aggregated == first.aggregated
    assert second.totals == first.totals
    assert second.group_totals == first.group_totals
    assert second.ranking.order == first.ranking.order
    assert second.candidates == first.candidates
    assert set(second.findings) == set(first.findings)
    for totals in first.totals.values():
        assert Decimal(0) <= totals <= Decimal(45)
