"""Bid documents uploaded in the admin are checked, hashed from their content and stored by hash."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluation.audit import verify_chain
from evaluation.models import AuditEvent, Bid, BidDocument, DocumentKind
from evaluation.opening import import_opening_record
from tests.evaluation.admin_forms import messages_of, page_data
from tests.personas import login_verified, opening_json

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% technical bid of bidder A\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def bids(cast):
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    return {bid.bidder_id: bid for bid in Bid.objects.filter(lot=cast.lot)}


def upload(client, bid: Bid, name: str, content: bytes, kind: str = DocumentKind.TECHNICAL):
    url = reverse("admin:evaluation_bid_change", args=[bid.pk])
    data = page_data(client.get(url))
    index = int(data["documents-TOTAL_FORMS"]) - 1  # the empty extra row
    data[f"documents-{index}-kind"] = kind
    data[f"documents-{index}-file"] = SimpleUploadedFile(name, content)
    return client.post(url, data)


def file_errors(response) -> str:
    assert response.status_code == 200
    return " ".join(str(form.errors) for form in response.context["inline_admin_formsets"][0].formset.forms)


def test_a_host_uploading_a_bid_document_stores_it_under_its_sha256(client, cast, bids, media):
    bid = bids[cast.bidder_a.pk]
    login_verified(client, cast.host)
    digest = hashlib.sha256(PDF).hexdigest()

    response = upload(client, bid, "技术标.pdf", PDF)

    assert response.status_code == 302, messages_of(response)
    document = BidDocument.objects.get(bid=bid)
    assert (document.sha256, document.size, document.original_name) == (digest, len(PDF), "技术标.pdf")
    assert document.file.name == f"documents/{digest[:2]}/{digest}"
    assert (media / "documents" / digest[:2] / digest).read_bytes() == PDF
    event = AuditEvent.objects.filter(session=cast.session).latest("seq")
    assert event.kind == "admin.added"
    assert event.payload["model"] == "evaluation.biddocument"
    assert event.payload["fields"]["sha256"] == {"old": None, "new": digest}
    assert verify_chain(cast.session.pk).ok


def test_the_same_file_attached_to_two_bids_is_stored_once(client, cast, bids, media):
    login_verified(client, cast.host)

    for bid in bids.values():
        assert upload(client, bid, "通用承诺书.pdf", PDF).status_code == 302

    names = {d.file.name for d in BidDocument.objects.all()}
    assert BidDocument.objects.count() == 2
    assert len(names) == 1
    assert len([p for p in media.rglob("*") if p.is_file()]) == 1


def test_a_document_over_the_size_cap_is_refused_and_nothing_is_stored(client, cast, bids, media, settings):
    settings.EVAL_MAX_DOCUMENT_BYTES = 32
    login_verified(client, cast.host)
    head = cast.refresh().audit_seq

    response = upload(client, bids[cast.bidder_a.pk], "技术标.pdf", PDF)

    assert "the limit is 32 bytes" in file_errors(response)
    assert not BidDocument.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()]
    assert cast.refresh().audit_seq == head


def test_a_document_whose_content_does_not_match_its_extension_is_refused(client, cast, bids, media):
    login_verified(client, cast.host)

    response = upload(client, bids[cast.bidder_a.pk], "技术标.pdf", b"MZ\x90\x00 an executable in disguise")

    assert "content is not a .pdf file" in file_errors(response)
    assert not BidDocument.objects.exists()


def test_a_bim_model_must_be_an_ifc_file(client, cast, bids, media):
    login_verified(client, cast.host)

    response = upload(client, bids[cast.bidder_a.pk], "model.pdf", PDF, kind=DocumentKind.BIM_MODEL)

    assert "must be an .ifc or .ifczip" in file_errors(response)
    assert not BidDocument.objects.exists()


def test_the_same_file_twice_on_one_bid_is_refused(client, cast, bids, media):
    bid = bids[cast.bidder_a.pk]
    login_verified(client, cast.host)
    assert upload(client, bid, "技术标.pdf", PDF).status_code == 302

    response = upload(client, bid, "技术标-副本.pdf", PDF)

    assert "SHA-256" in file_errors(response)
    assert BidDocument.objects.filter(bid=bid).count() == 1
