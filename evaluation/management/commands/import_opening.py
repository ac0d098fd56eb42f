"""``manage.py import_opening LOT_ID FILE --user USERNAME``: import a lot's bid-opening record.

All or nothing, like the admin upload: a refused file leaves no row behind, prints its reason and
exits with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.exceptions import ProtocolError, Refused
from evaluation.models import BidOpeningRecord, Lot
from evaluation.opening import import_opening_record
from evaluation.uploads import read_opening_record


def import_file(lot_id: int, path: Path, username: str) -> BidOpeningRecord:
    """The command's one step, callable from a test; every refusal is a CommandError with its reason."""
    lot = Lot.objects.filter(pk=lot_id).first()
    if lot is None:
        raise CommandError(f"lot {lot_id} does not exist")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"user {username!r} does not exist")
    try:
        with path.open("rb") as f:
            raw = read_opening_record(f, path.name)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ProtocolError as exc:
        raise CommandError(str(exc)) from exc
    try:
        return import_opening_record(lot, raw, user)
    except (ProtocolError, Refused) as exc:
        raise CommandError(f"{path.name} refused for lot {lot}: {exc}") from exc


class Command(BaseCommand):
    help = "Import a lot's bid-opening record (开标记录) from the opening system's JSON export."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lot_id", type=int, help="the lot's id")
        parser.add_argument("file", type=Path, help="the opening record, JSON")
        parser.add_argument("--user", required=True, help="the importing host's user name")

    def handle(self, *args: Any, **options: Any) -> None:
        record = import_file(options["lot_id"], options["file"], options["user"])
        bids = record.lot.bids.count()
        self.stdout.write(
            self.style.SUCCESS(f"imported the opening record of {record.lot}: {bids} bids, sha256 {record.sha256}")
        )
