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
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from evaluation.actions import _check_action, _lock, _member_data, _text, do_transition
from evaluation.audit import record_event
from evaluation.events import broadcast
from evaluation.exceptions import Refused
from evaluation.models import Bid, CommitteeMember, EvaluationSession, Lot, Phase
from evaluation.permissions import Actor, require_host_group, seat_of, signed_in
from evaluation.phases import ACTIONS, COMMITTEE_OPEN, check_transition
from evaluation.protocol import LotRules
from scoring import queries, rules
from scoring.models import (
    Art64Reason,
    Criterion,
    LotScheme,
    PreliminaryConclusion,
    PreliminaryCriterion,
    PreliminaryMark,
    PriceReview,
    ScoreCell,
    ScoreCorrection,
    ScoreSheet,
    ScoringTemplate,
)

# A lot's scheme may be replaced only while its sessions are before preliminary review.
SCHEME_OPEN = COMMITTEE_OPEN | {Phase.LEADER_ELECTION}
VALUE_REFUSALS = {
    rules.FindingKind.NOT_A_NUMBER: gettext_lazy("%(value)s is not a number"),
    rules.FindingKind.OUT_OF_RANGE: gettext_lazy("%(value)s is outside 0–%(max)s for %(code)s"),
    rules.FindingKind.OFF_STEP: gettext_lazy("%(value)s is not on the step %(step)s of %(code)s"),
}


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


# --- shared checks --------------------------------------------------------------------------------


def _start(session: EvaluationSession | int, actor: Actor, action: str) -> tuple[EvaluationSession, CommitteeMember]:
    """Lock, check the action's phase and roles, and return the actor's seat."""
    locked = _lock(session)
    _check_action(ACTIONS[action], actor, locked)
    member = seat_of(actor, locked)
    assert member is not None  # MEMBER or LEADER found the seat
    return locked, member


def _bid(session: EvaluationSession, bid_id: int) -> Bid:
    bid = Bid.objects.filter(pk=bid_id, lot_id=session.lot_id).first()
    if bid is None:
        raise Refused(gettext("bid %(id)s is not a bid of this lot") % {"id": bid_id}, code="not_found")
    return bid


def _criterion(session: EvaluationSession, criterion_id: int) -> Criterion:
    criterion = Criterion.objects.filter(pk=criterion_id, scheme__lot_id=session.lot_id).first()
    if criterion is None:
        raise Refused(
            gettext("criterion %(id)s is not a criterion of this lot") % {"id": criterion_id}, code="not_found"
        )
    if criterion.computed:
        raise Refused(
            gettext("%(code)s is the price score: it is computed, never typed") % {"code": criterion.code},
            code="invalid",
        )
    return criterion


def _in_detailed_review(session: EvaluationSession, bid: Bid) -> list[int]:
    """The bids in detailed review (``bid`` among them, or ``Refused``)."""
    in_review = queries.detailed_bids(session)
    if bid.pk not in in_review:
        raise Refused(
            gettext("bid %(label)s is not in detailed review (rejected or not passed)")
            % {"label": bid.anonymous_label},
            code="invalid",
        )
    return in_review


def _number(value: str | Decimal | int | None, criterion: Criterion) -> Decimal:
    """The typed value as a Decimal on the criterion's scale, or ``Refused`` with the reason."""
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise Refused(gettext("%(value)r is not a number") % {"value": value}, code="invalid")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        number = Decimal("NaN")
    rule = rules.Criterion(str(criterion.pk), rules.Group(criterion.group), criterion.max_points, criterion.step)
    problem = rules.check_value(number, rule)
    if problem is not None:
        raise Refused(
            str(VALUE_REFUSALS[problem])
            % {"value": value, "max": criterion.max_points, "step": criterion.step, "code": criterion.code},
            code="invalid",
        )
    return number.quantize(Decimal("0.01"))


def _sheet(session: EvaluationSession, member: CommitteeMember) -> ScoreSheet:
    sheet, _ = ScoreSheet.objects.select_for_update().get_or_create(session=session, member=member)
    return sheet


