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

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from evaluation.audit import record_event
from evaluation.events import broadcast
from evaluation.exceptions import Refused
from evaluation.models import Bid, CommitteeMember, EvaluationSession, Phase
from evaluation.permissions import Actor, Role, bidder_names_visible, session_roles, signed_in
from evaluation.protocol import LotRules
from scoring import ocds, rules
from scoring.models import (
    Criterion,
    CriterionGroup,
    LotScheme,
    PreliminaryConclusion,
    PreliminaryCriterion,
    PreliminaryMark,
    PriceReview,
    ScoreCell,
    ScoreCorrection,
    ScoreSheet,
    SummaryDraws,
)

# Phases in which the summary (aggregated values) may be read.
SUMMARY_PHASES = frozenset({Phase.SUMMARY, Phase.SIGNING, Phase.ARCHIVED})
SUMMARY_READERS = frozenset({Role.MEMBER, Role.LEADER, Role.HOST, Role.SUPERVISOR})
EXPORT_READERS = frozenset({Role.LEADER, Role.HOST, Role.SUPERVISOR})


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
    # Every submitted value: (member id, bid id, criterion id) → score (for the deviation heat maps).
    scores: dict[tuple[int, int, int], Decimal] = field(default_factory=dict)
    deviation_threshold: Decimal = Decimal("0.3")


# --- the scheme and the bids ----------------------------------------------------------------------


def scheme_of(session: EvaluationSession) -> LotScheme | None:
    """The lot's scoring scheme (its copy of a template), or None if none was copied yet."""
    return LotScheme.objects.filter(lot_id=session.lot_id).first()


def _scheme(session: EvaluationSession) -> LotScheme:
    scheme = scheme_of(session)
    if scheme is None:
        raise Refused(gettext("the lot has no scoring scheme yet"), code="precondition")
    return scheme


def lot_rules(scheme: LotScheme) -> LotRules:
    return LotRules.model_validate(scheme.rules)


def scoring_rules(session: EvaluationSession, scheme: LotScheme) -> rules.ScoringRules:
    """The lot's settings as the pure rules take them. The abnormally-low check is ours (a price
    matter the leader settles, ``low_price_flags``), so the summary's own is turned off."""
    settings = lot_rules(scheme)
    price = rules.PriceRule(
        formula=rules.PriceFormula(settings.price_formula),
        benchmark=rules.Benchmark(settings.benchmark),
        points=settings.price_points,
        e1=settings.e1,
        e2=settings.e2,
        floor=settings.price_floor,
        float_k=scheme.float_draw,
        ceiling=session.lot.ceiling_price,
        window_percent=settings.window_percent,
    )
    return rules.ScoringRules(
        method=rules.Method(scheme.method),
        government_procurement=session.lot.is_gov_procurement,
        price=price,
        aggregation=rules.Aggregation(settings.aggregation),
        deviation_threshold=settings.deviation_threshold,
        tie_break=rules.TieBreak(settings.tie_break),
        abnormally_low_percent=None,
        max_candidates=settings.max_candidates,
    )


def typed_criteria(scheme: LotScheme) -> list[Criterion]:
    """The criteria members type in: every detailed criterion but the computed price."""
    return [c for c in scheme.criteria.all() if not c.computed]


def _bids(session: EvaluationSession) -> list[Bid]:
    return list(Bid.objects.filter(lot_id=session.lot_id).select_related("bidder").order_by("anonymous_label"))


def _bid_view(bid: Bid, names: bool) -> BidView:
    return BidView(bid.pk, bid.anonymous_label, bid.bidder.name if names else None, bid.price)


def bids_for(session: EvaluationSession, viewer: Actor) -> list[BidView]:
    """Every bid of the lot as ``viewer`` may see it (labels only in anonymous review)."""
    names = bidder_names_visible(session_roles(viewer, session), session)
    return [_bid_view(b, names) for b in _bids(session)]


def _reviews(session: EvaluationSession) -> dict[int, PriceReview]:
    return {r.bid_id: r for r in PriceReview.objects.filter(session=session)}


def _conclusions(session: EvaluationSession) -> dict[int, PreliminaryConclusion]:
    return {c.bid_id: c for c in PreliminaryConclusion.objects.filter(session=session)}


