"""A host adds a lot's bid-opening record in the admin by uploading the opening system's JSON file."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluation.audit import verify_chain
from evaluation.models import AuditEvent, Bid, Bidder, BidOpeningRecord
from tests.evaluation.admin_forms import messages_of
from tests.personas import login_verified, opening_json

ADD = "admin:evaluation_bidopeningrecord_add"


def post_file(client, cast, content: bytes, name: str = "开标记录.json"):
    return client.post(reverse(ADD), {"lot": str(cast.lot.pk), "file": SimpleUploadedFile(name, content)})


def assert_nothing_stored(cast, bidders_before: int) -> None:
    assert not BidOpeningRecord.objects.exists()
    assert not Bid.objects.exists()
    assert Bidder.objects.count() == bidders_before
    assert not AuditEvent.objects.filter(session=cast.session, kind="opening.imported").exists()


def test_a_host_imports_the_opening_record_by_uploading_its_json(client, cast):
    login_verified(client, cast.host)
    raw = opening_json(cast).encode()

    response = post_file(client, cast, raw)

    assert response.status_code == 302, messages_of(response)
    record = BidOpeningRecord.objects.get(lot=cast.lot)
    assert record.sha256 == hashlib.sha256(raw).hexdigest()
    assert record.imported_by == cast.host
    prices = dict(Bid.objects.filter(lot=cast.lot).values_list("bidder_id", "price"))
    # The second price is a JSON number: read as a Decimal, it keeps its cents exactly.
    assert prices == {cast.bidder_a.pk: Decimal("11800000.00"), cast.bidder_b.pk: Decimal("12100000.50")}
    event = AuditEvent.objects.filter(session=cast.session).latest("seq")
    assert (event.kind, event.payload["bids"]) == ("opening.imported", 2)
    assert verify_chain(cast.session.pk).ok


def test_the_upload_form_offers_only_lots_without_an_opening_record(client, cast):
    login_verified(client, cast.host)
    assert post_file(client, cast, opening_json(cast).encode()).status_code == 302

    again = post_file(client, cast, opening_json(cast).encode())

    assert again.status_code == 200
    assert "lot" in again.context["adminform"].form.errors
    assert BidOpeningRecord.objects.count() == 1


def wrong_lot(cast) -> str:
    return opening_json(cast).replace('"lot": "BD01"', '"lot": "BD09"')


def bad_credit_code(cast) -> str:
    code = cast.bidder_a.credit_code
    broken = code[:17] + ("0" if code[17] != "0" else "1")
    return opening_json(cast).replace(code, broken)


def too_precise(cast) -> str:
    # 12100000.505 has no exact float; read as Decimal it has a third decimal place, which money has not.
    return opening_json(cast).replace("12100000.50", "12100000.505")


def duplicate_bidder(cast) -> str:
    return opening_json(cast).replace(cast.bidder_b.credit_code, cast.bidder_a.credit_code)


def wrong_name(cast) -> str:
    return opening_json(cast).replace(cast.bidder_a.name, "冒名建设有限公司")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda cast: "lot: BD01, bids: none", "not JSON"),
        (wrong_lot, "the record is for lot BD09, not BD01"),
        (bad_credit_code, "is not a valid unified social credit code"),
        (too_precise, "no more than 2 decimal places"),
        (duplicate_bidder, "a bidder appears twice"),
        (wrong_name, "belongs to 甲建设集团有限公司, not 冒名建设有限公司"),
    ],
    ids=["not-json", "wrong-lot", "bad-credit-code", "float-precision", "duplicate-bidder", "wrong-name"],
)
def test_a_bad_opening_record_upload_is_refused_with_its_reason_and_nothing_is_stored(client, cast, make, reason):
    login_verified(client, cast.host)
    bidders = Bidder.objects.count()

    response = post_file(client, cast, make(cast).encode())

    assert any(reason in m for m in messages_of(response)), messages_of(response)
    assert_nothing_stored(cast, bidders)
    assert verify_chain(cast.session.pk).ok


def test_an_upload_that_is_not_utf8_text_is_refused_in_the_form(client, cast):
    login_verified(client, cast.host)
    bidders = Bidder.objects.count()

    response = post_file(client, cast, opening_json(cast).encode("utf-16"))

    assert response.status_code == 200
    assert "not UTF-8 text" in str(response.context["adminform"].form.errors["file"])
    assert_nothing_stored(cast, bidders)
