"""Once review starts, the lot's bids are evidence: the admin no longer changes them."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from evaluation.models import Bid, Phase
from tests.evaluation.admin_forms import messages_of, page_data
from tests.personas import advance_to, login_verified


def test_a_bid_price_cannot_be_changed_in_the_admin_once_review_has_started(client, cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    bid = Bid.objects.get(lot=cast.lot, bidder=cast.bidder_a)
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bid_change", args=[bid.pk])
    data = page_data(client.get(url))
    data["price"] = "9000000.00"
    head = cast.refresh().audit_seq

    response = client.post(url, data)

    bid.refresh_from_db()
    assert bid.price == Decimal("11800000.00")
    assert any("frozen once review has started" in m for m in messages_of(response))
    assert cast.refresh().audit_seq == head


def test_the_session_schedule_can_still_be_corrected_during_review(client, cast):
    advance_to(cast, Phase.DETAILED_REVIEW)
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_evaluationsession_change", args=[cast.session.pk])
    data = page_data(client.get(url))
    data["title"] = "第一中学教学楼扩建工程 土建标段 评标（第二日）"

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    assert cast.refresh().title.endswith("（第二日）")
