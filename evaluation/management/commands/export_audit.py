"""manage.py export_audit SESSION_ID [--out FILE]: the audit chain in a form outsiders can check."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evaluation.audit import export_lines
from evaluation.models import EvaluationSession


class Command(BaseCommand):
    help = "Write a session's audit chain as '<sha256> <canonical JSON>' lines (see docs/AUDIT.md)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("session_id", type=int)
        parser.add_argument("--out", type=Path, help="write to this file instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        if not EvaluationSession.objects.filter(pk=options["session_id"]).exists():
            raise CommandError(f"session {options['session_id']} does not exist")
        lines = export_lines(options["session_id"])
        if options["out"] is None:
            for line in lines:
                self.stdout.write(line)
            return
        with options["out"].open("w", encoding="utf-8", newline="\n") as out:
            for line in lines:
                out.write(line + "\n")
