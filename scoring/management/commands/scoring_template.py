"""``manage.py scoring_template``: export, import and copy scoring templates.

- ``scoring_template export NAME [--output FILE]``: the template as JSON (stdout by default);
- ``scoring_template import FILE --user HOST [--replace]``: a template from its JSON, all or nothing;
- ``scoring_template copy NAME LOT_ID --user HOST``: the lot's own copy (before its review starts).

Every refusal prints its reason and exits with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.exceptions import ProtocolError, Refused
from evaluation.models import Lot
from scoring.actions import copy_template
from scoring.models import ScoringTemplate
from scoring.templates_io import export_json, import_template


def _user(username: str) -> User:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"user {username!r} does not exist")
    return user


def _template(name: str) -> ScoringTemplate:
    template = ScoringTemplate.objects.filter(name=name).first()
    if template is None:
        known = "、".join(ScoringTemplate.objects.values_list("name", flat=True))
        raise CommandError(f"no scoring template named {name!r} (known: {known})")
    return template


def run(action: str, options: dict[str, Any]) -> str:
    """The command's one step, callable from a test; returns what it prints."""
    try:
        if action == "export":
            text = export_json(_template(options["name"]))
            if options.get("output"):
                Path(options["output"]).write_text(text, encoding="utf-8")
                return f"wrote {options['output']}"
            return text
        if action == "import":
            try:
                raw = Path(options["file"]).read_bytes()
            except OSError as exc:
                raise CommandError(f"cannot read {options['file']}: {exc.strerror or exc}") from exc
            template = import_template(raw, _user(options["user"]), replace=options.get("replace", False))
            return f"imported scoring template {template.name}"
        lot = Lot.objects.filter(pk=options["lot_id"]).first()
        if lot is None:
            raise CommandError(f"lot {options['lot_id']} does not exist")
        scheme = copy_template(lot, _template(options["name"]), _user(options["user"]))
        return f"copied {scheme.template_name} to {lot}"
    except (ProtocolError, Refused) as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = "Export, import and copy scoring templates (JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write a template as JSON")
        export.add_argument("name")
        export.add_argument("--output", type=Path)
        imported = sub.add_parser("import", help="create a template from its JSON")
        imported.add_argument("file", type=Path)
        imported.add_argument("--user", required=True, help="the importing host's user name")
        imported.add_argument("--replace", action="store_true", help="replace a template of the same name")
        copy = sub.add_parser("copy", help="give a lot its own copy of a template")
        copy.add_argument("name")
        copy.add_argument("lot_id", type=int)
        copy.add_argument("--user", required=True, help="the host's user name")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(run(options["action"], options))
