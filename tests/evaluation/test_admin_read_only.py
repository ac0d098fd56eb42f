"""The audit log, a session's phase and audit head, and an imported opening record are not editable
in the admin, for anyone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation.audit import verify_chain
from evaluation.models import AuditEvent, BidOpeningRecord, EvaluationSession, Phase
from evaluation.opening import import_opening_record
from tests.evaluation.admin_forms import messages_of, page_data
from tests.personas import login_verified, make_user, opening_json


@pytest.fixture
def root(db):
    user = make_user("root_admin", staff=True)
    user.is_superuser = True
    user.save()
    return user


def chain_of(cast) -> list[tuple[int, str, str]]:
    return list(AuditEvent.objects.filter(session=cast.session).order_by("seq").values_list("seq", "kind", "hash"))


@pytest.mark.parametrize("who", ["host", "superuser"])
def test_nobody_can_add_change_or_delete_audit_events_in_the_admin(client, cast, root, who):
    login_verified(client, cast.host if who == "host" else root)
    event = AuditEvent.objects.filter(session=cast.session).earliest("seq")
    before = chain_of(cast)
    forged = {"session": str(cast.session.pk), "seq": "1", "kind": "forged", "payload": "{}", "hash": "0" * 64}

    assert client.post(reverse("admin:evaluation_auditevent_add"), forged).status_code == 403
    assert client.post(reverse("admin:evaluation_auditevent_change", args=[event.pk]), forged).status_code == 403
    assert (
        client.post(reverse("admin:evaluation_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    client.post(
        reverse("admin:evaluation_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [str(event.pk)], "post": "yes"},
    )

    assert chain_of(cast) == before
    assert verify_chain(cast.session.pk).ok


def test_a_host_reads_the_audit_log_of_their_session_filtered_by_session(client, cast):
    login_verified(client, cast.host)

    listing = client.get(reverse("admin:evaluation_auditevent_changelist"), {"session__id__exact": cast.session.pk})
    event = AuditEvent.objects.get(session=cast.session, seq=1)
    detail = client.get(reverse("admin:evaluation_auditevent_change", args=[event.pk]))

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == cast.refresh().audit_seq
    assert detail.status_code == 200
    assert "session.created" in detail.content.decode()
    assert b'name="_save"' not in detail.content


def test_a_host_does_not_see_the_audit_log_of_a_session_they_have_no_role_in(client, cast):
    other_host = make_user("lin_host", "host", full_name="林主持", staff=True)
    login_verified(client, other_host)

    listing = client.get(reverse("admin:evaluation_auditevent_changelist"))

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0


def test_the_session_phase_and_audit_head_cannot_be_changed_through_the_admin(client, cast):
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_evaluationsession_change", args=[cast.session.pk])
    data = page_data(client.get(url))
    before = cast.refresh()
    data.update(
        {
            "phase": Phase.ARCHIVED,
            "return_phase": Phase.SUMMARY,
            "audit_seq": "1",
            "audit_head": "0" * 64,
            "lot": "999",
            "title": before.title,
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    after = EvaluationSession.objects.get(pk=cast.session.pk)
    assert (after.phase, after.return_phase, after.lot_id) == (Phase.SCHEDULED, "", before.lot_id)
    assert (after.audit_seq, after.audit_head) == (before.audit_seq, before.audit_head)
    assert verify_chain(cast.session.pk).ok


@pytest.mark.parametrize("who", ["host", "superuser"])
def test_nobody_can_delete_a_session_in_the_admin(client, cast, root, who):
    login_verified(client, cast.host if who == "host" else root)

    response = client.post(
        reverse("admin:evaluation_evaluationsession_delete", args=[cast.session.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert EvaluationSession.objects.filter(pk=cast.session.pk).exists()


def test_an_imported_opening_record_is_view_only_in_the_admin(client, cast):
    record = import_opening_record(cast.lot, opening_json(cast), cast.host)
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bidopeningrecord_change", args=[record.pk])

    view = client.get(url)
    change = client.post(url, {"lot": str(cast.lot.pk), "raw": "{}", "sha256": "0" * 64})
    delete = client.post(reverse("admin:evaluation_bidopeningrecord_delete", args=[record.pk]), {"post": "yes"})

    assert view.status_code == 200
    assert (change.status_code, delete.status_code) == (403, 403)
    assert BidOpeningRecord.objects.get(pk=record.pk).raw == opening_json(cast)