def price_rejections(reviews: dict[int, PriceReview]) -> dict[int, str]:
    """Bids rejected on price: a correction the bidder refused, or a low price not explained credibly."""
    out: dict[int, str] = {}
    for bid_id, review in reviews.items():
        if review.bidder_confirmed is False:
            out[bid_id] = gettext("the bidder did not confirm the correction of its price")
        elif review.low_price_credible is False:
            out[bid_id] = gettext("abnormally low price without a credible explanation")
    return out


def evaluated_prices(
    session: EvaluationSession, scheme: LotScheme, bids: list[Bid], reviews: dict[int, PriceReview]
) -> dict[int, Decimal]:
    """Each bid's evaluated price: confirmed corrections, then the lot's policy deduction."""
    percent = lot_rules(scheme).small_enterprise_deduction_percent
    out: dict[int, Decimal] = {}
    for bid in bids:
        review = reviews.get(bid.pk)
        corrections = []
        deduction = Decimal(0)
        if review is not None:
            if review.corrected_price is not None:
                corrections.append(rules.Correction(review.corrected_price - bid.price, bool(review.bidder_confirmed)))
            if review.small_enterprise:
                deduction = percent
        out[bid.pk] = rules.evaluated_price(bid.price, corrections, deduction)
    return out


def low_price_flags(session: EvaluationSession) -> frozenset[int]:
    """Bids whose evaluated price is abnormally low among the bids that passed preliminary review
    (and whose correction was not refused); each needs the bidder's explanation."""
    scheme = scheme_of(session)
    if scheme is None:
        return frozenset()
    reviews = _reviews(session)
    passed = {c.bid_id for c in _conclusions(session).values() if c.passed}
    refused = {b for b, r in reviews.items() if r.bidder_confirmed is False}
    bids = [b for b in _bids(session) if b.pk in passed and b.pk not in refused]
    prices = {str(b): p for b, p in evaluated_prices(session, scheme, bids, reviews).items()}
    flagged = rules.abnormally_low(prices, lot_rules(scheme).abnormally_low_percent)
    return frozenset(int(b) for b in flagged)


def price_scores(session: EvaluationSession) -> dict[tuple[int, int], Decimal]:
    """The computed price score per (bid id, price criterion id) of the bids in detailed review, as
    the sheet shows it (exact; the summary rounds the totals). Empty when the lot has no price
    criterion or the benchmark cannot be taken yet (mean_with_float before its draw)."""
    scheme = scheme_of(session)
    priced = next((c for c in scheme.criteria.all() if c.computed), None) if scheme is not None else None
    if scheme is None or priced is None:
        return {}
    in_review = set(detailed_bids(session))
    bids = [b for b in _bids(session) if b.pk in in_review]
    prices = evaluated_prices(session, scheme, bids, _reviews(session))
    try:
        result = rules.price_scores({str(b): p for b, p in prices.items()}, scoring_rules(session, scheme).price)
    except rules.RuleError:
        return {}
    return {(int(b), priced.pk): score for b, score in result.scores.items()}


def detailed_bids(session: EvaluationSession) -> list[int]:
    """Ids of the bids in detailed review: passed preliminary review and not rejected on price."""
    rejected = price_rejections(_reviews(session))
    passed = PreliminaryConclusion.objects.filter(session=session, passed=True).order_by("bid__anonymous_label")
    return [bid for bid in passed.values_list("bid_id", flat=True) if bid not in rejected]


def _seated(session: EvaluationSession) -> list[CommitteeMember]:
    return list(session.seated_members().select_related("user__expert").order_by("id"))


# --- the member's sheet and everyone's progress ---------------------------------------------------


def _criterion_view(c: Criterion) -> CriterionView:
    return CriterionView(c.pk, c.code, c.group, c.title, c.description, c.max_points, c.step, c.objective, c.computed)


def _member_of(session: EvaluationSession, viewer: Actor) -> CommitteeMember:
    if session.is_sealed:
        raise Refused(gettext("the session is sealed overnight"), code="sealed")
    roles = session_roles(viewer, session)
    if Role.MEMBER not in roles:
        raise Refused(gettext("only a seated member has a score sheet"), code="forbidden")
    member = CommitteeMember.objects.get(session=session, user=signed_in(viewer))
    return member


