"""While a session is sealed overnight, the admin changes none of its data, and logs the attempt."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluation.actions import do_transition
from evaluation.audit import verify_chain
from evaluation.models import Assignment, AuditEvent, Bid, BidDocument, Phase
from evaluation.phases import SEAL_NEUTRAL_KINDS
from tests.evaluation.admin_forms import messages_of, page_data
from tests.personas import advance_to, login_verified, make_user


@pytest.fixture
def sealed(cast):
    """In review, about to be sealed: each test opens its admin page first, as a host who had it
    open when the session was sealed, then calls ``seal``."""
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    return cast


def seal(cast) -> None:
    do_transition(cast.session, cast.host, "seal")
    do_transition(cast.session, cast.zheng, "seal")
    assert cast.refresh().is_sealed


def assert_refused_and_logged(cast, response, head: int) -> None:
    """Nothing but the refused attempt reached the chain, and the seal stays intact."""
    assert response.status_code == 302
    assert any("sealed overnight" in m and "nothing was saved" in m for m in messages_of(response))
    later = list(AuditEvent.objects.filter(session=cast.session, seq__gt=head).order_by("seq"))
    assert [e.kind for e in later] == ["sealed.access_refused"]
    assert {e.kind for e in later} <= SEAL_NEUTRAL_KINDS
    report = verify_chain(cast.session.pk)
    assert report.ok, report.describe()


def test_a_host_cannot_change_a_bid_price_while_the_session_is_sealed(client, sealed):
    cast = sealed
    bid = Bid.objects.get(lot=cast.lot, bidder=cast.bidder_a)
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bid_change", args=[bid.pk])
    data = page_data(client.get(url))
    data["price"] = "9000000.00"
    seal(cast)
    head = cast.refresh().audit_seq

    response = client.post(url, data)

    bid.refresh_from_db()
    assert bid.price == Decimal("11800000.00")
    assert_refused_and_logged(cast, response, head)


def test_a_superuser_cannot_change_a_sealed_sessions_bids_either(client, sealed):
    cast = sealed
    root = make_user("root_admin", staff=True)
    root.is_superuser = True
    root.save()
    bid = Bid.objects.get(lot=cast.lot, bidder=cast.bidder_b)
    login_verified(client, root)
    url = reverse("admin:evaluation_bid_change", args=[bid.pk])
    data = page_data(client.get(url))
    data["anonymous_label"] = "Z"
    seal(cast)
    head = cast.refresh().audit_seq

    response = client.post(url, data)

    bid.refresh_from_db()
    assert bid.anonymous_label == "B"
    assert_refused_and_logged(cast, response, head)


def test_a_host_cannot_attach_a_bid_document_while_the_session_is_sealed(client, sealed, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cast = sealed
    bid = Bid.objects.get(lot=cast.lot, bidder=cast.bidder_a)
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bid_change", args=[bid.pk])
    data = page_data(client.get(url))
    data["documents-0-kind"] = "technical"
    data["documents-0-file"] = SimpleUploadedFile("技术标.pdf", b"%PDF-1.7\n%late addition\n%%EOF\n")
    seal(cast)
    head = cast.refresh().audit_seq

    response = client.post(url, data)

    assert not BidDocument.objects.exists()
    assert not list(tmp_path.rglob("*.*")) and not [p for p in tmp_path.rglob("*") if p.is_file()]
    assert_refused_and_logged(cast, response, head)


def test_a_host_cannot_change_the_session_title_while_it_is_sealed(client, sealed):
    cast = sealed
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_evaluationsession_change", args=[cast.session.pk])
    data = page_data(client.get(url))
    data["title"] = "改过的名称"
    seal(cast)
    head = cast.refresh().audit_seq
    title = cast.session.title

    response = client.post(url, data)

    assert cast.refresh().title == title
    assert cast.session.phase == Phase.SEALED_OVERNIGHT
    assert_refused_and_logged(cast, response, head)


def test_a_host_cannot_remove_an_assignment_while_the_session_is_sealed(client, sealed):
    cast = sealed
    assignment = Assignment.objects.get(session=cast.session, user=cast.wu)
    login_verified(client, cast.host)
    seal(cast)
    head = cast.refresh().audit_seq

    response = client.post(reverse("admin:evaluation_assignment_delete", args=[assignment.pk]), {"post": "yes"})

    assert Assignment.objects.filter(pk=assignment.pk).exists()
    assert_refused_and_logged(cast, response, head)


def test_a_host_cannot_rename_the_project_of_a_sealed_session(client, sealed):
    cast = sealed
    project = cast.lot.project
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_tenderproject_change", args=[project.pk])
    data = page_data(client.get(url))
    data["name"] = "改名"
    seal(cast)
    head = cast.refresh().audit_seq

    response = client.post(url, data)

    project.refresh_from_db()
    assert project.name == "第一中学教学楼扩建工程"
    assert_refused_and_logged(cast, response, head)


def test_a_host_cannot_assign_staff_while_the_session_is_sealed(client, sealed):
    cast = sealed
    second = make_user("feng_supervisor", "supervisor", full_name="冯监督")
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_assignment_add")
    data = page_data(client.get(url))
    data.update({"session": str(cast.session.pk), "user": str(second.pk), "role": "supervisor"})
    seal(cast)
    head = cast.refresh().audit_seq

    response = client.post(url, data)

    assert not Assignment.objects.filter(session=cast.session, user=second).exists()
    assert_refused_and_logged(cast, response, head)


def test_opening_a_sealed_sessions_bid_in_the_admin_is_refused_and_logged(client, sealed):
    cast = sealed
    seal(cast)
    bid = Bid.objects.get(lot=cast.lot, bidder=cast.bidder_a)
    login_verified(client, cast.host)
    head = cast.refresh().audit_seq

    response = client.get(reverse("admin:evaluation_bid_change", args=[bid.pk]))

    assert response.status_code == 302
    assert response.url == reverse("admin:evaluation_bid_changelist")
    assert any("sealed overnight" in m for m in messages_of(response))
    later = list(AuditEvent.objects.filter(session=cast.session, seq__gt=head))
    assert [e.kind for e in later] == ["sealed.access_refused"]
    assert verify_chain(cast.session.pk).ok


def test_a_sealed_sessions_bids_are_left_out_of_the_admin_lists(client, sealed):
    cast = sealed
    login_verified(client, cast.host)
    listed = client.get(reverse("admin:evaluation_bid_changelist"))
    assert cast.bidder_a.name in listed.content.decode()
    seal(cast)
    listed = client.get(reverse("admin:evaluation_bid_changelist"))
    assert listed.status_code == 200
    assert cast.bidder_a.name not in listed.content.decode()
