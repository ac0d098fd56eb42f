"""``manage.py seed_demo``: make the demo data (evaluation/demo.py) and print the demo logins."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.demo import Account, seed_demo
from evaluation.exceptions import ProtocolError, Refused


def display_width(text: str) -> int:
    # Chinese characters take two terminal columns; str.ljust counts them as one.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def accounts_table(accounts: list[Account]) -> str:
    rows = [("login", "password", "role", "name")] + [(a.username, a.password, a.role, a.name) for a in accounts]
    widths = [max(display_width(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Create the demo data (one engineering project, two lots, five bidders, seven experts in three cities, "
        "the staff and one session per lot) if it is missing, and print the demo logins. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="seed even though neither EVAL_DEMO nor DEBUG is on (it creates accounts with known passwords)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.EVAL_DEMO or settings.DEBUG or options["force"]):
            raise CommandError(
                "seed_demo creates accounts with known passwords, a superuser among them: run it with EVAL_DEMO=1 "
                "(as make run does) or DEBUG=1, or pass --force"
            )
        try:
            result = seed_demo(settings.EVAL_SHARED_DIR)
        except (Refused, ProtocolError) as exc:
            raise CommandError(f"could not seed the demo data: {exc}") from exc
        if result.changed:
            self.stdout.write(self.style.SUCCESS(f"Seeded the demo data ({len(result.created)} pieces made)."))
            if options["verbosity"] > 1:
                for line in result.created:
                    self.stdout.write(f"  + {line}")
        else:
            self.stdout.write(self.style.SUCCESS("The demo data is already there; nothing changed."))
        for path in result.missing_models:
            self.stderr.write(self.style.WARNING(f"IFC model not found, its bid has no BIM model: {path}"))
        self.stdout.write("")
        self.stdout.write("Demo logins (demo only; a password is set only when its account is created):")
        self.stdout.write(accounts_table(result.accounts))
