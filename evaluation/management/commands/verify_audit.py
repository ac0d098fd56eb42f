"""manage.py verify_audit SESSION_ID: recompute a session's audit chain against its head."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evaluation.audit import verify_chain
from evaluation.models import EvaluationSession


class Command(BaseCommand):
    help = "Verify the audit hash chain of a session; exit 0 if intact, 1 naming the first broken event."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("session_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = verify_chain(options["session_id"])
        except EvaluationSession.DoesNotExist as exc:
            raise CommandError(f"session {options['session_id']} does not exist") from exc
        if not report.ok:
            raise CommandError(report.describe(), returncode=1)
        self.stdout.write(report.describe())
