"""Pure rules of the core (DOMAIN.md): committee composition and the leader election count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext

MIN_COMMITTEE = 5
MAX_ELECTION_ROUNDS = 3


def committee_problem(member_kinds: Sequence[str]) -> str | None:
    """Why a committee of members of these kinds ("expert" / "tenderer_rep") may not sit, or None.

    DOMAIN.md: 5 or more members, an odd number, at least two thirds technical/economic experts.
    """
    n = len(member_kinds)
    if n < MIN_COMMITTEE:
        return gettext("the committee has %(n)s seated members; it needs at least %(min)s") % {
            "n": n,
            "min": MIN_COMMITTEE,
        }
    if n % 2 == 0:
        return gettext("the committee has %(n)s seated members; it needs an odd number") % {"n": n}
    experts = sum(1 for k in member_kinds if k == "expert")
    if experts * 3 < n * 2:
        return gettext("only %(experts)s of %(n)s members are experts; at least two thirds must be") % {
            "experts": experts,
            "n": n,
        }
    return None


class RoundResult(StrEnum):
    ELECTED = "elected"
    RUNOFF = "runoff"
    DRAW = "draw"


@dataclass(frozen=True)
class RoundOutcome:
    result: RoundResult
    # ELECTED: the winner alone; RUNOFF: the next round's candidates; DRAW: those drawn among.
    candidates: tuple[int, ...]


def tally_round(votes: Mapping[int, int], candidates: Sequence[int], seated: int, round_number: int) -> RoundOutcome:
    """Count one round of the secret ballot for leader.

    1. A candidate with more than half of the seated members' votes is elected (blank ballots count
       towards the seated members, not towards anyone).
    2. Otherwise, before the last round, the next round is a runoff between the top two: the
       candidates with the most votes, and when that is one candidate, also every candidate tied
       for second place (candidates with no votes included, so a tie is never broken by omission).
    3. After the last round without a majority, a draw among the candidates with the most votes;
       the caller performs and records it.
    """
    if seated <= 0 or not candidates:
        raise ValueError("an election needs seated members and candidates")
    unknown = set(votes) - set(candidates)
    if unknown:
        raise ValueError(f"votes for non-candidates: {sorted(unknown)}")
    counts = {c: votes.get(c, 0) for c in candidates}
    for candidate, count in counts.items():
        if count * 2 > seated:
            return RoundOutcome(RoundResult.ELECTED, (candidate,))
    ordered = sorted(set(counts.values()), reverse=True)
    top = tuple(sorted(c for c, n in counts.items() if n == ordered[0]))
    if round_number >= MAX_ELECTION_ROUNDS:
        return RoundOutcome(RoundResult.DRAW, top)
    if len(top) >= 2 or len(ordered) == 1:
        return RoundOutcome(RoundResult.RUNOFF, top if len(top) >= 2 else tuple(sorted(counts)))
    second = tuple(sorted(c for c, n in counts.items() if n == ordered[1]))
    return RoundOutcome(RoundResult.RUNOFF, tuple(sorted(top + second)))