def _store(
    sheet: ScoreSheet, bid: Bid, criterion: Criterion, value: Decimal | None, base_version: int
) -> tuple[ScoreCell, Decimal | None]:
    """Write the cell if ``base_version`` is its current version; return it and its old value."""
    cell = ScoreCell.objects.select_for_update().filter(sheet=sheet, bid=bid, criterion=criterion).first()
    if cell is not None:
        cell.bid, cell.criterion = bid, criterion  # already read: spare the queries
    current = cell.version if cell is not None else 0
    if base_version != current:
        raise StaleScore(
            gettext("%(code)s of bid %(label)s was saved elsewhere meanwhile (version %(version)s); reload it")
            % {"code": criterion.code, "label": bid.anonymous_label, "version": current},
            value=cell.value if cell is not None else None,
            version=current,
        )
    now = timezone.now()
    if cell is None:
        cell = ScoreCell.objects.create(
            sheet=sheet, bid=bid, criterion=criterion, value=value, version=1, updated_at=now
        )
        return cell, None
    old = cell.value
    cell.value, cell.version, cell.updated_at = value, cell.version + 1, now
    cell.save(update_fields=["value", "version", "updated_at"])
    return cell, old


def _progress(
    session: EvaluationSession,
    member: CommitteeMember,
    sheet: ScoreSheet,
    cell: ScoreCell,
    in_review: list[int],
    *,
    announce: bool = True,
) -> SavedScore:
    """The saved cell and the member's counts; with ``announce`` the room gets the counts and which
    cell moved (never its value), so the member's other tabs reload it."""
    filled, total = queries.sheet_counts(sheet, in_review, cell.criterion.scheme_id)
    saved = SavedScore(cell.pk, cell.value, cell.version, member.pk, filled, total, session.audit_seq)
    if not announce:
        return saved
    data = {
        **_member_data(member),
        "filled": filled,
        "total": total,
        "submitted": sheet.submitted_at is not None,
        "bid": cell.bid_id,
        "criterion": cell.criterion_id,
        "cell_version": cell.version,
    }
    broadcast(session.pk, "scoring.progress", data, version=session.audit_seq)
    return saved


def _cell_data(member: CommitteeMember, bid: Bid, criterion: Criterion, cell: ScoreCell) -> dict[str, Any]:
    return {
        "member": member.pk,
        "bid": bid.pk,
        "label": bid.anonymous_label,
        "criterion": criterion.pk,
        "code": criterion.code,
        "value": cell.value,
        "version": cell.version,
    }


# --- the lot's scheme -----------------------------------------------------------------------------


@transaction.atomic
def copy_template(lot: Lot, template: ScoringTemplate, actor: Actor) -> LotScheme:
    """Give ``lot`` its own copy of ``template`` (criteria and settings: the template's rules overlaid
    with ``lot.rules``; the price criterion's points follow the settings' price points). Replaces an
    earlier copy only while no session of the lot has started preliminary review. By a host (or
    superuser). Audit: ``scoring.scheme_copied`` on the lot's latest session, if any.
    """
    user = require_host_group(actor, gettext("only a host gives a lot its scoring scheme"))
    lot = Lot.objects.select_for_update().select_related("project").get(pk=lot.pk)
    sessions = list(EvaluationSession.objects.select_for_update().filter(lot=lot).order_by("id"))
    if any(s.phase not in SCHEME_OPEN for s in sessions):
        raise Refused(gettext("the lot's review has started: its scoring scheme is frozen"), code="conflict")
    settings = LotRules.model_validate({**template.rules, **lot.rules})
    merged = settings.model_dump(mode="json")
    LotScheme.objects.filter(lot=lot).delete()
    scheme = LotScheme.objects.create(
        lot=lot,
        template=template,
        template_name=template.name,
        method=template.method,
        rules=merged,
        copied_at=timezone.now(),
        copied_by=user,
    )
    PreliminaryCriterion.objects.bulk_create(
        PreliminaryCriterion(
            scheme=scheme, code=c.code, group=c.group, title=c.title, description=c.description, position=c.position
        )
        for c in template.preliminary_criteria.all()
    )
    Criterion.objects.bulk_create(
        Criterion(
            scheme=scheme,
            code=c.code,
            group=c.group,
            title=c.title,
            description=c.description,
            max_points=settings.price_points if c.computed else c.max_points,
            step=c.step,
            objective=c.objective,
            position=c.position,
        )
        for c in template.criteria.all()
    )
    if sessions:
        session = sessions[-1]
        data = {
            "lot": lot.pk,
            "template": template.name,
            "method": template.method,
            "preliminary": scheme.preliminary_criteria.count(),
            "criteria": scheme.criteria.count(),
            "rules": merged,
        }
        record_event(session, actor, "scoring.scheme_copied", data)
        broadcast(session.pk, "scoring.scheme_copied", {"template": template.name}, version=session.audit_seq)
    return scheme


