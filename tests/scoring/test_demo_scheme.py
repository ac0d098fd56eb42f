"""The demo gives each of its lots the seeded scoring template of the lot's method, once."""

from __future__ import annotations

from evaluation.demo import seed_demo
from evaluation.models import AuditEvent, EvaluationMethod, Lot
from scoring.models import LotScheme
from scoring.templates_io import SEEDED


def test_each_demo_lot_gets_its_scheme_once(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    first = seed_demo(tmp_path / "no-models")
    for lot in Lot.objects.filter(project__code="ZJ-DEMO-2026-001"):
        assert LotScheme.objects.get(lot=lot).template_name == SEEDED[EvaluationMethod(lot.evaluation_method)]
    assert sum("scoring scheme" in line for line in first.created) == 2
    again = seed_demo(tmp_path / "no-models")
    assert not again.changed
    assert AuditEvent.objects.filter(kind="scoring.scheme_copied").count() == 2
