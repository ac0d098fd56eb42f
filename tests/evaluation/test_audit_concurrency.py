"""Concurrent writers on one session take sequence numbers one at a time; the chain stays whole."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from evaluation.audit import record_event, verify_chain
from evaluation.models import AuditEvent
from tests.personas import build_cast

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS, EVENTS_EACH = 4, 10


def test_four_concurrent_writers_leave_one_unbroken_chain():
    cast = build_cast()
    before = cast.refresh().audit_seq
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_EACH):
                with transaction.atomic():
                    record_event(cast.session, cast.host, "test.concurrent", {"writer": n, "i": i})
        except BaseException as exc:  # handed to the main thread, which fails the test with it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors, errors
    session = cast.refresh()
    assert session.audit_seq == before + WRITERS * EVENTS_EACH
    assert AuditEvent.objects.filter(session=session, kind="test.concurrent").count() == WRITERS * EVENTS_EACH
    report = verify_chain(session.pk)
    assert report.ok, report.describe()
