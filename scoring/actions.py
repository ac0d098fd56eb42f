"""State changes of scoring. Each action follows the core's pattern (evaluation/actions.py):

1. lock the session row and check the actor's role and the phase (``scoring/phases.py`` registers
   the rules in the core's ``ACTIONS`` table), refusing with a reason (``Refused``) otherwise;
2. validate the input, write the change and its audit event in the same transaction;
3. broadcast to the session's room after commit, with ``version=session.audit_seq``.

Before the summary nothing that leaves for the room carries a score: a saved cell broadcasts the
member's progress (cells filled of cells to fill), never the value (the audit event keeps it).

Audit event kinds written here: ``scoring.scheme_copied``, ``scoring.float_drawn``,
``preliminary.marked``, ``preliminary.concluded``, ``price.corrected``, ``price.policy_set``,
``price.low_explained``, ``score.saved``, ``sheet.submitted``, ``sheet.recheck_requested``,
``score.deviation_confirmed``, ``score.corrected``; the failed outcome is the core's
``phase.changed`` to ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from evaluation.exceptions import Refused
from evaluation.models import EvaluationSession, Lot
from evaluation.permissions import Actor
from scoring.models import (
    LotScheme,
    PreliminaryConclusion,
    PreliminaryMark,
    PriceReview,
    ScoreCorrection,
    ScoreSheet,
    ScoringTemplate,
)


class StaleScore(Refused):
    """A save based on an older version of the cell (another tab saved first).

    Carries the cell's current value and version so the refused tab can show them; nothing of the
    refused save is stored.
    """

    def __init__(self, reason: str, *, value: Decimal | None, version: int) -> None:
        super().__init__(reason, code="stale")
        self.value = value
        self.version = version


@dataclass(frozen=True)
class SavedScore:
    """What ``do_save_score`` stored: the cell's new version, and the member's progress after it."""

    cell: int
    value: Decimal | None
    version: int
    member: int
    filled: int
    total: int
    session_version: int


# --- the lot's scheme -----------------------------------------------------------------------------


def copy_template(lot: Lot, template: ScoringTemplate, actor: Actor) -> LotScheme:
    """Give ``lot`` its own copy of ``template`` (criteria and settings: the template's rules overlaid
    with ``lot.rules``). Replaces an earlier copy only while no session of the lot has started
    preliminary review. By a host (or superuser). Audit: ``scoring.scheme_copied`` on the lot's
    latest session, if any.
    """
    raise NotImplementedError


def do_draw_float(session: EvaluationSession | int, actor: Actor) -> Decimal:
    """mean_with_float: draw k from the lot's published list, once, and record it (host; before the
    summary). Audit: ``scoring.float_drawn``."""
    raise NotImplementedError


# --- preliminary review ---------------------------------------------------------------------------


def do_mark_preliminary(
    session: EvaluationSession | int,
    actor: Actor,
    bid_id: int,
    criterion_id: int,
    passed: bool,
    *,
    reason: str = "",
) -> PreliminaryMark:
    """The member's own pass/fail on one criterion of one bid (a fail needs its reason); changeable
    until the committee concludes that bid. Preliminary review only; seated members only.
    Broadcast ``preliminary.progress`` (marks made per member, no verdicts)."""
    raise NotImplementedError


def do_conclude_preliminary(
    session: EvaluationSession | int, actor: Actor, bid_id: int | None = None
) -> list[PreliminaryConclusion]:
    """The leader records the committee's conclusion on ``bid_id`` (None: on every bid not yet
    concluded whose marks are complete). Every seated member must have marked every criterion of
    the bid. A member's verdict is pass when all their marks pass; unanimous verdicts are recorded
    as such; otherwise the majority is recorded and each dissenting member's verdict and reasons are
    kept. A failed bid keeps the majority's reasons for the report. Broadcast
    ``preliminary.concluded`` (bid label, passed, unanimous)."""
    raise NotImplementedError


def do_fail_on_preliminary(session: EvaluationSession | int, actor: Actor) -> None:
    """Every bid concluded and too few valid (fewer than three in government procurement, or none):
    the evaluation fails through the core's ``fail`` transition, with the reason and the rejected
    bids named. Host or leader. Refused when the preliminary outcome does not require it."""
    raise NotImplementedError


# --- evaluated price ------------------------------------------------------------------------------


def do_record_price_correction(
    session: EvaluationSession | int,
    actor: Actor,
    bid_id: int,
    *,
    corrected_price: Decimal,
    reason: str,
    bidder_confirmed: bool | None,
    confirmation: str = "",
) -> PriceReview:
    """The leader records a correction of a bid price (arithmetic error; words prevail over figures)
    and the bidder's written answer: confirmed (the corrected price counts), refused (the bid is
    rejected), or None (pending; blocks the summary). Preliminary or detailed review."""
    raise NotImplementedError


def do_set_policy_deduction(
    session: EvaluationSession | int, actor: Actor, bid_id: int, *, small_enterprise: bool
) -> PriceReview:
    """The leader records whether the bid gets the lot's small-enterprise price deduction."""
    raise NotImplementedError


