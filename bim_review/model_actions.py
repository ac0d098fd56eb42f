"""Attaching an IFC model to a bid: the check of the file and the audited action.

``attach_model`` follows evaluation/actions.py: in one transaction it locks the lot's latest session,
checks who and when (the host, or the bid's own bidder, before the bids open for review), stores the
file by SHA-256 as the bid's BIM document, writes the BimModel row and the audit event
``bim.model_attached``, and after commit broadcasts the event and starts the conversion.
A refused file leaves nothing behind: no row, no stored file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext

from bim_review import jobs
from bim_review.convert import cache_key
from bim_review.models import BimModel, IfcSchema
from evaluation.audit import record_event
from evaluation.events import broadcast
from evaluation.exceptions import ProtocolError, Refused
from evaluation.models import Bid, BidDocument, DocumentKind, EvaluationSession
from evaluation.opening import IMPORT_PHASES
from evaluation.permissions import ROLE_GROUPS, Actor, Role, signed_in, user_groups
from evaluation.uploads import check_document, reuse_stored_copy

HEADER_BYTES = 64 * 1024
TAIL_BYTES = 4096
_SCHEMA = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
# The schema identifiers of the header, by the family the project accepts.
SCHEMAS: tuple[tuple[str, IfcSchema], ...] = (
    ("IFC2X3", IfcSchema.IFC2X3),
    ("IFC4X3", IfcSchema.IFC4X3),
    ("IFC4", IfcSchema.IFC4),
)
UNSUPPORTED_PREFIXES = ("IFC4X1", "IFC4X2")


class TooLarge(ProtocolError):
    """The model is larger than EVAL_BIM_MAX_BYTES (answered 413, not 400)."""


@dataclass(frozen=True)
class CheckedModel:
    original_name: str
    sha256: str
    size: int
    schema: IfcSchema


def max_model_bytes() -> int:
    return int(settings.EVAL_BIM_MAX_BYTES)


def schema_of(identifier: str) -> IfcSchema | None:
    name = identifier.strip().upper()
    if name.startswith(UNSUPPORTED_PREFIXES):
        return None
    return next((schema for prefix, schema in SCHEMAS if name.startswith(prefix)), None)


def check_ifc(upload: File) -> CheckedModel:
    """Refuse (ProtocolError, with the reason) a file that is too large, not IFC STEP, truncated or of an
    unsupported schema; otherwise its name, SHA-256, size and schema."""
    name = os.path.basename(upload.name or "")
    if not name.lower().endswith(".ifc"):
        raise ProtocolError(gettext("%(name)s: a BIM model must be an IFC STEP file (.ifc)") % {"name": name})
    cap = max_model_bytes()
    if upload.size is not None and upload.size > cap:
        raise TooLarge(
            gettext("%(name)s is %(size)s bytes; the limit is %(cap)s bytes")
            % {"name": name, "size": upload.size, "cap": cap}
        )
    checked = check_document(upload, DocumentKind.BIM_MODEL, max_bytes=cap)
    upload.seek(0)
    head = upload.read(HEADER_BYTES)
    found = _SCHEMA.search(head)
    if found is None:
        raise ProtocolError(gettext("%(name)s: the STEP header names no FILE_SCHEMA") % {"name": name})
    identifier = found.group(1).decode("ascii", errors="replace")
    schema = schema_of(identifier)
    if schema is None:
        raise ProtocolError(
            gettext("%(name)s: schema %(schema)s is not supported (IFC2X3, IFC4 or IFC4X3)")
            % {"name": name, "schema": identifier}
        )
    upload.seek(max(0, checked.size - TAIL_BYTES))
    tail = upload.read(TAIL_BYTES).rstrip()
    upload.seek(0)
    if b"DATA;" not in head or not tail.endswith(b"END-ISO-10303-21;"):
        raise ProtocolError(gettext("%(name)s is truncated: it does not end with END-ISO-10303-21;") % {"name": name})
    return CheckedModel(checked.original_name, checked.sha256, checked.size, schema)


def _may_attach(actor: Actor, bid: Bid) -> User:
    user = signed_in(actor)
    groups = user_groups(user)
    if user.is_superuser or ROLE_GROUPS[Role.HOST] in groups:
        return user
    if ROLE_GROUPS[Role.BIDDER] in groups and bid.bidder.users.filter(pk=user.pk).exists():
        return user
    raise Refused(gettext("only the host or the bid's own bidder may attach a BIM model"), code="forbidden")


def _store(bid: Bid, checked: CheckedModel, upload: File, stored: list[str]) -> BidDocument:
    """The bid's BIM document, its file stored under its hash (or the stored copy of the same bytes)."""
    document = BidDocument(
        bid=bid,
        kind=DocumentKind.BIM_MODEL,
        original_name=checked.original_name,
        sha256=checked.sha256,
        size=checked.size,
    )
    if not reuse_stored_copy(document):
        document.file.save(checked.original_name, upload, save=False)
        stored.append(str(document.file.name))
    document.save()
    return document


def attach_model(actor: Actor, bid: Bid, upload: File, *, convert: bool = True) -> BimModel:
    """Check, store and register the model, and start its conversion after commit (unless ``convert``
    is False: seed_demo's models wait for the server, which starts queued models when they are listed)."""
    checked = check_ifc(upload)
    stored: list[str] = []
    try:
        return _attach(actor, bid, upload, checked, stored, convert)
    except BaseException:
        # The transaction rolled back; a file this attempt wrote (not one reused) goes too.
        for name in stored:
            BidDocument._meta.get_field("file").storage.delete(name)
        raise


@transaction.atomic
def _attach(actor: Actor, bid: Bid, upload: File, checked: CheckedModel, stored: list[str], convert: bool) -> BimModel:
    bid = Bid.objects.select_related("lot", "bidder").get(pk=bid.pk)
    user = _may_attach(actor, bid)
    session = EvaluationSession.objects.select_for_update().filter(lot=bid.lot_id).order_by("-id").first()
    if session is not None and session.phase not in IMPORT_PHASES:
        raise Refused(
            gettext("BIM models are attached before the bids open for review (phase: %(phase)s)")
            % {"phase": session.get_phase_display()},
            code="wrong_phase",
        )
    if BimModel.objects.filter(bid=bid, sha256=checked.sha256).exists():
        raise Refused(gettext("this bid already has this model"), code="conflict")
    document = BidDocument.objects.filter(bid=bid, sha256=checked.sha256).first() or _store(
        bid, checked, upload, stored
    )
    model = BimModel.objects.create(
        bid=bid,
        document=document,
        sha256=checked.sha256,
        size=checked.size,
        schema=checked.schema,
        original_name=checked.original_name,
        uploaded_by=user,
        cache_key=cache_key(checked.sha256),
    )
    if session is not None:
        data = {
            "model": model.pk,
            "bid": bid.anonymous_label,
            "schema": model.schema,
            "sha256": model.sha256,
            "size": model.size,
        }
        record_event(session, user, "bim.model_attached", data)
        broadcast(session.pk, "bim.model_attached", data, version=session.audit_seq)
    if convert:
        transaction.on_commit(lambda: jobs.start(model.pk))
    return model
