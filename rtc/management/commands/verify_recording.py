"""manage.py verify_recording DIR: check a session recording's manifest chain and segment hashes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rtc.recording import verify_recording


class Command(BaseCommand):
    help = "Verify a session recording (its manifest.jsonl hash chain and every segment's SHA-256); exit 1 if not."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("directory", type=Path, help="the session's recording folder (holds manifest.jsonl)")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_recording(options["directory"])
        if not report.ok:
            raise CommandError("\n".join(report.problems), returncode=1)
        self.stdout.write(f"{report.directory}: {report.entries} entries, {report.segments} segments, chain intact")