@transaction.atomic
def do_draw_float(session: EvaluationSession | int, actor: Actor) -> Decimal:
    """mean_with_float: draw k from the lot's published list, once, and record it (host; before the
    summary). Audit: ``scoring.float_drawn``."""
    session = _lock(session)
    _check_action(ACTIONS["draw_float"], actor, session)
    scheme = LotScheme.objects.select_for_update().filter(lot_id=session.lot_id).first()
    if scheme is None:
        raise Refused(gettext("the lot has no scoring scheme yet"), code="precondition")
    settings = queries.lot_rules(scheme)
    if settings.benchmark != "mean_with_float":
        raise Refused(gettext("the lot's benchmark does not use a float"), code="invalid")
    if scheme.float_draw is not None:
        raise Refused(gettext("k has already been drawn: %(k)s") % {"k": scheme.float_draw}, code="conflict")
    k = rules.draw_float_k(settings.float_list)
    scheme.float_draw, scheme.float_drawn_at, scheme.float_drawn_by = k, timezone.now(), signed_in(actor)
    scheme.save(update_fields=["float_draw", "float_drawn_at", "float_drawn_by"])
    data = {"k": k, "among": settings.float_list}
    record_event(session, actor, "scoring.float_drawn", data)
    broadcast(session.pk, "scoring.float_drawn", data, version=session.audit_seq)
    return k


# --- preliminary review ---------------------------------------------------------------------------


@transaction.atomic
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
    session, member = _start(session, actor, "mark_preliminary")
    bid = _bid(session, bid_id)
    criterion = PreliminaryCriterion.objects.filter(pk=criterion_id, scheme__lot_id=session.lot_id).first()
    if criterion is None:
        raise Refused(
            gettext("criterion %(id)s is not a criterion of this lot") % {"id": criterion_id}, code="not_found"
        )
    if PreliminaryConclusion.objects.filter(session=session, bid=bid).exists():
        raise Refused(
            gettext("the committee has concluded on bid %(label)s") % {"label": bid.anonymous_label}, code="conflict"
        )
    reason = _text(reason, gettext_lazy("a reason for the fail"), required=not passed) if not passed else ""
    mark, _ = PreliminaryMark.objects.update_or_create(
        member=member,
        bid=bid,
        criterion=criterion,
        defaults={"session": session, "passed": passed, "reason": reason, "marked_at": timezone.now()},
    )
    data = {**_member_data(member), "bid": bid.pk, "criterion": criterion.pk, "passed": passed, "reason": reason}
    record_event(session, actor, "preliminary.marked", data)
    marks = PreliminaryMark.objects.filter(session=session, member=member).count()
    broadcast(session.pk, "preliminary.progress", {**_member_data(member), "marks": marks}, version=session.audit_seq)
    return mark


@transaction.atomic
def do_pass_preliminary(session: EvaluationSession | int, actor: Actor, bid_id: int) -> list[PreliminaryMark]:
    """The member passes the bid on every preliminary criterion at once (全部合格), replacing their
    earlier marks on it; until the committee concludes that bid. Audit one ``preliminary.marked``
    event naming every criterion; broadcast ``preliminary.progress``."""
    session, member = _start(session, actor, "mark_preliminary")
    bid = _bid(session, bid_id)
    if PreliminaryConclusion.objects.filter(session=session, bid=bid).exists():
        raise Refused(
            gettext("the committee has concluded on bid %(label)s") % {"label": bid.anonymous_label}, code="conflict"
        )
    criteria = queries.preliminary_criteria(session)
    now = timezone.now()
    PreliminaryMark.objects.filter(member=member, bid=bid).delete()
    marks = PreliminaryMark.objects.bulk_create(
        PreliminaryMark(session=session, member=member, bid=bid, criterion=c, passed=True, marked_at=now)
        for c in criteria
    )
    data = {**_member_data(member), "bid": bid.pk, "criteria": [c.pk for c in criteria], "passed": True}
    record_event(session, actor, "preliminary.marked", data)
    count = PreliminaryMark.objects.filter(session=session, member=member).count()
    broadcast(session.pk, "preliminary.progress", {**_member_data(member), "marks": count}, version=session.audit_seq)
    return marks


