"""Charts of the summary as SVG text: pure functions, no JavaScript, the same output in the page and
in the PDF report.

Every chart is an ``<svg role="img">`` named by its ``<title>`` and ``<desc>``; every mark carries a
``<title>`` child that browsers show as a tooltip and screen readers read. All text passes through
XML escaping, so a bidder's name cannot inject markup. Marks that matter are told apart by shape and
class as well as by colour (a deviation above the threshold is outlined and marked "!").

Decimals become floats only for coordinates; every number printed is the exact Decimal, formatted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from xml.sax.saxutils import escape, quoteattr

from scoring.rules import Cell, Criterion, Summary, deviation, round_half_up

__all__ = ["ChartTexts", "deviation_heatmap_svg", "expert_totals_svg", "summary_totals_svg"]

SVG_NS = "http://www.w3.org/2000/svg"
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class ChartTexts:
    """The words of the charts (Chinese by default; a page passes its translations)."""

    totals_title: str = "各专家评分总分分布"
    totals_desc: str = (
        "每行一个投标：圆点为各专家给出的总分，竖线为平均分，浅色条为去掉一个最高分和一个最低分后的范围。"
    )
    heatmap_title: str = "评分偏离度：{criterion}"
    heatmap_desc: str = "行为专家，列为投标；颜色越深偏离越大，超过阈值 {threshold} 的格子加框并标“!”。"
    expert_total: str = "{expert}：{value}"
    dropped: str = "（已剔除）"
    mean: str = "平均分：{value}"
    trimmed_range: str = "去极值范围：{low} – {high}"
    cell: str = "{expert} · {bid}：分值 {value}，偏离度 {deviation}"
    cell_missing: str = "{expert} · {bid}：未评分"
    cell_alone: str = "{expert} · {bid}：分值 {value}（无其他专家可比）"


def _text(value: object) -> str:
    return escape(str(value))


def _attr(value: object) -> str:
    return quoteattr(str(value))


def _num(value: float) -> str:
    return f"{value:.1f}"


def _plain(value: Decimal) -> str:
    """A score as people write it: 2 decimals for display only (the exact value stays in the data)."""
    return f"{round_half_up(value):f}"


def _check_id(chart_id: str) -> None:
    if not _ID.match(chart_id):
        raise ValueError(f"chart id {chart_id!r} must be a letter then letters, digits, _ or - (at most 64)")


def _open(chart_id: str, width: float, height: float, title: str, desc: str, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="{SVG_NS}" role="img" class={_attr(css_class)} width="{_num(width)}" '
        f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(desc)}</desc>',
    ]


def _trimmed(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    ordered = sorted(values)
    if len(ordered) >= 3:
        ordered = ordered[1:-1]
    return ordered[0], ordered[-1]


def expert_totals_svg(
    expert_totals: Mapping[str, Mapping[str, Decimal]],
    bids: Sequence[str],
    *,
    bid_labels: Mapping[str, str] | None = None,
    expert_labels: Mapping[str, str] | None = None,
    dropped: str | None = None,
    full: Decimal | None = None,
    chart_id: str = "expert-totals",
    texts: ChartTexts = ChartTexts(),
) -> str:
    """Per bid one row: each expert's total as a dot, the mean as a tick, the trimmed range as a bar.

    ``expert_totals`` is expert → bid → total (``Summary.expert_totals``); ``bids`` gives the rows in
    order (e.g. the ranking). The trimmed range drops one highest and one lowest total when there are
    three or more. ``dropped`` (drop_widest) is drawn hollow. The axis runs from 0 to ``full``
    (default: the largest total rounded up to a multiple of 10).
    """
    _check_id(chart_id)
    bid_labels = bid_labels or {}
    expert_labels = expert_labels or {}
    experts = list(expert_totals)
    values = [t for e in experts for b, t in expert_totals[e].items() if b in bids]
    top = full if full is not None else max([Decimal(10), *values])
    if full is None:
        top = (top / 10).to_integral_value(rounding=ROUND_CEILING) * 10
    if top <= 0:
        raise ValueError("the axis needs a positive full score")

    left, right, head, row_height = 140.0, 20.0, 34.0, 30.0
    width = 640.0
    plot = width - left - right
    height = head + row_height * len(bids) + 12

    def x(value: Decimal) -> float:
        return left + plot * float(value / top)

    out = _open(chart_id, width, height, texts.totals_title, texts.totals_desc, "chart chart-expert-totals")
    out.append('<g class="axis" font-size="10" fill="#555">')
    for i in range(11):
        tick = top * i / 10
        out.append(
            f'<line x1="{_num(x(tick))}" y1="{_num(head - 6)}" x2="{_num(x(tick))}" y2="{_num(height - 12)}" '
            f'stroke="#ddd" stroke-width="1"/>'
        )
        tick_label = tick.normalize() if tick == tick.to_integral_value() else round_half_up(tick)
        out.append(
            f'<text x="{_num(x(tick))}" y="{_num(head - 10)}" text-anchor="middle">{_text(f"{tick_label:f}")}</text>'
        )
    out.append("</g>")

    for row, bid in enumerate(bids):
        y = head + row_height * row + row_height / 2
        label = bid_labels.get(bid, bid)
        totals = [(e, expert_totals[e][bid]) for e in experts if bid in expert_totals[e]]
        out.append(f'<g class="bid" data-bid={_attr(bid)}>')
        out.append(
            f'<text class="bid-label" x="{_num(left - 8)}" y="{_num(y + 4)}" text-anchor="end" '
            f'font-size="12">{_text(label)}</text>'
        )
        counted = [t for e, t in totals if e != dropped]
        if counted:
            low, high = _trimmed(counted)
            tip = texts.trimmed_range.format(low=_plain(low), high=_plain(high))
            out.append(
                f'<rect class="trimmed-range" x="{_num(x(low))}" y="{_num(y - 8)}" '
                f'width="{_num(max(x(high) - x(low), 2.0))}" height="16" fill="#cfe3f7">'
                f"<title>{_text(tip)}</title></rect>"
            )
            mean = sum(counted, Decimal(0)) / len(counted)
            out.append(
                f'<line class="mean" x1="{_num(x(mean))}" y1="{_num(y - 11)}" x2="{_num(x(mean))}" '
                f'y2="{_num(y + 11)}" stroke="#1f4e79" stroke-width="2">'
                f"<title>{_text(texts.mean.format(value=_plain(mean)))}</title></line>"
            )
        for i, (expert, total) in enumerate(totals):
            # a little vertical spread so that equal totals stay visible as separate dots
            dy = (i - (len(totals) - 1) / 2) * (10 / max(len(totals), 1))
            name = expert_labels.get(expert, expert)
            tip = texts.expert_total.format(expert=name, value=_plain(total))
            css = "expert dropped" if expert == dropped else "expert"
            fill = 'fill="none" stroke="#a00"' if expert == dropped else 'fill="#c0504d"'
            if expert == dropped:
                tip += texts.dropped
            out.append(
                f'<circle class="{css}" data-expert={_attr(expert)} cx="{_num(x(total))}" cy="{_num(y + dy)}" '
                f'r="4" {fill}><title>{_text(tip)}</title></circle>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def summary_totals_svg(
    summary: Summary,
    *,
    bid_labels: Mapping[str, str] | None = None,
    expert_labels: Mapping[str, str] | None = None,
    chart_id: str = "expert-totals",
    texts: ChartTexts = ChartTexts(),
) -> str:
    """expert_totals_svg for a summary: rows in rank order (else the valid bids), the dropped expert hollow."""
    return expert_totals_svg(
        summary.expert_totals,
        summary.ranking.order or summary.valid_bids,
        bid_labels=bid_labels,
        expert_labels=expert_labels,
        dropped=summary.dropped_expert.expert if summary.dropped_expert else None,
        chart_id=chart_id,
        texts=texts,
    )


def _heat(ratio: Decimal, threshold: Decimal) -> str:
    """White at 0, full red at twice the threshold (so the threshold sits mid-scale)."""
    share = min(float(ratio / (threshold * 2)), 1.0)
    green_blue = round(255 - share * 200)
    return f"rgb(255,{green_blue},{green_blue})"


def deviation_heatmap_svg(
    scores: Mapping[Cell, Decimal],
    criterion: Criterion,
    experts: Sequence[str],
    bids: Sequence[str],
    *,
    threshold: Decimal = Decimal("0.3"),
    criterion_label: str | None = None,
    bid_labels: Mapping[str, str] | None = None,
    expert_labels: Mapping[str, str] | None = None,
    chart_id: str = "deviation",
    texts: ChartTexts = ChartTexts(),
) -> str:
    """For one criterion a heat map, experts (rows) × bids (columns), of
    ``|score − mean of the other experts| / max`` (rules.deviation); above ``threshold`` the cell is
    outlined, marked "!" and has class ``over``. A missing score is grey with "–".

    Experts × bids (rather than criteria × experts) because the leader acts on one criterion at a
    time and the question is "which expert, on which bid"; one map per criterion.
    """
    _check_id(chart_id)
    bid_labels = bid_labels or {}
    expert_labels = expert_labels or {}
    cell_w, cell_h, left, head = 56.0, 26.0, 120.0, 40.0
    width = left + cell_w * len(bids) + 12
    height = head + cell_h * len(experts) + 12
    label = criterion_label or criterion.id
    title = texts.heatmap_title.format(criterion=label)
    desc = texts.heatmap_desc.format(threshold=f"{threshold:f}")
    out = _open(chart_id, width, height, title, desc, "chart chart-deviation")

    out.append('<g class="columns" font-size="11" fill="#333">')
    for col, bid in enumerate(bids):
        cx = left + cell_w * col + cell_w / 2
        out.append(
            f'<text x="{_num(cx)}" y="{_num(head - 10)}" text-anchor="middle">{_text(bid_labels.get(bid, bid))}</text>'
        )
    out.append("</g>")

    for row, expert in enumerate(experts):
        y = head + cell_h * row
        name = expert_labels.get(expert, expert)
        out.append(f'<g class="expert-row" data-expert={_attr(expert)}>')
        out.append(
            f'<text x="{_num(left - 8)}" y="{_num(y + cell_h / 2 + 4)}" text-anchor="end" font-size="11">'
            f"{_text(name)}</text>"
        )
        for col, bid in enumerate(bids):
            cx = left + cell_w * col
            value = scores.get(Cell(expert, bid, criterion.id))
            bid_name = bid_labels.get(bid, bid)
            attrs = f'x="{_num(cx + 1)}" y="{_num(y + 1)}" width="{_num(cell_w - 2)}" height="{_num(cell_h - 2)}"'
            data = f"data-bid={_attr(bid)}"
            if value is None or not value.is_finite():
                tip = texts.cell_missing.format(expert=name, bid=bid_name)
                out.append(f'<rect class="cell missing" {data} {attrs} fill="#eee"><title>{_text(tip)}</title></rect>')
                out.append(_mark(cx, y, cell_w, cell_h, "–"))
                continue
            others = [
                v
                for e in experts
                if e != expert and (v := scores.get(Cell(e, bid, criterion.id))) is not None and v.is_finite()
            ]
            ratio = deviation(value, others, criterion.max_points)
            if ratio is None:
                tip = texts.cell_alone.format(expert=name, bid=bid_name, value=f"{value:f}")
                out.append(f'<rect class="cell" {data} {attrs} fill="#fff"><title>{_text(tip)}</title></rect>')
                continue
            over = ratio > threshold
            shown = f"{round_half_up(ratio):f}"
            tip = texts.cell.format(expert=name, bid=bid_name, value=f"{value:f}", deviation=shown)
            css = "cell over" if over else "cell"
            stroke = ' stroke="#000" stroke-width="2"' if over else ' stroke="#fff"'
            out.append(
                f'<rect class="{css}" {data} data-deviation="{shown}" {attrs} fill="{_heat(ratio, threshold)}"{stroke}>'
                f"<title>{_text(tip)}</title></rect>"
            )
            out.append(_mark(cx, y, cell_w, cell_h, f"{shown}!" if over else shown))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _mark(x: float, y: float, w: float, h: float, text: str) -> str:
    # aria-hidden: the rect's <title> already says it; the visible figure is for sighted readers
    return (
        f'<text x="{_num(x + w / 2)}" y="{_num(y + h / 2 + 4)}" text-anchor="middle" font-size="10" '
        f'aria-hidden="true">{_text(text)}</text>'
    )
