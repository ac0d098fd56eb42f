"""``manage.py convert_ifc FILE --out DIR``: the server's very conversion, for operators (batch re-conversion)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bim_review import jobs
from bim_review.convert import ConversionFailed, convert_file


class Command(BaseCommand):
    help = "Convert one IFC file into DIR (GLB, tree, properties, quantities, boxes); print a JSON summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--out", type=Path, required=True, help="the folder to write (must not exist)")

    def handle(self, *args: Any, **options: Any) -> None:
        src: Path = options["file"]
        out: Path = options["out"]
        if not src.is_file():
            raise CommandError(f"{src} is not a file")
        if out.exists():
            raise CommandError(f"{out} exists; give a new folder")
        try:
            summary = convert_file(src.resolve(), out.resolve(), name=src.name, limits=jobs.limits())
        except ConversionFailed as exc:
            raise CommandError(f"conversion failed: {exc.reason}") from exc
        self.stdout.write(json.dumps(summary, sort_keys=True))
