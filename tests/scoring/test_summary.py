"""The leader's summary from the saved sheets through the rules, who reads it when, and the result's
exports (JSON and an OCDS release) for the leader, the host and the supervisor."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from evaluation.exceptions import Refused
from evaluation.models import Bid, Phase
from scoring import queries
from tests.personas import LOWEST_PRICE, Cast, advance_to, give_scheme, login_verified
from tests.scoring.conftest import to_detailed
from tests.scoring.scoring_support import fill


@pytest.fixture
def summary_cast(cast: Cast) -> Cast:
    """B scores lower on T1 with every member (8 instead of 10); the summary is open."""
    to_detailed(cast)
    fill(cast, {(u, "T1"): "8" for u in cast.committee})
    advance_to(cast, Phase.SUMMARY)
    return cast


def test_the_summary_adds_up_ranks_and_recommends(summary_cast):
    cast = summary_cast
    summary = queries.build_summary(cast.session, cast.li)
    a, b = Bid.objects.filter(lot=cast.lot).order_by("anonymous_label")
    rows = {r.bid.id: r for r in summary.rows}
    # 技术 28 (8+5+5+5+5), 商务 12, 信用 3; price by deviation from the mean of both (n ≤ 3).
    assert rows[a.pk].groups["technical"] == Decimal("28.00") == rows[b.pk].groups["technical"]
    mean = (a.price + b.price) / 2
    d_a = ((a.price - mean) / mean * 100).quantize(Decimal("0.01"))
    assert rows[a.pk].groups["price"] == (Decimal("55") + d_a * Decimal("0.5")).quantize(Decimal("0.01"))
    assert rows[a.pk].total == sum(rows[a.pk].groups.values())
    assert [r.bid.id for r in summary.rows] == [a.pk, b.pk] and [r.rank for r in summary.rows] == [1, 2]
    assert all(r.candidate for r in summary.rows)
    assert not summary.blocked and summary.rejected == []
    assert set(rows[a.pk].expert_totals) == {m.pk for m in cast.session.seated_members()}


def test_the_summary_is_not_read_before_the_summary_phase_nor_by_a_bidder(cast: Cast):
    to_detailed(cast)
    with pytest.raises(Refused) as refusal:
        queries.build_summary(cast.refresh(), cast.li)
    assert refusal.value.code == "wrong_phase"
    with pytest.raises(Refused) as refusal:
        queries.build_summary(cast.session, cast.bidder_a_user)
    assert refusal.value.code == "forbidden"


def test_in_anonymous_review_experts_see_labels_and_the_leader_names_at_summary(cast: Cast):
    cast.lot.rules = {"anonymous_technical_review": True}
    cast.lot.save()
    to_detailed(cast)
    sheet = queries.member_sheet(cast.refresh(), cast.zhang)
    assert [b.name for b in sheet.bids] == [None, None] and [b.label for b in sheet.bids] == ["A", "B"]
    assert {b.name for b in queries.bids_for(cast.session, cast.li)} == {None}
    assert {b.name for b in queries.bids_for(cast.session, cast.zheng)} == {cast.bidder_a.name, cast.bidder_b.name}
    fill(cast)
    advance_to(cast, Phase.SUMMARY)
    assert {r.bid.name for r in queries.build_summary(cast.session, cast.zhang).rows} == {None}
    assert {r.bid.name for r in queries.build_summary(cast.session, cast.li).rows} == {
        cast.bidder_a.name,
        cast.bidder_b.name,
    }


@pytest.mark.parametrize("who", ["li", "host", "zheng"])
def test_the_leader_host_and_supervisor_export_the_result(summary_cast, client, who):
    cast = summary_cast
    login_verified(client, getattr(cast, who))
    response = client.get(reverse("scoring_result_json", args=[cast.session.pk]))
    assert response.status_code == 200, response.content
    data = json.loads(response.content)
    assert [r["rank"] for r in data["ranking"]] == [1, 2] and len(data["candidates"]) == 2
    assert data["audit_head"]["seq"] == cast.refresh().audit_seq
    release = client.get(reverse("scoring_result_ocds", args=[cast.session.pk]))
    assert release.status_code == 200
    ocds = json.loads(release.content)
    assert ocds["tender"]["status"] == "complete"
    assert ocds["ocid"] == f"ocds-pbdemo-{cast.session.lot.project.code}"
    assert [a["relatedBid"] for a in ocds["awards"]] == [str(r["bid"]) for r in data["ranking"]]


def test_other_members_and_outsiders_cannot_export(summary_cast, client):
    cast = summary_cast
    for user, status in ((cast.zhang, 403), (cast.bidder_a_user, 403), (cast.outsider, 403)):
        login_verified(client, user)
        assert client.get(reverse("scoring_result_json", args=[cast.session.pk])).status_code == status


def test_the_export_waits_for_the_summary(cast: Cast, client):
    to_detailed(cast)
    login_verified(client, cast.li)
    response = client.get(reverse("scoring_result_ocds", args=[cast.session.pk]))
    assert response.status_code == 409 and response.json()["error"] == "wrong_phase" and response.json()["reason"]


def test_the_lowest_evaluated_price_method_ranks_by_price_without_scores(cast: Cast):
    give_scheme(cast, LOWEST_PRICE)
    to_detailed(cast)
    assert queries.member_sheet(cast.refresh(), cast.zhang).criteria == []
    advance_to(cast, Phase.SUMMARY)  # every member submits an empty sheet
    summary = queries.build_summary(cast.session, cast.li)
    a, b = Bid.objects.filter(lot=cast.lot).order_by("price")
    assert [r.bid.id for r in summary.rows] == [a.pk, b.pk]
    assert [r.evaluated_price for r in summary.rows] == [a.price, b.price]
    assert summary.data["method"] == "lowest_evaluated_price"