def member_sheet(session: EvaluationSession, viewer: Actor) -> SheetView:
    """The viewer's own sheet, exactly as saved (``Refused`` if the viewer is not a seated member)."""
    member = _member_of(session, viewer)
    scheme = _scheme(session)
    names = bidder_names_visible(session_roles(viewer, session), session)
    in_review = set(detailed_bids(session))
    bids = [_bid_view(b, names) for b in _bids(session) if b.pk in in_review]
    criteria = typed_criteria(scheme)
    sheet = ScoreSheet.objects.filter(session=session, member=member).first()
    cells: dict[tuple[int, int], CellView] = {}
    if sheet is not None:
        for bid, criterion, value, version, reason in sheet.cells.values_list(
            "bid_id", "criterion_id", "value", "version", "deviation_reason"
        ):
            if bid in in_review:
                cells[(bid, criterion)] = CellView(value, version, reason)
    submitted = sheet is not None and sheet.submitted_at is not None
    filled = sum(1 for (b, _), cell in cells.items() if cell.value is not None)
    mine = Progress(
        member.pk,
        member.display_name,
        filled,
        len(bids) * len(criteria),
        submitted,
        bool(sheet and sheet.recheck_requested_at and not submitted),
    )
    try:
        findings = run_checks(session)
    except Refused:
        findings = []  # the leader sees why in summary_problem; the member's sheet still reads
    warnings = [f for f in findings if f.kind == "deviation" and f.blocking and member.pk in f.members]
    return SheetView(
        member=member.pk,
        bids=bids,
        criteria=[_criterion_view(c) for c in criteria],
        cells=cells,
        submitted=submitted,
        editable=session.phase == Phase.DETAILED_REVIEW and not submitted,
        recheck_reason=sheet.recheck_reason if sheet is not None and not submitted else "",
        progress=mine,
        warnings=warnings,
    )


def sheet_counts(sheet: ScoreSheet, in_review: list[int], scheme_id: int) -> tuple[int, int]:
    """(cells filled, cells to fill) of one sheet: what a saved cell broadcasts."""
    typed = Criterion.objects.filter(scheme_id=scheme_id).exclude(group=CriterionGroup.PRICE)
    filled = ScoreCell.objects.filter(
        sheet=sheet, value__isnull=False, bid_id__in=in_review, criterion__in=typed.values("pk")
    ).count()
    return filled, len(in_review) * typed.count()


def progress(session: EvaluationSession) -> list[Progress]:
    """Cells filled per seated member, of the cells to fill: counts only, safe for everyone."""
    scheme = scheme_of(session)
    criteria = typed_criteria(scheme) if scheme is not None else []
    bids = detailed_bids(session)
    total = len(bids) * len(criteria)
    counts = dict(
        ScoreCell.objects.filter(sheet__session=session, value__isnull=False, bid_id__in=bids, criterion__in=criteria)
        .values_list("sheet__member_id")
        .annotate(n=Count("id"))
        .values_list("sheet__member_id", "n")
    )
    sheets = {s.member_id: s for s in ScoreSheet.objects.filter(session=session)}
    out = []
    for member in _seated(session):
        sheet = sheets.get(member.pk)
        submitted = sheet is not None and sheet.submitted_at is not None
        recheck = sheet is not None and sheet.recheck_requested_at is not None and not submitted
        out.append(Progress(member.pk, member.display_name, counts.get(member.pk, 0), total, submitted, recheck))
    return out


# --- preliminary review ---------------------------------------------------------------------------


def preliminary_sheet(session: EvaluationSession, viewer: Actor) -> dict[tuple[int, int], tuple[bool, str]]:
    """The viewer's own preliminary marks: (bid id, criterion id) → (passed, reason)."""
    member = _member_of(session, viewer)
    marks = PreliminaryMark.objects.filter(session=session, member=member)
    return {(m.bid_id, m.criterion_id): (m.passed, m.reason) for m in marks}


def preliminary_criteria(session: EvaluationSession) -> list[PreliminaryCriterion]:
    scheme = scheme_of(session)
    return list(scheme.preliminary_criteria.all()) if scheme is not None else []


def preliminary_status(session: EvaluationSession, viewer: Actor) -> list[PreliminaryBidStatus]:
    """Per bid: marks made of expected, and the committee's conclusion once recorded."""
    names = bidder_names_visible(session_roles(viewer, session), session)
    seated = [m.pk for m in _seated(session)]
    expected = len(seated) * len(preliminary_criteria(session))
    counts = dict(
        PreliminaryMark.objects.filter(session=session, member_id__in=seated)
        .values_list("bid_id")
        .annotate(n=Count("id"))
        .values_list("bid_id", "n")
    )
    conclusions = _conclusions(session)
    out = []
    for bid in _bids(session):
        c = conclusions.get(bid.pk)
        out.append(
            PreliminaryBidStatus(
                bid=_bid_view(bid, names),
                marks=counts.get(bid.pk, 0),
                expected=expected,
                concluded=c is not None,
                passed=c.passed if c else None,
                unanimous=c.unanimous if c else None,
                reasons=c.reasons if c else [],
                dissent=c.dissent if c else [],
            )
        )
    return out


