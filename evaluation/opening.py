"""Import of a lot's bid-opening record (开标记录) from the opening system's JSON export."""

from __future__ import annotations

import hashlib
import string

from django.db import transaction

from evaluation.audit import record_event
from evaluation.events import broadcast
from evaluation.exceptions import ProtocolError, Refused
from evaluation.models import Bid, Bidder, BidOpeningRecord, EvaluationSession, Lot, Phase
from evaluation.permissions import Actor, require_host_group
from evaluation.protocol import Decryption, OpeningRecordIn

# Bids are evidence once review starts: the record is imported before the review phases.
IMPORT_PHASES = frozenset({Phase.SCHEDULED, Phase.CHECK_IN, Phase.DECLARATIONS, Phase.LEADER_ELECTION})


def _labels() -> list[str]:
    letters = list(string.ascii_uppercase)
    return letters + [a + b for a in letters for b in letters]


@transaction.atomic
def import_opening_record(lot: Lot, raw: str | bytes, actor: Actor) -> BidOpeningRecord:
    """Validate and store the record, and create the bidders and bids it lists as decrypted.

    All or nothing: a record that fails any check leaves no row behind.
    """
    importer = require_host_group(actor, "only a host imports bid-opening records")
    raw_bytes = raw.encode("utf-8") if isinstance(raw, str) else raw
    record_in = OpeningRecordIn.parse_json(raw_bytes)
    lot = Lot.objects.select_for_update().select_related("project").get(pk=lot.pk)
    if record_in.lot != lot.code:
        raise ProtocolError(f"the record is for lot {record_in.lot}, not {lot.code}")
    if record_in.ceiling_price is not None and record_in.ceiling_price != lot.ceiling_price:
        raise ProtocolError(f"ceiling price {record_in.ceiling_price} differs from the lot's {lot.ceiling_price}")
    if BidOpeningRecord.objects.filter(lot=lot).exists():
        raise Refused("the lot's bid-opening record has already been imported", code="conflict")
    session = EvaluationSession.objects.select_for_update().filter(lot=lot).order_by("-id").first()
    if session is not None and session.phase not in IMPORT_PHASES:
        raise Refused(f"the opening record cannot be imported in phase {session.phase}", code="wrong_phase")
    if Bid.objects.filter(lot=lot).exists():
        raise Refused("the lot already has bids entered by hand", code="conflict")

    record = BidOpeningRecord.objects.create(
        lot=lot,
        opened_at=record_in.opened_at,
        raw=raw_bytes.decode("utf-8"),
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        data=record_in.model_dump(mode="json"),
        imported_by=importer,
    )
    free = iter(label for label in _labels() if label not in {e.label for e in record_in.bids})
    created = 0
    for entry in record_in.bids:
        if entry.decryption != Decryption.SUCCESS:
            continue
        bidder, _ = Bidder.objects.get_or_create(credit_code=entry.credit_code, defaults={"name": entry.bidder})
        if bidder.name != entry.bidder:
            raise ProtocolError(f"credit code {entry.credit_code} belongs to {bidder.name}, not {entry.bidder}")
        assert entry.price is not None and entry.decrypted_at is not None  # OpeningEntry guarantees both
        Bid.objects.create(
            lot=lot,
            bidder=bidder,
            price=entry.price,
            opened_at=entry.decrypted_at,
            anonymous_label=entry.label or next(free),
        )
        created += 1
    if session is not None:
        data = {"lot": lot.pk, "sha256": record.sha256, "bids": created, "entries": len(record_in.bids)}
        record_event(session, actor, "opening.imported", data)
        broadcast(session.pk, "opening.imported", data, version=session.audit_seq)
    return record
