"""The leader election count (DOMAIN.md), as a pure rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.rules import RoundResult, committee_problem, tally_round


@pytest.mark.parametrize(
    ("votes", "candidates", "seated", "round_number", "expected"),
    [
        ({1: 3, 2: 2}, [1, 2, 3, 4, 5], 5, 1, (RoundResult.ELECTED, (1,))),
        ({1: 5}, [1, 2, 3, 4, 5], 5, 1, (RoundResult.ELECTED, (1,))),
        # Two of five is not more than half: a runoff between the top two.
        ({1: 2, 2: 2, 3: 1}, [1, 2, 3, 4, 5], 5, 1, (RoundResult.RUNOFF, (1, 2))),
        ({1: 2, 2: 1, 3: 1, 4: 1}, [1, 2, 3, 4, 5], 5, 1, (RoundResult.RUNOFF, (1, 2, 3, 4))),
        ({1: 3, 2: 3, 3: 1}, [1, 2, 3, 4, 5, 6, 7], 7, 1, (RoundResult.RUNOFF, (1, 2))),
        # Blank ballots count towards the seated, not towards anyone.
        ({1: 2, 2: 2}, [1, 2], 5, 2, (RoundResult.RUNOFF, (1, 2))),
        ({1: 2, 2: 2}, [1, 2], 5, 3, (RoundResult.DRAW, (1, 2))),
        ({1: 2, 2: 1}, [1, 2], 5, 3, (RoundResult.DRAW, (1,))),
        ({}, [1, 2, 3], 5, 1, (RoundResult.RUNOFF, (1, 2, 3))),
        ({1: 4}, [1, 2, 3, 4, 5, 6, 7], 7, 3, (RoundResult.ELECTED, (1,))),
    ],
)
def test_a_round_is_counted_as_domain_md_says(votes, candidates, seated, round_number, expected):
    outcome = tally_round(votes, candidates, seated, round_number)
    assert (outcome.result, outcome.candidates) == expected


def test_a_vote_for_a_non_candidate_is_an_error():
    with pytest.raises(ValueError, match="non-candidates"):
        tally_round({9: 3}, [1, 2], 5, 1)


@given(
    seated=st.sampled_from([5, 7, 9, 11]),
    data=st.data(),
    round_number=st.integers(min_value=1, max_value=3),
)
def test_a_round_always_ends_in_a_winner_a_narrower_or_equal_runoff_or_a_draw(seated, data, round_number):
    candidates = list(range(1, seated + 1))
    ballots = data.draw(st.lists(st.sampled_from([*candidates, None]), min_size=seated, max_size=seated))
    votes: dict[int, int] = {}
    for b in ballots:
        if b is not None:
            votes[b] = votes.get(b, 0) + 1
    outcome = tally_round(votes, candidates, seated, round_number)
    assert set(outcome.candidates) <= set(candidates) and outcome.candidates
    if outcome.result == RoundResult.ELECTED:
        assert votes[outcome.candidates[0]] * 2 > seated
    else:
        assert all(n * 2 <= seated for n in votes.values())
    if outcome.result == RoundResult.DRAW:
        assert round_number == 3
        top = max(votes.values(), default=0)
        assert {c for c in candidates if votes.get(c, 0) == top} == set(outcome.candidates)


@pytest.mark.parametrize(
    ("kinds", "problem"),
    [
        (["expert"] * 5, None),
        (["expert"] * 4 + ["tenderer_rep"], None),
        (["expert"] * 7, None),
        (["expert"] * 5 + ["tenderer_rep"] * 2, None),
        (["expert"] * 4, "at least 5"),
        (["expert"] * 6, "odd"),
        (["expert"] * 3 + ["tenderer_rep"] * 2, "two thirds"),
        ([], "at least 5"),
    ],
)
def test_a_committee_must_be_five_or_more_odd_and_two_thirds_experts(kinds, problem):
    result = committee_problem(kinds)
    if problem is None:
        assert result is None
    else:
        assert result is not None and problem in result