def preliminary_outcome(session: EvaluationSession) -> PreliminaryOutcome:
    """Valid bids (passed preliminary review, not rejected on price) and whether the evaluation fails."""
    bids = [b.pk for b in _bids(session)]
    conclusions = _conclusions(session)
    valid = detailed_bids(session)
    rejected = [b for b in bids if b not in valid and b in conclusions]
    complete = all(b in conclusions for b in bids)
    decision = rules.evaluation_outcome(len(valid), len(bids), session.lot.is_gov_procurement)
    fails = complete and decision.outcome == rules.Outcome.FAILED
    reason = ""
    if fails:
        if decision.reason == rules.FailReason.ALL_REJECTED:
            reason = gettext("every bid was rejected")
        else:
            reason = gettext("only %(n)s valid bids; government procurement needs at least three") % {"n": len(valid)}
    return PreliminaryOutcome(complete, valid, rejected, fails, reason)


def scheme_problem(session: EvaluationSession) -> str | None:
    """open_preliminary_review: the lot has its scheme, with preliminary criteria."""
    scheme = scheme_of(session)
    if scheme is None:
        return gettext("the lot has no scoring scheme yet (copy a scoring template to it)")
    if not scheme.preliminary_criteria.exists():
        return gettext("the lot's scoring scheme has no preliminary criteria")
    return None


def preliminary_problem(session: EvaluationSession) -> str | None:
    """open_detailed_review: every bid concluded, and enough valid bids."""
    conclusions = _conclusions(session)
    open_bids = [b.anonymous_label for b in _bids(session) if b.pk not in conclusions]
    if open_bids:
        return gettext("preliminary review not concluded for bids %(labels)s") % {"labels": "、".join(open_bids)}
    outcome = preliminary_outcome(session)
    if outcome.fails:
        return gettext("the evaluation fails: %(reason)s") % {"reason": outcome.reason}
    return None


# --- the checks and the summary -------------------------------------------------------------------


@dataclass
class _Inputs:
    """What the summary is computed from, read once."""

    scheme: LotScheme
    settings: rules.ScoringRules
    criteria: list[Criterion]
    bids: list[Bid]
    members: list[CommitteeMember]
    conclusions: dict[int, PreliminaryConclusion]
    reviews: dict[int, PriceReview]
    rejected_on_price: dict[int, str]
    prices: dict[int, Decimal]
    # sheet cell → (cell id, value, version, version its deviation was answered for)
    cells: dict[rules.Cell, tuple[int, Decimal | None, int, int | None]]
    scores: dict[rules.Cell, Decimal]
    declared: dict[tuple[str, str], Decimal]


def _inputs(session: EvaluationSession) -> _Inputs:
    scheme = _scheme(session)
    criteria = list(scheme.criteria.all())
    bids = _bids(session)
    members = _seated(session)
    conclusions = _conclusions(session)
    reviews = _reviews(session)
    rejected = price_rejections(reviews)
    prices = evaluated_prices(session, scheme, bids, reviews)
    in_review = {b for b, c in conclusions.items() if c.passed and b not in rejected}
    seated = {m.pk for m in members}
    typed = {c.pk for c in criteria if not c.computed}
    cells: dict[rules.Cell, tuple[int, Decimal | None, int, int | None]] = {}
    scores: dict[rules.Cell, Decimal] = {}
    rows = ScoreCell.objects.filter(sheet__session=session, bid_id__in=in_review, criterion_id__in=typed).values_list(
        "pk", "sheet__member_id", "bid_id", "criterion_id", "value", "version", "deviation_version"
    )
    for pk, member, bid, criterion, value, version, dev_version in rows:
        if member not in seated:
            continue
        key = rules.Cell(str(member), str(bid), str(criterion))
        cells[key] = (pk, value, version, dev_version)
        if value is not None:
            scores[key] = value
    declared: dict[tuple[str, str], Decimal] = {}
    for sheet in ScoreSheet.objects.filter(session=session, member_id__in=seated, submitted_at__isnull=False):
        for bid, total in sheet.declared_totals.items():
            declared[(str(sheet.member_id), str(bid))] = Decimal(str(total))
    return _Inputs(
        scheme,
        scoring_rules(session, scheme),
        criteria,
        bids,
        members,
        conclusions,
        reviews,
        rejected,
        prices,
        cells,
        scores,
        declared,
    )


