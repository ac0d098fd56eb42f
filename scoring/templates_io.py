"""Scoring templates as JSON: the import schema (pydantic), export, import, and the two seeded ones.

The JSON of a template::

    {"name": "...", "method": "comprehensive" | "lowest_evaluated_price", "description": "...",
     "rules": {... evaluation.protocol.LotRules fields ...},
     "preliminary": [{"code", "group", "title", "description"}],
     "detailed": [{"code", "group", "title", "description", "max_points", "step", "objective"}]}

Numbers are read as Decimal (never float); export writes them as strings, so an export imports back
to the same template.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from django.contrib.auth.models import User
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evaluation.exceptions import ProtocolError, Refused
from evaluation.models import EvaluationMethod, Lot
from evaluation.permissions import Actor, require_host_group
from evaluation.protocol import LotRules
from scoring.actions import copy_template
from scoring.models import (
    CriterionGroup,
    LotScheme,
    PreliminaryGroup,
    ScoringTemplate,
    TemplateCriterion,
    TemplatePreliminaryCriterion,
)

SEED_DIR = Path(__file__).resolve().parent / "fixtures" / "templates"
# The names of the seeded templates (scoring/fixtures/templates/*.json), one per evaluation method.
SEEDED = {
    EvaluationMethod.COMPREHENSIVE: "综合评估法（房建市政施工示例）",
    EvaluationMethod.LOWEST_EVALUATED_PRICE: "经评审的最低投标价法（示例）",
}
MAX_CRITERIA = 200

Code = Annotated[str, Field(min_length=1, max_length=32)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=4000)]
Points = Annotated[Decimal, Field(gt=0, max_digits=7, decimal_places=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PreliminaryIn(_Strict):
    code: Code
    group: PreliminaryGroup
    title: Title
    description: Text = ""


class CriterionIn(_Strict):
    code: Code
    group: CriterionGroup
    title: Title
    description: Text = ""
    max_points: Points
    step: Points = Decimal("0.5")
    objective: bool = False

    @model_validator(mode="after")
    def _step_divides_max(self) -> CriterionIn:
        if self.max_points % self.step:
            raise ValueError(f"{self.code}: max_points must be a whole number of steps")
        if self.group == CriterionGroup.PRICE and self.objective:
            raise ValueError(f"{self.code}: the price criterion is computed, neither objective nor subjective")
        return self


class TemplateIn(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    method: EvaluationMethod
    description: Text = ""
    rules: dict[str, Any] = Field(default_factory=dict)
    preliminary: list[PreliminaryIn] = Field(default_factory=list, max_length=MAX_CRITERIA)
    detailed: list[CriterionIn] = Field(default_factory=list, max_length=MAX_CRITERIA)

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: dict[str, Any]) -> dict[str, Any]:
        LotRules.model_validate(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TemplateIn:
        for what, items in (("preliminary", self.preliminary), ("detailed", self.detailed)):
            codes = [c.code for c in items]
            if len(set(codes)) != len(codes):
                raise ValueError(f"a {what} criterion code appears twice")
        if sum(1 for c in self.detailed if c.group == CriterionGroup.PRICE) > 1:
            raise ValueError("at most one price criterion (it is computed from the evaluated prices)")
        return self

    @classmethod
    def parse_json(cls, raw: str | bytes) -> TemplateIn:
        try:
            data = json.loads(raw, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ProtocolError("a scoring template must be a JSON object")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            parts = [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:5]]
            raise ProtocolError("; ".join(parts)) from exc


def export_template(template: ScoringTemplate) -> dict[str, Any]:
    """The template as JSON-ready data (Decimals as strings)."""
    return {
        "name": template.name,
        "method": template.method,
        "description": template.description,
        "rules": template.rules,
        "preliminary": [
            {"code": c.code, "group": c.group, "title": c.title, "description": c.description}
            for c in template.preliminary_criteria.all()
        ],
        "detailed": [
            {
                "code": c.code,
                "group": c.group,
                "title": c.title,
                "description": c.description,
                "max_points": str(c.max_points),
                "step": str(c.step),
                "objective": c.objective,
            }
            for c in template.criteria.all()
        ],
    }


def export_json(template: ScoringTemplate) -> str:
    return json.dumps(export_template(template), ensure_ascii=False, indent=2) + "\n"


def _create(data: TemplateIn) -> ScoringTemplate:
    template = ScoringTemplate.objects.create(
        name=data.name, method=data.method, description=data.description, rules=data.rules
    )
    TemplatePreliminaryCriterion.objects.bulk_create(
        TemplatePreliminaryCriterion(template=template, position=i, **c.model_dump())
        for i, c in enumerate(data.preliminary)
    )
    TemplateCriterion.objects.bulk_create(
        TemplateCriterion(template=template, position=i, **c.model_dump()) for i, c in enumerate(data.detailed)
    )
    return template


@transaction.atomic
def import_template(raw: str | bytes, actor: Actor, *, replace: bool = False) -> ScoringTemplate:
    """Create a template from its JSON; with ``replace``, an existing template of that name is
    replaced (lots keep their own copies, so no lot changes). All or nothing. Hosts only."""
    require_host_group(actor, "only a host imports scoring templates")
    data = TemplateIn.parse_json(raw)
    existing = ScoringTemplate.objects.select_for_update().filter(name=data.name).first()
    if existing is not None:
        if not replace:
            raise Refused(f"a scoring template named {data.name!r} exists already", code="conflict")
        existing.delete()
    return _create(data)


def ensure_seed_templates(**kwargs: Any) -> None:
    """post_migrate: create the seeded templates (comprehensive, lowest evaluated price) if missing."""
    for path in sorted(SEED_DIR.glob("*.json")):
        data = TemplateIn.parse_json(path.read_bytes())
        if not ScoringTemplate.objects.filter(name=data.name).exists():
            with transaction.atomic():
                _create(data)


def seed_demo_scheme(lot: Lot, host: User) -> str:
    """The demo's step per lot (evaluation.demo): the seeded template of the lot's method, copied once."""
    if LotScheme.objects.filter(lot=lot).exists():
        return ""
    template = ScoringTemplate.objects.get(name=SEEDED[EvaluationMethod(lot.evaluation_method)])
    copy_template(lot, template, host)
    return f"scoring scheme of {lot.code} from {template.name}"