def _verdicts(
    session: EvaluationSession, bid: Bid, seated: list[CommitteeMember], criteria: list[PreliminaryCriterion]
) -> dict[int, list[PreliminaryMark]]:
    """Each seated member's marks on the bid; ``Refused`` naming who has not marked every criterion."""
    marks: dict[int, list[PreliminaryMark]] = {m.pk: [] for m in seated}
    for mark in PreliminaryMark.objects.filter(session=session, bid=bid, member__in=seated).select_related("criterion"):
        marks[mark.member_id].append(mark)
    missing = [m.display_name for m in seated if len(marks[m.pk]) < len(criteria)]
    if missing:
        raise Refused(
            gettext("bid %(label)s: not yet marked on every criterion by %(names)s")
            % {"label": bid.anonymous_label, "names": "、".join(missing)},
            code="precondition",
        )
    return marks


def _conclude(
    session: EvaluationSession,
    actor: Actor,
    bid: Bid,
    seated: list[CommitteeMember],
    criteria: list[PreliminaryCriterion],
) -> PreliminaryConclusion:
    """1. Each member's verdict: pass when all their marks pass.
    2. The conclusion: pass when more than half of the seated members' verdicts pass.
    3. Unanimous when every verdict agrees; otherwise each member whose verdict differs is a dissent,
       kept with their own fail reasons.
    4. A failed bid keeps, per criterion, the reasons the members who failed it gave."""
    marks = _verdicts(session, bid, seated, criteria)
    verdict = {m: all(mark.passed for mark in ms) for m, ms in marks.items()}
    passes = sum(verdict.values())
    passed = passes * 2 > len(seated)
    names = {m.pk: m.display_name for m in seated}

    def fails(member: int) -> list[dict[str, Any]]:
        return [
            {"criterion": k.criterion_id, "code": k.criterion.code, "title": k.criterion.title, "reason": k.reason}
            for k in marks[member]
            if not k.passed
        ]

    dissent = [
        {"member": m, "name": names[m], "passed": v, "reasons": fails(m)} for m, v in verdict.items() if v != passed
    ]
    reasons: list[dict[str, Any]] = []
    if not passed:
        for criterion in criteria:
            given = [
                {"member": m, "name": names[m], "reason": k.reason}
                for m in marks
                if not verdict[m]
                for k in marks[m]
                if k.criterion_id == criterion.pk and not k.passed
            ]
            if given:
                reasons.append(
                    {"criterion": criterion.pk, "code": criterion.code, "title": criterion.title, "reasons": given}
                )
    conclusion = PreliminaryConclusion.objects.create(
        session=session,
        bid=bid,
        passed=passed,
        unanimous=not dissent,
        reasons=reasons,
        dissent=dissent,
        recorded_by=signed_in(actor),
        recorded_at=timezone.now(),
    )
    data = {"bid": bid.pk, "label": bid.anonymous_label, "passed": passed, "unanimous": not dissent}
    record_event(session, actor, "preliminary.concluded", {**data, "reasons": reasons, "dissent": dissent})
    broadcast(session.pk, "preliminary.concluded", data, version=session.audit_seq)
    return conclusion