def do_record_low_price_explanation(
    session: EvaluationSession | int, actor: Actor, bid_id: int, *, explanation: str, credible: bool
) -> PriceReview:
    """For a bid flagged abnormally low: the bidder's written explanation and the committee's finding
    (recorded by the leader). Not credible: the bid is rejected. Refused for a bid not flagged."""
    raise NotImplementedError


# --- detailed review ------------------------------------------------------------------------------


def do_save_score(
    session: EvaluationSession | int,
    actor: Actor,
    bid_id: int,
    criterion_id: int,
    value: str | Decimal | int | None,
    *,
    base_version: int,
) -> SavedScore:
    """Save one cell of the actor's own sheet at once; ``value`` None clears it.

    Refused (nothing stored) unless: the phase is detailed review; the actor is a seated member
    (never host, supervisor, attendant, reviewer); the criterion belongs to this lot and is not
    computed (price); the bid passed preliminary review and is not rejected; the sheet is not
    submitted; the value is a number within [0, max] on the criterion's step. ``base_version`` is
    the version the client last saw (0 for a cell never saved); when the cell has moved on, raise
    ``StaleScore`` with its current value and version. Audit ``score.saved`` (with the value);
    broadcast ``scoring.progress`` with the member's counts only.
    """
    raise NotImplementedError


def do_submit_sheet(session: EvaluationSession | int, actor: Actor) -> ScoreSheet:
    """The member submits their whole sheet (every cell filled); it is read-only to them afterwards.
    Broadcast ``sheet.submitted`` (member, counts)."""
    raise NotImplementedError


def do_request_recheck(session: EvaluationSession | int, actor: Actor, member_id: int, *, reason: str) -> ScoreSheet:
    """The leader reopens a member's submitted sheet for a re-check, with a reason (detailed review).
    Broadcast ``sheet.recheck_requested`` (member, reason)."""
    raise NotImplementedError


def do_confirm_deviation(
    session: EvaluationSession | int,
    actor: Actor,
    bid_id: int,
    criterion_id: int,
    *,
    reason: str,
    value: str | Decimal | int | None = None,
    base_version: int,
) -> SavedScore:
    """The member answers a deviation warning on their own cell, with a written reason: keep the
    value (``value`` None) or change it (a new value, validated as in ``do_save_score``). Allowed on a
    submitted sheet, in detailed review. Audit ``score.deviation_confirmed``."""
    raise NotImplementedError


def do_correct_score(
    session: EvaluationSession | int,
    actor: Actor,
    bid_id: int,
    criterion_id: int,
    value: str | Decimal | int,
    *,
    reason: str,
    explanation: str,
    base_version: int,
) -> ScoreCorrection:
    """After the summary: the member changes their own score for one of the four Art. 64 reasons
    (``Art64Reason``) with an explanation. Old and new values, who, when and why are kept
    (``ScoreCorrection``) and audited (``score.corrected``); broadcast ``score.corrected``."""
    raise NotImplementedError