def _compute(session: EvaluationSession, data: _Inputs, draws: rules.Draws) -> rules.Summary:
    bid_inputs = [
        rules.BidInput(
            str(b.pk),
            data.prices[b.pk],
            passed=b.pk in data.conclusions and data.conclusions[b.pk].passed and b.pk not in data.rejected_on_price,
        )
        for b in data.bids
    ]
    criteria = [
        rules.Criterion(str(c.pk), rules.Group(c.group), c.max_points, c.step, c.objective) for c in data.criteria
    ]
    declared = data.declared
    priced = next((c for c in data.criteria if c.computed), None)
    if declared and priced is not None:
        # A member declares the total of the cells they typed; the rules compare totals with price.
        passed = {b.id: b.evaluated_price for b in bid_inputs if b.passed}
        price = rules.price_scores(passed, data.settings.price) if passed else None
        scores = price.scores if price is not None else {}
        declared = {(e, b): total + scores.get(b, Decimal(0)) for (e, b), total in declared.items()}
    try:
        return rules.compute_summary(
            data.settings,
            criteria,
            bid_inputs,
            [str(m.pk) for m in data.members],
            data.scores,
            declared_totals=declared,
            draws=draws,
        )
    except rules.RuleError as exc:
        # A setting this committee or these bids cannot meet (drop_widest with seven members ...).
        raise Refused(
            gettext("the lot's scoring rules cannot be applied: %(problem)s") % {"problem": exc}, code="precondition"
        ) from exc


def _label(bids: dict[int, Bid], bid: str | None) -> str:
    return bids[int(bid)].anonymous_label if bid is not None else ""


def _findings(data: _Inputs, summary: rules.Summary) -> list[Finding]:
    """The rules' findings as the room shows them: cells named by member, bid label and criterion
    code, never by value. A deviation blocks until its member answers it for the cell's version."""
    bids = {b.pk: b for b in data.bids}
    criteria = {str(c.pk): c for c in data.criteria}
    names = {str(m.pk): m.display_name for m in data.members}
    out: list[Finding] = []
    for f in summary.findings:
        if f.kind == rules.FindingKind.MISSING:
            continue  # reported once per sheet by summary_problem, not per cell
        members = tuple(int(c.expert) for c in f.cells)
        who = "、".join(names[c.expert] for c in f.cells)
        code = criteria[f.criterion].code if f.criterion is not None else ""
        blocking = f.severity == rules.Severity.BLOCKING
        if f.kind == rules.FindingKind.DEVIATION:
            answered = all(
                (row := data.cells.get(c)) is not None and row[3] is not None and row[3] == row[2] for c in f.cells
            )
            blocking = not answered
            message = gettext("%(who)s: the score of bid %(bid)s on %(code)s deviates from the others") % {
                "who": who,
                "bid": _label(bids, f.bid),
                "code": code,
            }
        elif f.kind == rules.FindingKind.OBJECTIVE_DIFFERS:
            message = gettext("objective item %(code)s of bid %(bid)s differs among %(who)s") % {
                "code": code,
                "bid": _label(bids, f.bid),
                "who": who,
            }
        elif f.kind == rules.FindingKind.ARITHMETIC:
            message = gettext("%(who)s: the declared total of bid %(bid)s is not the sum of the scores") % {
                "who": who.split("、")[0] if who else "",
                "bid": _label(bids, f.bid),
            }
            members = members[:1]
        else:
            message = gettext("%(who)s: score of bid %(bid)s on %(code)s is %(problem)s") % {
                "who": who,
                "bid": _label(bids, f.bid),
                "code": code,
                "problem": f.kind.value.replace("_", " "),
            }
        out.append(
            Finding(
                kind=f.kind.value,
                blocking=blocking,
                message=message,
                bid=int(f.bid) if f.bid is not None else None,
                criterion=int(f.criterion) if f.criterion is not None else None,
                members=members,
            )
        )
    return out


def _all_submitted(session: EvaluationSession) -> list[str]:
    """Names of seated members whose sheet is not submitted."""
    done = set(
        ScoreSheet.objects.filter(session=session, submitted_at__isnull=False).values_list("member_id", flat=True)
    )
    return [m.display_name for m in _seated(session) if m.pk not in done]