@transaction.atomic
def do_conclude_preliminary(
    session: EvaluationSession | int, actor: Actor, bid_id: int | None = None
) -> list[PreliminaryConclusion]:
    """The leader records the committee's conclusion on ``bid_id`` (None: on every bid not yet
    concluded; then every one must be completely marked). Every seated member must have marked every
    criterion of the bid. A member's verdict is pass when all their marks pass; unanimous verdicts
    are recorded as such; otherwise the majority is recorded and each dissenting member's verdict
    and reasons are kept. A failed bid keeps the majority's reasons for the report. Broadcast
    ``preliminary.concluded`` (bid label, passed, unanimous)."""
    session, _ = _start(session, actor, "conclude_preliminary")
    seated = list(session.seated_members().select_related("user__expert"))
    criteria = queries.preliminary_criteria(session)
    if not criteria:
        raise Refused(gettext("the lot's scoring scheme has no preliminary criteria"), code="precondition")
    done = set(PreliminaryConclusion.objects.filter(session=session).values_list("bid_id", flat=True))
    if bid_id is not None:
        bid = _bid(session, bid_id)
        if bid.pk in done:
            raise Refused(
                gettext("the committee has concluded on bid %(label)s") % {"label": bid.anonymous_label},
                code="conflict",
            )
        bids = [bid]
    else:
        bids = [b for b in Bid.objects.filter(lot_id=session.lot_id).order_by("anonymous_label") if b.pk not in done]
        if not bids:
            raise Refused(gettext("every bid has been concluded"), code="conflict")
    return [_conclude(session, actor, bid, seated, criteria) for bid in bids]


@transaction.atomic
def do_fail_on_preliminary(session: EvaluationSession | int, actor: Actor) -> None:
    """Every bid concluded and too few valid (fewer than three in government procurement, or none;
    a bid rejected on price counts as not valid): the evaluation fails through the core's ``fail``
    transition, with the reason and the rejected bids named. Host or leader (the core's rule).
    Refused when the outcome does not require it."""
    locked = _lock(session)
    check_transition(actor, locked, "fail")
    outcome = queries.preliminary_outcome(locked)
    if not outcome.complete:
        raise Refused(gettext("preliminary review has not concluded on every bid"), code="precondition")
    if not outcome.fails:
        raise Refused(
            gettext("%(n)s valid bids: the evaluation does not fail") % {"n": len(outcome.valid)}, code="invalid"
        )
    labels = dict(Bid.objects.filter(pk__in=outcome.rejected).values_list("pk", "anonymous_label"))
    rejected = "、".join(labels[b] for b in outcome.rejected)
    reason = outcome.reason + (gettext("; rejected bids: %(labels)s") % {"labels": rejected} if rejected else "")
    do_transition(locked, actor, "fail", reason=reason)


# --- evaluated price ------------------------------------------------------------------------------


def _review(session: EvaluationSession | int, actor: Actor, bid_id: int) -> tuple[EvaluationSession, Bid, PriceReview]:
    session, _ = _start(session, actor, "review_price")
    bid = _bid(session, bid_id)
    review, _ = PriceReview.objects.get_or_create(session=session, bid=bid)
    return session, bid, PriceReview.objects.select_for_update().get(pk=review.pk)


def _price_event(session: EvaluationSession, actor: Actor, kind: str, bid: Bid, data: dict[str, Any]) -> None:
    data = {"bid": bid.pk, "label": bid.anonymous_label, **data}
    record_event(session, actor, kind, data)
    broadcast(session.pk, kind, data, version=session.audit_seq)


@transaction.atomic
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
    session, bid, review = _review(session, actor, bid_id)
    if not isinstance(corrected_price, Decimal) or not corrected_price.is_finite() or corrected_price <= 0:
        raise Refused(gettext("the corrected price must be a positive amount"), code="invalid")
    if corrected_price != corrected_price.quantize(Decimal("0.01")):
        raise Refused(gettext("the corrected price has more than two decimals"), code="invalid")
    review.corrected_price = corrected_price
    review.correction_reason = _text(reason, gettext_lazy("the reason for the correction"))
    review.bidder_confirmed = bidder_confirmed
    review.bidder_confirmation = _text(
        confirmation, gettext_lazy("the bidder's written answer"), required=bidder_confirmed is not None
    )
    review.save()
    data = {
        "price": bid.price,
        "corrected_price": corrected_price,
        "reason": review.correction_reason,
        "bidder_confirmed": bidder_confirmed,
        "confirmation": review.bidder_confirmation,
    }
    _price_event(session, actor, "price.corrected", bid, data)
    return review


