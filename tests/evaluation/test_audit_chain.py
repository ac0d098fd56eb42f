"""The audit chain: intact chains verify; any edit, deletion (the tail included) or reordering of
stored events is found, and the first broken event is named."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import QuerySet

from evaluation.audit import canonical_json, record_event, verify_chain
from evaluation.models import AuditEvent, EvaluationSession, Phase
from tests.personas import advance_to, build_cast


def raw_events() -> QuerySet[AuditEvent]:
    # A plain queryset: what someone with direct database access could do, around the app's guard.
    return QuerySet(model=AuditEvent)


@pytest.fixture
def chain(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    assert cast.session.audit_seq >= 20
    return cast.session


def test_an_untouched_chain_verifies(chain):
    report = verify_chain(chain.pk)
    assert report.ok and report.checked == chain.audit_seq == report.head_seq


def test_the_verify_audit_command_exits_zero_on_an_intact_chain(chain, capsys):
    call_command("verify_audit", str(chain.pk))
    assert "intact" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "phase.rewritten"),
        ("payload", {"tampered": True}),
        ("actor_name", "someone_else"),
        ("prev_hash", "0" * 64),
        ("hash", "f" * 64),
    ],
)
def test_editing_a_stored_field_of_an_event_is_found_and_named(chain, field, value):
    raw_events().filter(session=chain, seq=7).update(**{field: value})
    report = verify_chain(chain.pk)
    assert not report.ok
    assert report.first_broken_seq == 7


def test_editing_an_events_time_by_one_microsecond_is_found(chain):
    event = AuditEvent.objects.get(session=chain, seq=3)
    raw_events().filter(pk=event.pk).update(at=event.at + timedelta(microseconds=1))
    assert verify_chain(chain.pk).first_broken_seq == 3


def test_editing_an_events_actor_is_found(chain, cast):
    raw_events().filter(session=chain, seq=5).update(actor=cast.zheng)
    assert verify_chain(chain.pk).first_broken_seq == 5


def test_moving_an_event_to_another_session_is_found_in_both(chain, cast):
    second = EvaluationSession.objects.create(lot=cast.lot, scheduled_start=chain.scheduled_start)
    with transaction.atomic():
        record_event(second, cast.host, "session.created", {})
    raw_events().filter(session=chain, seq=4).update(session=second)
    assert verify_chain(chain.pk).first_broken_seq == 4
    assert not verify_chain(second.pk).ok


def test_deleting_an_event_in_the_middle_is_found(chain):
    raw_events().filter(session=chain, seq=9).delete()
    report = verify_chain(chain.pk)
    assert report.first_broken_seq == 9 and "missing" in report.reason


def test_deleting_the_first_event_is_found(chain):
    raw_events().filter(session=chain, seq=1).delete()
    assert verify_chain(chain.pk).first_broken_seq == 1


def test_deleting_the_last_event_is_found_against_the_head(chain):
    last = chain.audit_seq
    raw_events().filter(session=chain, seq=last).delete()
    report = verify_chain(chain.pk)
    assert not report.ok and report.first_broken_seq == last and "head" in report.reason


def test_deleting_the_last_events_and_rewinding_the_head_is_found(chain):
    last = chain.audit_seq
    raw_events().filter(session=chain, seq__gte=last - 2).delete()
    # Even a forger who also rewinds the sequence number leaves the head hash behind.
    EvaluationSession.objects.filter(pk=chain.pk).update(audit_seq=last - 3)
    report = verify_chain(chain.pk)
    assert not report.ok and report.first_broken_seq == last - 3


def test_an_event_appended_past_the_head_is_found(chain, cast):
    last = AuditEvent.objects.get(session=chain, seq=chain.audit_seq)
    AuditEvent.objects.create(
        session=chain,
        seq=last.seq + 1,
        actor=cast.host,
        actor_name="wang_host",
        kind="forged",
        payload={},
        at=last.at,
        prev_hash=last.hash,
        hash="0" * 64,
    )
    report = verify_chain(chain.pk)
    assert report.first_broken_seq == chain.audit_seq + 1


def test_swapping_two_events_is_found_at_the_first_of_them(chain):
    a = AuditEvent.objects.get(session=chain, seq=6)
    b = AuditEvent.objects.get(session=chain, seq=8)
    raw_events().filter(pk=a.pk).update(seq=0)
    raw_events().filter(pk=b.pk).update(seq=6)
    raw_events().filter(pk=a.pk).update(seq=8)
    assert verify_chain(chain.pk).first_broken_seq == 6


def test_the_verify_audit_command_exits_one_naming_the_first_broken_event(chain):
    raw_events().filter(session=chain, seq=11).update(kind="edited")
    with pytest.raises(CommandError, match="broken at event #11") as info:
        call_command("verify_audit", str(chain.pk))
    assert info.value.returncode == 1


def test_the_application_never_updates_or_deletes_an_event(chain):
    event = AuditEvent.objects.get(session=chain, seq=1)
    event.kind = "edited"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(session=chain).update(kind="x")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(session=chain).delete()
    assert verify_chain(chain.pk).ok


@pytest.mark.django_db(transaction=True)
def test_events_are_only_recorded_inside_the_changes_transaction():
    cast = build_cast()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event(cast.session, cast.host, "loose", {})


def test_canonical_json_sorts_keys_has_no_spaces_and_writes_decimals_and_times_exactly():
    from datetime import UTC, datetime, timezone

    shanghai = timezone(timedelta(hours=8))
    text = canonical_json(
        {"b": Decimal("12000000.10"), "a": datetime(2026, 12, 1, 9, 0, tzinfo=shanghai), "c": [1, "价"]}
    )
    assert text == '{"a":"2026-12-01T01:00:00.000000+00:00","b":"12000000.10","c":[1,"价"]}'
    assert canonical_json({"t": datetime(2026, 1, 1, tzinfo=UTC)}) == '{"t":"2026-01-01T00:00:00.000000+00:00"}'
    with pytest.raises(TypeError, match="floats"):
        canonical_json({"price": 1.5})