def run_checks(session: EvaluationSession) -> list[Finding]:
    """The Order 87 Art. 64 checks on the sheets once every one is submitted (before that, the
    others' scores are not final and nothing is reported): arithmetic, out-of-range and objective
    items that differ block the summary; a deviation above the lot's threshold blocks until its
    member confirms or changes it with a reason."""
    if _all_submitted(session) or scheme_of(session) is None:
        return []
    data = _inputs(session)
    return _findings(data, _compute(session, data, _recorded_draws(session)))


def price_problem(session: EvaluationSession) -> str | None:
    """A price matter still open: a correction the bidder has not answered, a low price unexplained,
    the float draw of mean_with_float not made."""
    scheme = scheme_of(session)
    if scheme is None:
        return gettext("the lot has no scoring scheme yet")
    labels = {b.pk: b.anonymous_label for b in _bids(session)}
    reviews = _reviews(session)
    pending = [labels[b] for b, r in reviews.items() if r.corrected_price is not None and r.bidder_confirmed is None]
    if pending:
        return gettext("the bidder has not answered the price correction of bids %(labels)s") % {
            "labels": "、".join(pending)
        }
    in_review = set(detailed_bids(session))
    unexplained = [
        labels[b]
        for b in sorted(low_price_flags(session))
        if b in in_review and (b not in reviews or reviews[b].low_price_credible is None)
    ]
    if unexplained:
        return gettext("abnormally low price of bids %(labels)s needs the bidder's explanation") % {
            "labels": "、".join(unexplained)
        }
    if lot_rules(scheme).benchmark == "mean_with_float" and scheme.float_draw is None:
        return gettext("the float k of the benchmark has not been drawn")
    return None


def summary_problem(session: EvaluationSession) -> str | None:
    """Why the summary may not open yet (a sheet not submitted, a blocking finding, an unanswered
    deviation, a price matter pending), or None."""
    problem = price_problem(session)
    if problem:
        return problem
    missing = _all_submitted(session)
    if missing:
        return gettext("score sheets not submitted: %(names)s") % {"names": "、".join(missing)}
    try:
        blocking = [f.message for f in run_checks(session) if f.blocking]
    except Refused as refusal:
        return refusal.reason
    if blocking:
        more = len(blocking) - 3
        text = "；".join(blocking[:3]) + (gettext(" (and %(n)s more)") % {"n": more} if more > 0 else "")
        return gettext("Art. 64 checks: %(findings)s") % {"findings": text}
    return None


def result_problem(session: EvaluationSession) -> str | None:
    """finalise: after corrections in summary, still no objective item that differs, no value out of
    range and no arithmetic error (deviations were answered before the summary)."""
    try:
        blocking = [f.message for f in run_checks(session) if f.blocking and f.kind != "deviation"]
    except Refused as refusal:
        return refusal.reason
    return gettext("Art. 64 checks: %(findings)s") % {"findings": "；".join(blocking[:3])} if blocking else None


def _recorded_draws(session: EvaluationSession) -> rules.Draws:
    record = SummaryDraws.objects.filter(session=session).first()
    if record is None:
        return rules.Draws()
    return rules.Draws(widest_expert=record.widest_expert or None, rank=record.rank or None)


def _record_draws(session: EvaluationSession, result: rules.Summary) -> None:
    """Keep the draws a summary made (drop_widest tie, ranking tie) so it reads the same again."""
    widest = result.dropped_expert.expert if result.dropped_expert and result.dropped_expert.drawn else ""
    rank = {b: n for b, n in result.ranking.draw.items()} if result.ranking.draw_made else {}
    if not widest and not rank:
        return
    with transaction.atomic():
        locked = EvaluationSession.objects.select_for_update().get(pk=session.pk)
        record, _ = SummaryDraws.objects.get_or_create(session=locked, defaults={"at": timezone.now()})
        changed: dict[str, Any] = {}
        # A fresh draw replaces a recorded one that no longer covered the tie (after a correction).
        fresh = bool(result.dropped_expert and result.dropped_expert.fresh)
        if widest and (not record.widest_expert or fresh) and record.widest_expert != widest:
            record.widest_expert = widest
            changed["widest_expert"] = widest
        if rank:
            record.rank = {**record.rank, **rank}
            changed["rank"] = rank
        if changed:
            record.save()
            record_event(locked, None, "scoring.draw_recorded", changed)
            broadcast(locked.pk, "scoring.draw_recorded", changed, version=locked.audit_seq)