@transaction.atomic
def do_set_policy_deduction(
    session: EvaluationSession | int, actor: Actor, bid_id: int, *, small_enterprise: bool
) -> PriceReview:
    """The leader records whether the bid gets the lot's small-enterprise price deduction."""
    session, bid, review = _review(session, actor, bid_id)
    review.small_enterprise = small_enterprise
    review.save()
    scheme = queries.scheme_of(session)
    percent = queries.lot_rules(scheme).small_enterprise_deduction_percent if scheme else Decimal(0)
    _price_event(session, actor, "price.policy_set", bid, {"small_enterprise": small_enterprise, "percent": percent})
    return review


@transaction.atomic
def do_record_low_price_explanation(
    session: EvaluationSession | int, actor: Actor, bid_id: int, *, explanation: str, credible: bool
) -> PriceReview:
    """For a bid flagged abnormally low: the bidder's written explanation and the committee's finding
    (recorded by the leader). Not credible: the bid is rejected. Refused for a bid not flagged."""
    session, bid, review = _review(session, actor, bid_id)
    if bid.pk not in queries.low_price_flags(session):
        raise Refused(
            gettext("the price of bid %(label)s is not abnormally low") % {"label": bid.anonymous_label},
            code="invalid",
        )
    review.low_price_explanation = _text(explanation, gettext_lazy("the bidder's explanation"))
    review.low_price_credible = credible
    review.save()
    data = {"explanation": review.low_price_explanation, "credible": credible}
    _price_event(session, actor, "price.low_explained", bid, data)
    return review


# --- detailed review ------------------------------------------------------------------------------


@transaction.atomic
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
    session, member = _start(session, actor, "save_score")
    criterion = _criterion(session, criterion_id)
    bid = _bid(session, bid_id)
    in_review = _in_detailed_review(session, bid)
    number = None if value is None else _number(value, criterion)
    sheet = _sheet(session, member)
    if sheet.submitted_at is not None:
        raise Refused(
            gettext("your sheet is submitted: it changes only after the leader asks for a re-check"), code="conflict"
        )
    cell, _ = _store(sheet, bid, criterion, number, base_version)
    record_event(session, actor, "score.saved", _cell_data(member, bid, criterion, cell))
    return _progress(session, member, sheet, cell, in_review)


@transaction.atomic
def do_submit_sheet(
    session: EvaluationSession | int, actor: Actor, *, declared_totals: dict[int, Decimal] | None = None
) -> ScoreSheet:
    """The member submits their whole sheet (every cell filled); it is read-only to them afterwards.
    ``declared_totals`` (bid id → the total of the typed cells the member saw) is kept for the
    arithmetic check. Broadcast ``sheet.submitted`` (member, counts)."""
    session, member = _start(session, actor, "submit_sheet")
    sheet = _sheet(session, member)
    if sheet.submitted_at is not None:
        raise Refused(gettext("your sheet is already submitted"), code="conflict")
    in_review = queries.detailed_bids(session)
    scheme = queries.scheme_of(session)
    if scheme is None:
        raise Refused(gettext("the lot has no scoring scheme yet"), code="precondition")
    filled, total = queries.sheet_counts(sheet, in_review, scheme.pk)
    if filled < total:
        raise Refused(
            gettext("%(n)s of %(total)s cells are still empty") % {"n": total - filled, "total": total},
            code="precondition",
        )
    totals: dict[str, str] = {}
    for bid, declared in (declared_totals or {}).items():
        if bid not in in_review or not isinstance(declared, Decimal) or not declared.is_finite():
            raise Refused(gettext("declared totals name bids in detailed review with a number each"), code="invalid")
        totals[str(bid)] = str(declared)
    sheet.submitted_at, sheet.declared_totals = timezone.now(), totals
    sheet.recheck_reason, sheet.recheck_requested_at = "", None
    sheet.save(update_fields=["submitted_at", "declared_totals", "recheck_reason", "recheck_requested_at"])
    data = {**_member_data(member), "filled": filled, "total": total}
    record_event(session, actor, "sheet.submitted", {**data, "declared_totals": totals})
    broadcast(session.pk, "sheet.submitted", data, version=session.audit_seq)
    return sheet


