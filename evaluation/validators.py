"""Field validators for the core models."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from evaluation.exceptions import ProtocolError
from evaluation.identifiers import is_valid_credit_code
from evaluation.protocol import LotRules


def validate_credit_code(value: str) -> None:
    if not is_valid_credit_code(value):
        raise ValidationError(
            _("%(value)s 不是有效的统一社会信用代码（GB 32100-2015 校验位不符）"), params={"value": value}
        )


def validate_lot_rules(value: Any) -> None:
    try:
        LotRules.parse(value)
    except ProtocolError as exc:
        raise ValidationError(str(exc)) from exc
