"""``manage.py bim_worker``: converts queued BIM models one at a time (production: EVAL_BIM_RUNNER=worker)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bim_review import jobs


class Command(BaseCommand):
    help = "Convert queued BIM models, oldest first; with --once, stop when none is left."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        done = jobs.run_worker(once=options["once"])
        self.stdout.write(f"converted {done} model(s)")
