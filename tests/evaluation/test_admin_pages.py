"""Every admin page a host uses renders, and the admin is only for verified staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation.models import AuditEvent, Bid, BidOpeningRecord, Phase
from tests.personas import advance_to, login_verified

MODELS = (
    "tenderproject", "lot", "bidder", "bid", "expert", "venue", "assignment", "bidopeningrecord",
    "evaluationsession", "auditevent",
)  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_wang_sees_the_list_and_add_page_of_each_model(client, cast, model):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    login_verified(client, cast.host)

    listing = client.get(reverse(f"admin:evaluation_{model}_changelist"))
    add = client.get(reverse(f"admin:evaluation_{model}_add"))

    assert listing.status_code == 200
    assert add.status_code == (403 if model == "auditevent" else 200)


def test_wang_sees_the_change_pages_of_a_running_session(client, cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    login_verified(client, cast.host)
    pages = [
        ("evaluationsession", cast.session.pk),
        ("lot", cast.lot.pk),
        ("tenderproject", cast.lot.project_id),
        ("bid", Bid.objects.filter(lot=cast.lot).first().pk),  # type: ignore[union-attr]
        ("bidder", cast.bidder_a.pk),
        ("bidopeningrecord", BidOpeningRecord.objects.get(lot=cast.lot).pk),
        ("auditevent", AuditEvent.objects.filter(session=cast.session).latest("seq").pk),
    ]

    for model, pk in pages:
        response = client.get(reverse(f"admin:evaluation_{model}_change", args=[pk]))
        assert response.status_code == 200, model

    session_page = client.get(reverse("admin:evaluation_evaluationsession_change", args=[cast.session.pk]))
    assert "audit chain intact" in session_page.content.decode()


def test_an_expert_cannot_use_the_admin(client, cast):
    login_verified(client, cast.li)

    response = client.get(reverse("admin:evaluation_bid_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_host_who_has_not_passed_the_second_factor_is_sent_to_it(client, cast):
    client.force_login(cast.host)

    response = client.get(reverse("admin:evaluation_bid_changelist"))

    assert response.status_code == 302
    assert "/admin/" not in response["Location"].split("?")[0]