def _summary_inputs(session: EvaluationSession) -> tuple[_Inputs, rules.Summary]:
    data = _inputs(session)
    draws = _recorded_draws(session)
    try:
        result = _compute(session, data, draws)
    except Refused:
        if draws.rank is None:
            raise
        # Corrections changed which bids tie: the old draw does not cover them; draw again.
        result = _compute(session, data, rules.Draws(draws.widest_expert, None))
    if session.phase in SUMMARY_PHASES:
        _record_draws(session, result)
    return data, result


def _corrections(session: EvaluationSession, labels: dict[int, str]) -> list[dict[str, Any]]:
    rows = ScoreCorrection.objects.filter(cell__sheet__session=session).select_related(
        "cell__criterion", "cell__sheet__member__user__expert", "by"
    )
    return [
        {
            "member": c.cell.sheet.member_id,
            "name": c.cell.sheet.member.display_name,
            "bid": c.cell.bid_id,
            "label": labels.get(c.cell.bid_id, ""),
            "criterion": c.cell.criterion.code,
            "reason": c.reason,
            "reason_text": str(c.get_reason_display()),
            "explanation": c.explanation,
            "old": c.old_value,
            "new": c.new_value,
            "by": c.by.get_username(),
            "at": c.at,
        }
        for c in rows
    ]


def build_summary(session: EvaluationSession, viewer: Actor | None = None) -> Summary:
    """Aggregated table per bid and criterion, totals, ranking, candidates, with the findings.
    ``viewer`` None builds it for the record (names shown); otherwise the viewer must be a member,
    the leader, the host or the supervisor, in summary or later (``Refused`` otherwise)."""
    names = True
    if viewer is not None:
        roles = session_roles(viewer, session)
        if not roles & SUMMARY_READERS:
            raise Refused(gettext("only the committee, the host and the supervisor read the summary"), code="forbidden")
        if session.phase not in SUMMARY_PHASES:
            raise Refused(gettext("the summary is read in summary or later"), code="wrong_phase")
        names = bidder_names_visible(roles, session)
    data, result = _summary_inputs(session)
    bids = {b.pk: b for b in data.bids}
    views = {b.pk: _bid_view(b, names) for b in data.bids}
    chosen = set(result.candidates)
    by_bid: dict[str, dict[int, Decimal]] = {}
    for item, value in result.aggregated.items():
        by_bid.setdefault(item.bid, {})[int(item.criterion)] = value
    rows = []
    order = list(result.ranking.order) or list(result.valid_bids)
    for bid in order:
        pk = int(bid)
        rows.append(
            SummaryRow(
                bid=views[pk],
                evaluated_price=data.prices[pk],
                criteria=by_bid.get(bid, {}),
                groups={str(g): v for g, v in result.group_totals.get(bid, {}).items()},
                total=result.totals.get(bid, Decimal(0)),
                rank=result.ranking.rank_of(bid) if result.ranking.order else 0,
                candidate=bid in chosen,
                expert_totals={int(e): t[bid] for e, t in result.expert_totals.items() if bid in t},
            )
        )
    rejected = []
    for b in data.bids:
        conclusion = data.conclusions.get(b.pk)
        if conclusion is not None and not conclusion.passed:
            reasons = [r for item in conclusion.reasons for r in item.get("reasons", [])]
            rejected.append({"bid": views[b.pk], "stage": "preliminary", "reasons": reasons})
        elif b.pk in data.rejected_on_price:
            rejected.append({"bid": views[b.pk], "stage": "price", "reasons": [data.rejected_on_price[b.pk]]})
        elif str(b.pk) in result.rejected_above_window:
            rejected.append({"bid": views[b.pk], "stage": "price", "reasons": [gettext("price above the ceiling")]})
    labels = {pk: b.anonymous_label for pk, b in bids.items()}
    return Summary(
        rows=rows,
        rejected=rejected,
        findings=_findings(data, result),
        corrections=_corrections(session, labels),
        blocked=result.blocked,
        dropped_members=[int(result.dropped_expert.expert)] if result.dropped_expert else [],
        data={
            "outcome": result.outcome.outcome.value,
            "fail_reason": result.outcome.reason.value if result.outcome.reason else None,
            "method": data.scheme.method,
            "benchmark": result.price.benchmark,
            "float_k": data.scheme.float_draw,
            "deviations": {int(b): d for b, d in result.price.deviations.items()},
            "rank_draw": {int(b): n for b, n in result.ranking.draw.items()},
            "criteria": [_criterion_view(c) for c in data.criteria],
            "members": {m.pk: m.display_name for m in data.members},
        },
        scores={(int(c.expert), int(c.bid), int(c.criterion)): v for c, v in data.scores.items()},
        deviation_threshold=data.settings.deviation_threshold,
    )


