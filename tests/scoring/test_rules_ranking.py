"""Ranking with the tie rules, the lowest-evaluated-price order, and the candidates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.rules import RuleError, TieBreak, candidates, rank_by_evaluated_price, rank_by_total

D = Decimal  # short, for the tables below


def money(**values: str) -> dict[str, D]:
    return {k: D(v) for k, v in values.items()}


def test_higher_total_ranks_first_and_a_tie_goes_to_the_lower_price():
    ranking = rank_by_total(
        money(a="90.00", b="95.00", c="90.00"), money(a="100", b="120", c="90"), money(a="50", b="50", c="40")
    )
    assert ranking.order == ("b", "c", "a")
    assert ranking.rank_of("a") == 3
    assert ranking.draw == {}
    assert not ranking.draw_made


def test_still_tied_the_higher_technical_score_ranks_first():
    ranking = rank_by_total(money(a="90", c="90"), money(a="100", c="100"), money(a="50", c="60"), TieBreak.TECHNICAL)
    assert ranking.order == ("c", "a")


def test_with_the_draw_tie_break_technical_scores_do_not_count():
    ranking = rank_by_total(
        money(a="90", c="90"), money(a="100", c="100"), money(a="50", c="60"), TieBreak.DRAW, draw={"a": 1, "c": 2}
    )
    assert ranking.order == ("a", "c")
    assert ranking.draw == {"a": 1, "c": 2}
    assert not ranking.draw_made


def test_a_tie_on_everything_goes_to_the_recorded_draw():
    ranking = rank_by_total(
        money(a="90", b="95", c="90"),
        money(a="100", b="1", c="100"),
        money(a="50", b="1", c="50"),
        draw={"a": 2, "c": 1},
    )
    assert ranking.order == ("b", "c", "a")


def test_without_a_recorded_draw_one_is_made_for_the_tied_bids_only():
    ranking = rank_by_total(money(a="90", b="95", c="90"), money(a="100", b="1", c="100"), {}, TieBreak.DRAW)
    assert ranking.draw_made
    assert set(ranking.draw) == {"a", "c"}
    assert ranking.order[0] == "b"
    assert ranking.order[1:] == tuple(sorted("ac", key=ranking.draw.__getitem__))


def test_a_recorded_draw_giving_two_tied_bids_one_number_is_refused():
    with pytest.raises(RuleError, match="same number"):
        rank_by_total(money(a="90", c="90"), money(a="1", c="1"), {}, TieBreak.DRAW, draw={"a": 1, "c": 1})


def test_bids_tied_after_the_draw_was_recorded_get_fresh_numbers_after_it():
    recorded = {"a": 1, "b": 2}
    ranking = rank_by_total(
        money(a="90", b="90", c="80", d="80"), money(a="1", b="1", c="1", d="1"), {}, TieBreak.DRAW, draw=recorded
    )
    assert ranking.draw_made
    assert {ranking.draw["a"], ranking.draw["b"]} == {1, 2}
    assert {ranking.draw["c"], ranking.draw["d"]} == {3, 4}
    assert ranking.order[:2] == ("a", "b")
    again = rank_by_total(
        money(a="90", b="90", c="80", d="80"), money(a="1", b="1", c="1", d="1"), {}, TieBreak.DRAW, draw=ranking.draw
    )
    assert again.order == ranking.order
    assert not again.draw_made


def test_lowest_evaluated_price_ranks_by_price_ascending():
    ranking = rank_by_evaluated_price(money(a="300.00", b="100.01", c="100.00"))
    assert ranking.order == ("c", "b", "a")


def test_lowest_evaluated_price_tie_follows_the_same_tie_rules():
    prices = money(a="100", b="100")
    assert rank_by_evaluated_price(prices, money(a="1", b="2"), TieBreak.TECHNICAL).order == ("b", "a")
    assert rank_by_evaluated_price(prices, None, TieBreak.DRAW, draw={"a": 1, "b": 2}).order == ("a", "b")


def test_at_most_three_candidates_are_recommended():
    ranking = rank_by_evaluated_price(money(a="1", b="2", c="3", d="4", e="5"))
    assert candidates(ranking) == ("a", "b", "c")
    assert candidates(ranking, 1) == ("a",)
    assert candidates(rank_by_evaluated_price(money(a="1", b="2"))) == ("a", "b")
    with pytest.raises(RuleError):
        candidates(ranking, 4)
