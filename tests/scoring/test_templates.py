"""Scoring templates: the two seeded ones, JSON export/import round trip, and a lot's own copy that
later template edits never change."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from evaluation import actions
from evaluation.exceptions import ProtocolError, Refused
from evaluation.models import AuditEvent, EvaluationMethod, Phase
from scoring import actions as scoring
from scoring.models import LotScheme, ScoringTemplate
from scoring.templates_io import export_json, export_template, import_template
from tests.personas import COMPREHENSIVE, LOWEST_PRICE, Cast, advance_to, prepare
from tests.scoring.conftest import to_preliminary


def test_both_methods_are_seeded(db):
    methods = dict(ScoringTemplate.objects.values_list("name", "method"))
    assert methods[COMPREHENSIVE] == EvaluationMethod.COMPREHENSIVE
    assert methods[LOWEST_PRICE] == EvaluationMethod.LOWEST_EVALUATED_PRICE
    comprehensive = ScoringTemplate.objects.get(name=COMPREHENSIVE)
    groups = set(comprehensive.preliminary_criteria.values_list("group", flat=True))
    assert groups == {"form", "qualification", "responsiveness"}
    assert set(comprehensive.criteria.values_list("group", flat=True)) == {"technical", "commercial", "price", "credit"}
    total = sum(c.max_points for c in comprehensive.criteria.all())
    assert total == Decimal("100")


def test_export_then_import_gives_the_same_template(cast: Cast):
    original = ScoringTemplate.objects.get(name=COMPREHENSIVE)
    exported = export_json(original)
    renamed = json.loads(exported)
    renamed["name"] = "综合评估法（副本）"
    copy = import_template(json.dumps(renamed, ensure_ascii=False), cast.host)
    assert {**export_template(copy), "name": original.name} == json.loads(exported)


def test_an_import_replaces_a_template_only_when_asked(cast: Cast):
    exported = export_json(ScoringTemplate.objects.get(name=COMPREHENSIVE))
    with pytest.raises(Refused, match="exists already"):
        import_template(exported, cast.host)
    data = json.loads(exported)
    data["detailed"][0]["max_points"] = "12"
    data["detailed"][0]["title"] = "施工组织设计"
    replaced = import_template(json.dumps(data), cast.host, replace=True)
    assert replaced.criteria.get(code="T1").title == "施工组织设计"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["detailed"][0].update(step="0.3"), "whole number of steps"),
        (lambda d: d["detailed"][1].update(code="T1"), "appears twice"),
        (lambda d: d["preliminary"][0].update(group="技术"), "preliminary.0.group"),
        (lambda d: d["rules"].update(e2="2"), "E2 must not exceed E1"),
        (lambda d: d["detailed"][0].update(max_points="0"), "greater than 0"),
        (lambda d: d["detailed"][8].update(objective=True), "computed"),
        (lambda d: d.update(extra="x"), "extra"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason_and_nothing_is_created(cast: Cast, change, words):
    data = json.loads(export_json(ScoringTemplate.objects.get(name=COMPREHENSIVE)))
    data["name"] = "坏模板"
    change(data)
    with pytest.raises(ProtocolError) as error:
        import_template(json.dumps(data), cast.host)
    assert words in str(error.value)
    assert not ScoringTemplate.objects.filter(name="坏模板").exists()


def test_only_a_host_imports_templates(cast: Cast):
    exported = export_json(ScoringTemplate.objects.get(name=COMPREHENSIVE))
    with pytest.raises(Refused, match="only a host"):
        import_template(exported.replace(COMPREHENSIVE, "专家的模板"), cast.li)


def test_a_lot_keeps_its_copy_when_the_template_is_edited_later(cast: Cast):
    template = ScoringTemplate.objects.get(name=COMPREHENSIVE)
    scheme = scoring.copy_template(cast.lot, template, cast.host)
    template.criteria.filter(code="T1").update(max_points=Decimal("20"), title="改过的")
    template.preliminary_criteria.filter(code="F1").delete()
    template.rules = {**template.rules, "aggregation": "trim_high_low"}
    template.save()
    scheme.refresh_from_db()
    assert scheme.criteria.get(code="T1").max_points == Decimal("10")
    assert scheme.preliminary_criteria.filter(code="F1").exists()
    assert scheme.rules["aggregation"] == "mean"
    assert scheme.rules["price_points"] == "55" and scheme.criteria.get(group="price").max_points == Decimal("55")
    event = AuditEvent.objects.get(session=cast.session, kind="scoring.scheme_copied")
    assert event.payload["template"] == COMPREHENSIVE


def test_the_lot_s_own_settings_override_the_template_s(cast: Cast):
    cast.lot.rules = {"price_points": "40", "aggregation": "trim_high_low"}
    cast.lot.save()
    scheme = scoring.copy_template(cast.lot, ScoringTemplate.objects.get(name=COMPREHENSIVE), cast.host)
    assert scheme.rules["aggregation"] == "trim_high_low" and scheme.rules["benchmark"] == "trimmed_mean"
    assert scheme.criteria.get(group="price").max_points == Decimal("40")


def test_the_copy_is_frozen_once_review_starts(cast: Cast):
    to_preliminary(cast)
    with pytest.raises(Refused, match="frozen"):
        scoring.copy_template(cast.lot, ScoringTemplate.objects.get(name=LOWEST_PRICE), cast.host)
    assert LotScheme.objects.get(lot=cast.lot).template_name == COMPREHENSIVE


def test_preliminary_review_needs_the_lot_s_scheme(cast: Cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    prepare(cast, Phase.PRELIMINARY_REVIEW)
    LotScheme.objects.filter(lot=cast.lot).delete()
    with pytest.raises(Refused, match="no scoring scheme"):
        actions.do_transition(cast.session, cast.host, "open_preliminary_review")
