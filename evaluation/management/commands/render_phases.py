"""manage.py render_phases: write docs/PHASES.md from the transition table in evaluation/phases.py."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evaluation.phases import render_markdown

DOC = Path("docs") / "PHASES.md"


class Command(BaseCommand):
    help = "Render docs/PHASES.md from the phase machine's table (--check: fail if it is out of date)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--check", action="store_true", help="only compare, exit 1 if different")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.BASE_DIR) / DOC
        text = render_markdown()
        if options["check"]:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{DOC} is out of date: run manage.py render_phases", returncode=1)
            self.stdout.write(f"{DOC} is up to date")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {DOC}")