def _check_export(session: EvaluationSession, viewer: Actor) -> None:
    if not session_roles(viewer, session) & EXPORT_READERS:
        raise Refused(gettext("only the leader, the host and the supervisor export the result"), code="forbidden")
    if session.phase not in SUMMARY_PHASES:
        raise Refused(gettext("the result is exported in summary or later"), code="wrong_phase")


def export_ocds(session: EvaluationSession, viewer: Actor) -> dict[str, Any]:
    """The final result as an OCDS-style release (``scoring/ocds.py``): bids with status, reasons,
    rank and scores, statistics, candidates as pending awards linked to their bids. The ocid is
    the publisher's prefix (``EVAL_OCDS_PREFIX``) and the project's code."""
    _check_export(session, viewer)
    data, result = _summary_inputs(session)
    lot = session.lot
    rejected: dict[int, tuple[str, ...]] = {}
    for bid in data.bids:
        conclusion = data.conclusions.get(bid.pk)
        if conclusion is not None and not conclusion.passed:
            rejected[bid.pk] = tuple(r["reason"] for item in conclusion.reasons for r in item.get("reasons", []))
        elif bid.pk in data.rejected_on_price:
            rejected[bid.pk] = (data.rejected_on_price[bid.pk],)
    release = ocds.build_release(
        result,
        ocds.OcdsLot(
            ocid=f"{settings.EVAL_OCDS_PREFIX}-{lot.project.code}",
            tender_id=lot.project.code,
            tender_title=lot.project.name,
            lot_id=lot.code,
            lot_title=lot.name,
            method=rules.Method(data.scheme.method),
            ceiling_price=lot.ceiling_price,
        ),
        [
            ocds.OcdsBid(
                id=str(b.pk),
                tenderer_id=b.bidder.credit_code,
                tenderer_name=b.bidder.name,
                price=b.price,
                received=b.opened_at,
                rejection_reasons=rejected.get(b.pk, ()),
            )
            for b in data.bids
        ],
        release_id=f"{lot.project.code}-{lot.code}-session{session.pk}-v{session.audit_seq}",
        date=timezone.now(),
    )
    return release


def export_result(session: EvaluationSession, viewer: Actor) -> dict[str, Any]:
    """The final result as plain JSON (bids with status, ranks, totals, candidates, rejections,
    corrections); leader, host or supervisor, in summary or later."""
    _check_export(session, viewer)
    summary = build_summary(session, viewer)
    criteria: list[CriterionView] = summary.data["criteria"]
    return {
        "session": session.pk,
        "lot": {"id": session.lot_id, "code": session.lot.code, "name": session.lot.name},
        "project": session.lot.project.code,
        "phase": session.phase,
        "method": summary.data["method"],
        "outcome": summary.data["outcome"],
        "fail_reason": summary.data["fail_reason"],
        "benchmark_price": summary.data["benchmark"],
        "float_k": summary.data["float_k"],
        "criteria": [
            {"id": c.id, "code": c.code, "group": c.group, "title": c.title, "max_points": c.max_points}
            for c in criteria
        ],
        "ranking": [
            {
                "bid": row.bid.id,
                "label": row.bid.label,
                "bidder": row.bid.name,
                "price": row.bid.price,
                "evaluated_price": row.evaluated_price,
                "scores": {str(k): v for k, v in row.criteria.items()},
                "groups": row.groups,
                "total": row.total,
                "rank": row.rank,
                "candidate": row.candidate,
                "expert_totals": {str(k): v for k, v in row.expert_totals.items()},
            }
            for row in summary.rows
        ],
        "candidates": [row.bid.id for row in summary.rows if row.candidate],
        "rejected": [
            {
                "bid": r["bid"].id,
                "label": r["bid"].label,
                "bidder": r["bid"].name,
                "stage": r["stage"],
                "reasons": r["reasons"],
            }
            for r in summary.rejected
        ],
        "corrections": summary.corrections,
        "members": {str(k): v for k, v in summary.data["members"].items()},
        "dropped_members": summary.dropped_members,
        "rank_draw": {str(k): v for k, v in summary.data["rank_draw"].items()},
        "audit_head": {"seq": session.audit_seq, "hash": session.audit_head},
    }
