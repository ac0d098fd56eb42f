"""The texts of the scoring sheet in the room page (scoring/static/scoring/sheet.js), in the page's
language; the room's views render them into the page as JSON with the room's other texts."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from scoring.charts import ChartTexts
from scoring.models import Art64Reason

SHEET_STRINGS: dict[str, Promise] = {
    "progress_title": _("评分进度"),
    "sheet_title": _("我的评分表"),
    "prelim_title": _("初步评审"),
    "summary_title": _("评分汇总"),
    "col_member": _("评委"),
    "col_filled": _("已评分项"),
    "col_status": _("状态"),
    "col_criterion": _("评分因素"),
    "col_max": _("满分"),
    "typed_total": _("评分合计（不含价格分）"),
    "col_rank": _("排名"),
    "col_bid": _("投标人"),
    "col_total": _("总分"),
    "col_candidate": _("推荐"),
    "col_price": _("评标价"),
    "step": _("步长 {step}"),
    "range_hint": _("0 至 {max} 分，步长 {step}"),
    "submitted": _("已提交"),
    "in_progress": _("评分中"),
    "recheck": _("要求复核"),
    "recheck_reason": _("复核原因"),
    "recheck_notice": _("组长要求您复核评分表：{reason}"),
    "reason_required": _("请填写原因。"),
    "submit": _("提交评分表"),
    "sheet_submitted": _("评分表已提交，不能再修改。"),
    "sheet_progress": _("已评 {filled} / {total} 项；每项输入后即自动保存。"),
    "computed_later": _("由系统计算"),
    "computed": _("系统计算"),
    "not_a_number": _("请输入数字，例如 7.5"),
    "out_of_range": _("超出范围：应在 0 至 {max} 之间"),
    "off_step": _("不符合步长：应为 {step} 的整数倍"),
    "saving": _("保存中…"),
    "saved": _("已保存"),
    "not_connected": _("未连接：恢复连接后将不会自动保存，请重新输入。"),
    "conflict": _("此项已在您的另一个窗口中修改，已刷新为最新保存的值。"),
    "changed_elsewhere": _("已在您的另一个窗口中修改"),
    "warnings_title": _("偏离提醒"),
    "deviation_reason": _("保留或修改的书面理由"),
    "confirm_deviation": _("保留原分并说明理由"),
    "confirmed": _("已说明"),
    "pass": _("合格"),
    "fail": _("不合格"),
    "unmarked": _("未评审"),
    "fail_reason": _("不合格原因"),
    "marks_progress": _("已评 {marks} / {expected}"),
    "conclusion": _("委员会结论"),
    "unanimous": _("一致通过"),
    "majority": _("多数意见"),
    "conclude": _("记录委员会结论"),
    "summary_blocked": _("存在须处理的问题，汇总暂不能确认。"),
    "findings_title": _("复核发现（财政部令第87号第六十四条）"),
    "no_findings": _("未发现问题。"),
    "rejected_title": _("未进入排名的投标"),
    "corrections_title": _("汇总后的评分更正"),
    "correction_line": _("{name} · {label} · {criterion}：{old} → {new}（{reason}：{explanation}）"),
    "candidate": _("第 {n} 中标候选人"),
    "heat_title": _("各评分因素偏离热力图"),
    "dots_title": _("各评委总分分布"),
    "correction_title": _("更正评分（须符合第六十四条四种情形之一）"),
    "correction_value": _("更正后的分值"),
    "correction_explanation": _("更正说明"),
    "correct": _("更正"),
    "choose": _("请选择"),
}


def sheet_strings() -> dict[str, object]:
    """The sheet's texts, with the four Art. 64 reasons by code."""
    return {**SHEET_STRINGS, "art64": {str(r.value): r.label for r in Art64Reason}}


def chart_texts() -> ChartTexts:
    """The charts' words in the current language (the charts' defaults are the Chinese texts)."""
    return ChartTexts(
        totals_title=gettext("各专家评分总分分布"),
        totals_desc=gettext(
            "每行一个投标：圆点为各专家给出的总分，竖线为平均分，浅色条为去掉一个最高分和一个最低分后的范围。"
        ),
        heatmap_title=gettext("评分偏离度：{criterion}"),
        heatmap_desc=gettext("行为专家，列为投标；颜色越深偏离越大，超过阈值 {threshold} 的格子加框并标“!”。"),
        expert_total=gettext("{expert}：{value}"),
        dropped=gettext("（已剔除）"),
        mean=gettext("平均分：{value}"),
        trimmed_range=gettext("去极值范围：{low} – {high}"),
        cell=gettext("{expert} · {bid}：分值 {value}，偏离度 {deviation}"),
        cell_missing=gettext("{expert} · {bid}：未评分"),
        cell_alone=gettext("{expert} · {bid}：分值 {value}（无其他专家可比）"),
    )
