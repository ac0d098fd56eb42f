"""The scoring part of the room's snapshot: what of the scoring sheet one viewer may see now.

Read through ``scoring/queries.py`` (which decides who sees what); this module only shapes it for
the page (scoring/static/scoring/sheet.js):

- every viewer: the bids (labels only in anonymous review), the criteria, and every member's
  progress as counts;
- a seated member: their own sheet with the values of their own cells only, or in preliminary
  review their own marks;
- after the summary opens: the summary table, findings and charts, for those ``build_summary``
  admits (the committee, the host, the supervisor).

Nothing here while the session is sealed, or before the lot has a scoring scheme.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from evaluation.exceptions import Refused
from evaluation.models import EvaluationSession, Phase
from scoring import queries, rules
from scoring.charts import deviation_heatmap_svg, expert_totals_svg
from scoring.models import Criterion, CriterionGroup, PreliminaryGroup
from scoring.rules import round_half_up
from scoring.ui import chart_texts

SCORING_PHASES = frozenset({Phase.PRELIMINARY_REVIEW, Phase.DETAILED_REVIEW, Phase.SUMMARY, Phase.SIGNING})
SHEET_PHASES = frozenset({Phase.DETAILED_REVIEW, Phase.SUMMARY, Phase.SIGNING})
SUMMARY_PHASES = frozenset({Phase.SUMMARY, Phase.SIGNING})
HEATMAPS = 5


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _criteria(scheme: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "code": c.code,
            "group": c.group,
            "group_label": str(CriterionGroup(c.group).label),
            "name": c.title,
            "description": c.description,
            "max": str(c.max_points),
            "step": str(c.step),
            "objective": c.objective,
            "price": c.computed,
        }
        for c in scheme.criteria.all()
    ]


def _prelim_criteria(scheme: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "code": c.code,
            "group": c.group,
            "group_label": str(PreliminaryGroup(c.group).label),
            "name": c.title,
        }
        for c in scheme.preliminary_criteria.all()
    ]


def _sheet(session: EvaluationSession, user: User) -> dict[str, Any] | None:
    try:
        sheet = queries.member_sheet(session, user)
    except Refused:
        return None
    return {
        "member": sheet.member,
        "submitted": sheet.submitted,
        "editable": sheet.editable,
        "recheck": {"reason": sheet.recheck_reason} if sheet.recheck_reason else None,
        "total": sheet.progress.total,
        "bids": [b.id for b in sheet.bids],
        "cells": [
            {"bid": bid, "criterion": criterion, "value": _text(cell.value), "version": cell.version}
            for (bid, criterion), cell in sorted(sheet.cells.items())
        ],
        "warnings": [_finding(f) for f in sheet.warnings],
        # Computed, never typed; shown to 2 decimals (the summary keeps them exact).
        "price_scores": [
            {"bid": bid, "criterion": criterion, "value": str(round_half_up(value))}
            for (bid, criterion), value in sorted(queries.price_scores(session).items())
        ],
    }


def _prelim(session: EvaluationSession, user: User, member: int | None) -> dict[str, Any]:
    marks = queries.preliminary_sheet(session, user) if member is not None else {}
    return {
        "marks": [
            {"bid": bid, "criterion": criterion, "passed": passed, "reason": reason}
            for (bid, criterion), (passed, reason) in sorted(marks.items())
        ],
        "status": [
            {
                "bid": s.bid.id,
                "marks": s.marks,
                "expected": s.expected,
                "concluded": s.concluded,
                "passed": s.passed,
                "unanimous": s.unanimous,
            }
            for s in queries.preliminary_status(session, user)
        ],
    }


def _finding(f: queries.Finding) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "blocking": f.blocking,
        "message": f.message,
        "bid": f.bid,
        "criterion": f.criterion,
        "members": list(f.members),
    }


def _summary(session: EvaluationSession, user: User) -> dict[str, Any] | None:
    try:
        summary = queries.build_summary(session, user)
    except Refused:
        return None
    groups = [g for g in CriterionGroup if any(g.value in r.groups for r in summary.rows)]
    return {
        "blocked": summary.blocked,
        "groups": [{"code": g.value, "label": str(g.label)} for g in groups],
        "rows": [
            {
                "bid": r.bid.id,
                "label": r.bid.label,
                "name": r.bid.name,
                "evaluated_price": _text(r.evaluated_price),
                "groups": {code: _text(value) for code, value in r.groups.items()},
                "total": _text(r.total),
                "rank": r.rank,
                "candidate": r.candidate,
            }
            for r in summary.rows
        ],
        "rejected": [
            {
                "bid": r["bid"].id,
                "label": r["bid"].label,
                "name": r["bid"].name,
                "stage": r.get("stage"),
                "reasons": [str(x) for x in r.get("reasons", [])],
            }
            for r in summary.rejected
        ],
        "findings": [_finding(f) for f in summary.findings],
        "corrections": summary.corrections,
        "dropped_members": summary.dropped_members,
        "charts": _charts(session, summary),
    }


def _heatmaps(summary: queries.Summary, names: dict[int, str]) -> list[dict[str, Any]]:
    """A deviation heat map (experts × bids) for each of the criteria with the most deviation
    findings, at most HEATMAPS of them, from the submitted values the summary carries."""
    counts: dict[int, int] = {}
    for f in summary.findings:
        if f.kind == "deviation" and f.criterion is not None:
            counts[f.criterion] = counts.get(f.criterion, 0) + 1
    chosen = sorted(counts, key=lambda c: (-counts[c], c))[:HEATMAPS]
    scores = {rules.Cell(str(m), str(b), str(c)): v for (m, b, c), v in summary.scores.items() if c in chosen}
    bids = [str(r.bid.id) for r in summary.rows]
    maps = []
    for criterion in Criterion.objects.filter(pk__in=chosen).order_by("position", "pk"):
        title = f"{criterion.code} {criterion.title}"
        svg = deviation_heatmap_svg(
            scores,
            rules.Criterion(str(criterion.pk), rules.Group(criterion.group), criterion.max_points, criterion.step),
            [str(m) for m in names],
            bids,
            threshold=summary.deviation_threshold,
            criterion_label=title,
            bid_labels={str(r.bid.id): r.bid.label for r in summary.rows},
            expert_labels={str(m): name for m, name in names.items()},
            chart_id=f"deviation-{criterion.pk}",
            texts=chart_texts(),
        )
        maps.append({"criterion": criterion.pk, "title": title, "svg": svg})
    return maps


def _charts(session: EvaluationSession, summary: queries.Summary) -> dict[str, Any]:
    """The charts of the summary as SVG text (scoring/charts.py): each expert's total per bid, and
    the deviation heat maps."""
    names = {p.member: p.name for p in queries.progress(session)}
    totals: dict[str, dict[str, Any]] = {}
    for row in summary.rows:
        for member, total in row.expert_totals.items():
            totals.setdefault(str(member), {})[str(row.bid.id)] = total
    dots = expert_totals_svg(
        totals,
        [str(r.bid.id) for r in summary.rows],
        bid_labels={str(r.bid.id): r.bid.label for r in summary.rows},
        expert_labels={str(m): name for m, name in names.items()},
        dropped=str(summary.dropped_members[0]) if summary.dropped_members else None,
        texts=chart_texts(),
    )
    return {
        "dots": [{"title": chart_texts().totals_title, "svg": dots}] if totals else [],
        "heat": _heatmaps(summary, names),
    }


def scoring_part(user: User, session: EvaluationSession, member: int | None, committee: bool) -> dict[str, Any] | None:
    """The snapshot's ``scoring`` for ``user`` (seated as ``member``, or None), or None when there is
    none. ``committee``: the viewer sees the whole committee (not an attendant, who sees only seats)."""
    if not committee or session.is_sealed or session.phase not in SCORING_PHASES:
        return None
    scheme = queries.scheme_of(session)
    if scheme is None:
        return None
    in_detail = set(queries.detailed_bids(session)) if session.phase in SHEET_PHASES else None
    bids = [
        {
            "id": b.id,
            "label": b.label,
            "name": b.name,
            "status": "in" if in_detail is None or b.id in in_detail else "failed",
        }
        for b in queries.bids_for(session, user)
    ]
    data: dict[str, Any] = {
        "bids": bids,
        "criteria": _criteria(scheme),
        "prelim_criteria": _prelim_criteria(scheme),
        "progress": [
            {"member": p.member, "name": p.name, "filled": p.filled, "total": p.total, "submitted": p.submitted}
            for p in queries.progress(session)
        ]
        if session.phase in SHEET_PHASES
        else [],
        "sheet": _sheet(session, user) if member is not None and session.phase in SHEET_PHASES else None,
        "prelim": _prelim(session, user, member) if session.phase == Phase.PRELIMINARY_REVIEW else None,
        "summary": _summary(session, user) if session.phase in SUMMARY_PHASES else None,
    }
    return data
