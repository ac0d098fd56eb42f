"""Reads of scoring, each for one viewer or one purpose, built from the database through
``scoring/rules.py`` (no formula lives here).

Who sees what: a member reads their own sheet and every member's progress (counts), never another
member's values before the summary; in anonymous (暗标) technical review, experts see bid labels,
not bidder names (``evaluation.permissions.bidder_names_visible``). The summary is for the leader,
host and supervisor once the session is in summary (or later).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from evaluation.models import EvaluationSession
from evaluation.permissions import Actor
from scoring.models import LotScheme


@dataclass(frozen=True)
class BidView:
    """A bid as a viewer may see it: ``name`` is None when the viewer sees labels only."""

    id: int
    label: str
    name: str | None
    price: Decimal


@dataclass(frozen=True)
class CriterionView:
    id: int
    code: str
    group: str
    title: str
    description: str
    max_points: Decimal
    step: Decimal
    objective: bool
    computed: bool


@dataclass(frozen=True)
class CellView:
    value: Decimal | None
    version: int
    deviation_reason: str = ""


@dataclass(frozen=True)
class Progress:
    member: int
    name: str
    filled: int
    total: int
    submitted: bool
    recheck_requested: bool


@dataclass(frozen=True)
class SheetView:
    """The member's own sheet: the bids in detailed review × the typed criteria, with saved cells
    keyed by (bid id, criterion id)."""

    member: int
    bids: list[BidView]
    criteria: list[CriterionView]
    cells: dict[tuple[int, int], CellView]
    submitted: bool
    editable: bool
    recheck_reason: str
    progress: Progress
    # Deviation warnings on this member's cells that still need a confirmation or a change.
    warnings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """One result of the Art. 64 checks. Blocking findings stop the summary and name their cells."""

    kind: str  # "arithmetic" | "out_of_range" | "objective_differs" | "deviation" | "unconfirmed" ...
    blocking: bool
    message: str
    bid: int | None = None
    criterion: int | None = None
    members: tuple[int, ...] = ()


@dataclass(frozen=True)
class PreliminaryBidStatus:
    bid: BidView
    marks: int  # marks made by seated members on this bid
    expected: int  # seated members × preliminary criteria
    concluded: bool
    passed: bool | None
    unanimous: bool | None
    reasons: list[dict[str, Any]]
    dissent: list[dict[str, Any]]


@dataclass(frozen=True)
class PreliminaryOutcome:
    """After every bid is concluded: how many are valid, and whether the evaluation fails."""

    complete: bool
    valid: list[int]
    rejected: list[int]
    fails: bool
    reason: str


@dataclass(frozen=True)
class SummaryRow:
    bid: BidView
    evaluated_price: Decimal
    criteria: dict[int, Decimal]  # aggregated (exact) score per criterion id, price computed
    groups: dict[str, Decimal]  # rounded total per criterion group
    total: Decimal
    rank: int
    candidate: bool
    expert_totals: dict[int, Decimal]  # member id → that member's total for this bid


@dataclass(frozen=True)
class Summary:
    rows: list[SummaryRow]
    rejected: list[dict[str, Any]]  # bids out of the ranking, with their reasons
    findings: list[Finding]
    corrections: list[dict[str, Any]]
    blocked: bool
    dropped_members: list[int]  # drop_widest: the member left out of aggregation
    data: dict[str, Any] = field(default_factory=dict)  # rule details (benchmark, draw) for the report


def scheme_of(session: EvaluationSession) -> LotScheme | None:
    """The lot's scoring scheme (its copy of a template), or None if none was copied yet."""
    raise NotImplementedError


def bids_for(session: EvaluationSession, viewer: Actor) -> list[BidView]:
    """Every bid of the lot as ``viewer`` may see it (labels only in anonymous review)."""
    raise NotImplementedError


def detailed_bids(session: EvaluationSession) -> list[int]:
    """Ids of the bids in detailed review: passed preliminary review and not rejected on price."""
    raise NotImplementedError


def member_sheet(session: EvaluationSession, viewer: Actor) -> SheetView:
    """The viewer's own sheet, exactly as saved (``Refused`` if the viewer is not a seated member)."""
    raise NotImplementedError


def progress(session: EvaluationSession) -> list[Progress]:
    """Cells filled per seated member, of the cells to fill: counts only, safe for everyone."""
    raise NotImplementedError


def preliminary_sheet(session: EvaluationSession, viewer: Actor) -> dict[tuple[int, int], tuple[bool, str]]:
    """The viewer's own preliminary marks: (bid id, criterion id) → (passed, reason)."""
    raise NotImplementedError


def preliminary_status(session: EvaluationSession, viewer: Actor) -> list[PreliminaryBidStatus]:
    """Per bid: marks made of expected, and the committee's conclusion once recorded."""
    raise NotImplementedError


def preliminary_outcome(session: EvaluationSession) -> PreliminaryOutcome:
    """Valid and rejected bids after preliminary review and whether the evaluation fails."""
    raise NotImplementedError


def run_checks(session: EvaluationSession) -> list[Finding]:
    """The Order 87 Art. 64 checks on the submitted sheets: arithmetic, out-of-range and objective
    items that differ block the summary; a deviation above the lot's threshold warns until its
    member confirms or changes it with a reason (then it blocks no more)."""
    raise NotImplementedError


def build_summary(session: EvaluationSession, viewer: Actor | None = None) -> Summary:
    """Aggregated table per bid and criterion, totals, ranking, candidates, with the findings.
    ``viewer`` None builds it for the record (names shown); otherwise the viewer must be the
    leader, host or supervisor in summary or later (``Refused`` otherwise)."""
    raise NotImplementedError


def summary_problem(session: EvaluationSession) -> str | None:
    """Why the summary may not open yet (a sheet not submitted, a blocking finding, an unanswered
    deviation, a price matter pending), or None."""
    raise NotImplementedError


def export_result(session: EvaluationSession, viewer: Actor) -> dict[str, Any]:
    """The final result as plain JSON (bids with status, ranks, totals, candidates, rejections,
    corrections); leader, host or supervisor, in summary or later."""
    raise NotImplementedError
