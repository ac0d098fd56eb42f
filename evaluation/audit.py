"""The audit log: one append-only hash chain per session.

Each event's hash is SHA-256 over the canonical JSON of its fields and the previous event's hash.
Canonical JSON: sorted keys, no spaces, UTF-8, Decimal as its string, datetimes as UTC ISO-8601 with
microseconds. Floats are refused: money and scores are Decimals, and a float's text is not stable.
The session row keeps the head (sequence and hash), moved in the same transaction as the event, so
a truncated chain is detected as well as an altered or reordered one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from evaluation.models import AuditEvent, EvaluationSession


def canonical_value(value: Any) -> Any:
    """Turn a payload into plain JSON types, the canonical way (see the module docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not allowed in audit payloads; use Decimal")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetimes are not allowed in audit payloads")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return canonical_value(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    raise TypeError(f"{type(value).__name__} cannot go into an audit payload")


def canonical_json(value: Any) -> str:
    return json.dumps(canonical_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_body(event: AuditEvent) -> str:
    """The canonical JSON the event's hash is taken over: its stored fields and the previous hash."""
    return canonical_json(
        {
            "session": event.session_id,
            "seq": event.seq,
            "actor": event.actor_id,
            "actor_name": event.actor_name,
            "kind": event.kind,
            "payload": event.payload,
            "at": event.at,
            "prev": event.prev_hash,
        }
    )


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(event_body(event).encode("utf-8")).hexdigest()


def record_event(
    session: EvaluationSession,
    actor: User | AnonymousUser | None,
    kind: str,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the session's chain and move the head; call inside the action's transaction.

    The session row is locked first, so concurrent writers take sequence numbers one at a time; the
    caller's ``session`` object gets the new head too.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction that makes the change")
    locked = EvaluationSession.objects.select_for_update().only("id", "audit_seq", "audit_head").get(pk=session.pk)
    user = actor if isinstance(actor, User) else None
    event = AuditEvent(
        session_id=locked.pk,
        seq=locked.audit_seq + 1,
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        kind=kind,
        payload=canonical_value(payload or {}),
        # Stored at the precision the hash uses: PostgreSQL and SQLite both keep microseconds.
        at=timezone.now().astimezone(UTC),
        prev_hash=locked.audit_head,
    )
    event.hash = event_hash(event)
    event.save()
    EvaluationSession.objects.filter(pk=locked.pk).update(audit_seq=event.seq, audit_head=event.hash)
    session.audit_seq, session.audit_head = event.seq, event.hash
    return event


def export_lines(session_id: int) -> Iterator[str]:
    """The chain for outsiders: a comment line with the head, then "<hash> <canonical body>" per event.

    Each line can be checked with standard tools (the body's SHA-256 is the hash; the body's "prev"
    is the hash on the line before); docs/AUDIT.md shows how.
    """
    session = EvaluationSession.objects.only("id", "audit_seq", "audit_head").get(pk=session_id)
    yield f"# session {session.pk} audit chain; head #{session.audit_seq} {session.audit_head}"
    for event in AuditEvent.objects.filter(session_id=session_id).order_by("seq").iterator(chunk_size=2000):
        yield f"{event.hash} {event_body(event)}"


@dataclass(frozen=True)
class ChainReport:
    session_id: int
    ok: bool
    checked: int
    head_seq: int
    first_broken_seq: int | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"session {self.session_id}: audit chain intact, {self.checked} events, head #{self.head_seq}"
        return f"session {self.session_id}: audit chain broken at event #{self.first_broken_seq}: {self.reason}"


def verify_chain(session_id: int) -> ChainReport:
    """Recompute the chain of a session against its head.

    1. Events are read in sequence order; each must carry the next sequence number (1, 2, ...).
    2. Each event's prev_hash must equal the hash of the event before it ("" for the first).
    3. Each event's stored hash must equal the hash recomputed from its stored fields.
    4. The last event must be the head recorded on the session (sequence and hash), so a deleted
       tail is found as well.
    The first event that fails any check is named.
    """
    session = EvaluationSession.objects.only("id", "audit_seq", "audit_head").get(pk=session_id)
    expected_seq, prev = 1, ""
    checked = 0

    def broken(seq: int, reason: str) -> ChainReport:
        return ChainReport(session_id, False, checked, session.audit_seq, seq, reason)

    for ev in AuditEvent.objects.filter(session_id=session_id).order_by("seq").iterator(chunk_size=2000):
        if ev.seq != expected_seq:
            return broken(expected_seq, f"event #{expected_seq} is missing (found #{ev.seq} next)")
        if ev.prev_hash != prev:
            return broken(ev.seq, "its previous-hash does not match the event before it")
        if event_hash(ev) != ev.hash:
            return broken(ev.seq, "its stored fields do not match its hash")
        prev, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
    if checked < session.audit_seq:
        return broken(checked + 1, f"the head says {session.audit_seq} events but the chain ends at #{checked}")
    if checked > session.audit_seq:
        return broken(session.audit_seq + 1, f"it lies beyond the head recorded on the session (#{session.audit_seq})")
    if prev != session.audit_head:
        return broken(checked, "the last event is not the head recorded on the session")
    return ChainReport(session_id, True, checked, session.audit_seq)