@transaction.atomic
def do_request_recheck(session: EvaluationSession | int, actor: Actor, member_id: int, *, reason: str) -> ScoreSheet:
    """The leader reopens a member's submitted sheet for a re-check, with a reason (detailed review).
    Broadcast ``sheet.recheck_requested`` (member, reason)."""
    session, _ = _start(session, actor, "request_recheck")
    member = session.seated_members().filter(pk=member_id).select_related("user__expert").first()
    if member is None:
        raise Refused(gettext("member %(id)s is not on this committee") % {"id": member_id}, code="not_found")
    sheet = ScoreSheet.objects.select_for_update().filter(session=session, member=member).first()
    if sheet is None or sheet.submitted_at is None:
        raise Refused(
            gettext("%(name)s has not submitted a sheet to re-check") % {"name": member.display_name}, code="invalid"
        )
    sheet.submitted_at = None
    sheet.recheck_reason = _text(reason, gettext_lazy("a reason"))
    sheet.recheck_requested_at = timezone.now()
    sheet.save(update_fields=["submitted_at", "recheck_reason", "recheck_requested_at"])
    data = {**_member_data(member), "reason": sheet.recheck_reason}
    record_event(session, actor, "sheet.recheck_requested", data)
    broadcast(session.pk, "sheet.recheck_requested", data, version=session.audit_seq)
    return sheet


@transaction.atomic
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
    session, member = _start(session, actor, "confirm_deviation")
    criterion = _criterion(session, criterion_id)
    bid = _bid(session, bid_id)
    in_review = _in_detailed_review(session, bid)
    flagged = any(
        f.kind == "deviation" and f.bid == bid.pk and f.criterion == criterion.pk and member.pk in f.members
        for f in queries.run_checks(session)
    )
    if not flagged:
        raise Refused(
            gettext("no deviation warning on %(code)s of bid %(label)s")
            % {"code": criterion.code, "label": bid.anonymous_label},
            code="invalid",
        )
    reason = _text(reason, gettext_lazy("a written reason"))
    sheet = _sheet(session, member)
    cell = ScoreCell.objects.select_for_update().get(sheet=sheet, bid=bid, criterion=criterion)
    old = cell.value
    if value is not None:
        cell, old = _store(sheet, bid, criterion, _number(value, criterion), base_version)
    elif base_version != cell.version:
        _store(sheet, bid, criterion, cell.value, base_version)  # raises StaleScore
    cell.deviation_reason, cell.deviation_version = reason, cell.version
    cell.save(update_fields=["deviation_reason", "deviation_version"])
    data = {**_cell_data(member, bid, criterion, cell), "old": old, "reason": reason, "changed": value is not None}
    record_event(session, actor, "score.deviation_confirmed", data)
    moved = {**_member_data(member), "bid": bid.pk, "criterion": criterion.pk, "cell_version": cell.version}
    broadcast(session.pk, "score.deviation_confirmed", moved, version=session.audit_seq)
    return _progress(session, member, sheet, cell, in_review, announce=False)


@transaction.atomic
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
    session, member = _start(session, actor, "correct_score")
    if reason not in Art64Reason.values:
        raise Refused(
            gettext("after the summary a score changes only for one of the Art. 64 reasons: %(reasons)s")
            % {"reasons": ", ".join(Art64Reason.values)},
            code="invalid",
        )
    criterion = _criterion(session, criterion_id)
    bid = _bid(session, bid_id)
    _in_detailed_review(session, bid)
    explanation = _text(explanation, gettext_lazy("an explanation"))
    number = _number(value, criterion)
    sheet = _sheet(session, member)
    cell, old = _store(sheet, bid, criterion, number, base_version)
    correction = ScoreCorrection.objects.create(
        cell=cell,
        reason=reason,
        explanation=explanation,
        old_value=old,
        new_value=number,
        by=signed_in(actor),
        at=cell.updated_at,
    )
    data = {**_cell_data(member, bid, criterion, cell), "old": old, "reason": reason, "explanation": explanation}
    record_event(session, actor, "score.corrected", data)
    # In summary the values are the committee's to see: the room refreshes the summary.
    broadcast(session.pk, "score.corrected", data, version=session.audit_seq)
    return correction
