"""The texts members declare before any bid file opens (DOMAIN.md: recusal grounds, commitment)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Recusal grounds (回避事由), by code; any one of them locks the member out of the session.
RECUSAL_GROUNDS: dict[str, Promise] = {
    "family": _("与投标人的法定代表人或主要负责人有近亲属关系"),
    "employment_or_shares": _("近三年内在投标人处任职、担任董事或持有其股份"),
    "supervising_department": _("项目主管部门或者行政监督部门的人员"),
    "other_interest": _("与投标人有其他利害关系，可能影响公正评审"),
    "past_penalties": _("曾因在招标、评标以及其他与招标投标有关活动中从事违法行为而受过行政处罚或刑事处罚"),
}

RECUSAL_STATEMENT = _(
    "本人已知悉本项目投标人名单，并如实声明：本人与各投标人之间是否存在下列应当回避的情形。"
    "如有隐瞒，愿承担相应法律责任。"
)

INTEGRITY_STATEMENT = _(
    "本人承诺：客观、公正、审慎地履行评标职责，遵守评标纪律，不私下接触投标人，"
    "不收受任何财物或其他好处，不透露评审情况，不受任何单位或个人的干预。"
)
