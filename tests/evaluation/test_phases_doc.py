from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from evaluation.phases import render_markdown


def test_docs_phases_md_is_the_rendered_transition_table():
    doc = Path(settings.BASE_DIR) / "docs" / "PHASES.md"
    assert doc.read_text(encoding="utf-8") == render_markdown(), "run: manage.py render_phases"
    call_command("render_phases", "--check")
