"""``manage.py scoring_template``: export, import and copy from the command line."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scoring.models import LotScheme, ScoringTemplate
from tests.personas import COMPREHENSIVE, Cast


def test_export_import_and_copy_from_the_command_line(cast: Cast, tmp_path):
    path = tmp_path / "t.json"
    call_command("scoring_template", "export", COMPREHENSIVE, "--output", str(path))
    data = json.loads(path.read_text(encoding="utf-8")) | {"name": "命令行模板"}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    call_command("scoring_template", "import", str(path), "--user", cast.host.username, stdout=out)
    assert "命令行模板" in out.getvalue() and ScoringTemplate.objects.filter(name="命令行模板").exists()
    call_command("scoring_template", "copy", "命令行模板", str(cast.lot.pk), "--user", cast.host.username)
    assert LotScheme.objects.get(lot=cast.lot).template_name == "命令行模板"


def test_refusals_exit_with_the_reason(cast: Cast, tmp_path):
    with pytest.raises(CommandError, match="no scoring template named"):
        call_command("scoring_template", "export", "没有这个模板")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(CommandError, match="JSON object"):
        call_command("scoring_template", "import", str(bad), "--user", cast.host.username)
    with pytest.raises(CommandError, match="only a host"):
        call_command("scoring_template", "copy", COMPREHENSIVE, str(cast.lot.pk), "--user", cast.li.username)
