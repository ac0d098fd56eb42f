"""The OCDS-style release: bids with status, rank and statistics; candidates as awards linked to bids."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from scoring.ocds import OcdsBid, OcdsLot, build_release, release_json
from scoring.rules import Benchmark, BidInput, Method, PriceRule
from tests.scoring.test_rules_summary import RULES, bids, summarize

D = Decimal
OPENED = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
LOT = OcdsLot(
    ocid="ocds-abc123-GX2026-001",
    tender_id="GX2026-001",
    tender_title="某市政道路改造工程",
    lot_id="1",
    lot_title="一标段",
    method=Method.COMPREHENSIVE,
    ceiling_price=D("1100000.00"),
)
META = [
    OcdsBid("A", "91450100MA5KXXXX0A", "甲建设有限公司", D("1000000.00"), OPENED),
    OcdsBid("B", "91450100MA5KXXXX0B", "乙工程有限公司", D("1050000.00"), OPENED),
    OcdsBid("C", "91450100MA5KXXXX0C", "丙建工集团", D("980000.00"), OPENED),
    OcdsBid("D", "91450100MA5KXXXX0D", "丁公司", D("900000.00"), OPENED, rejection_reasons=("未加盖公章", "资格不符")),
    OcdsBid("E", "91450100MA5KXXXX0E", "戊公司", D("990000.00"), OPENED, withdrawn=True),
]


def release(summary=None, lot=LOT, meta=META):
    if summary is None:
        summary = summarize(bid_list=bids(D=BidInput("D", D("900000.00"), passed=False)))
    return build_release(summary, lot, meta, release_id="GX2026-001-1-result", date=NOW)


def details_by_id(rel):
    return {d["id"]: d for d in rel["bids"]["details"]}


def test_release_has_the_ocds_top_level_names():
    rel = release()
    assert rel["ocid"] == "ocds-abc123-GX2026-001"
    assert rel["id"] == "GX2026-001-1-result"
    assert rel["date"] == "2026-11-28T17:00:00+00:00"
    assert rel["tag"] == ["award"]
    assert rel["initiationType"] == "tender"
    assert rel["tender"]["status"] == "complete"
    assert rel["tender"]["awardCriteria"] == "ratedCriteria"
    assert rel["tender"]["lots"] == [
        {"id": "1", "title": "一标段", "value": {"amount": D("1100000.00"), "currency": "CNY"}}
    ]
    assert rel["tender"]["numberOfTenderers"] == 4


def test_every_bid_has_its_status_and_a_rejected_one_its_reasons():
    details = details_by_id(release())
    assert {k: d["status"] for k, d in details.items()} == {
        "A": "valid",
        "B": "valid",
        "C": "valid",
        "D": "disqualified",
        "E": "withdrawn",
    }
    assert details["D"]["statusDetails"] == "未加盖公章；资格不符"
    assert "rank" not in details["D"]
    assert details["A"]["tenderers"] == [{"id": "91450100MA5KXXXX0A", "name": "甲建设有限公司"}]
    assert details["A"]["value"] == {"amount": D("1000000.00"), "currency": "CNY"}
    assert details["A"]["date"] == "2026-11-28T09:30:00+00:00"
    assert details["A"]["relatedLots"] == ["1"]


def test_valid_bids_carry_rank_and_rounded_scores():
    details = details_by_id(release())
    assert [details[b]["rank"] for b in "CAB"] == [1, 2, 3]
    assert details["C"]["evaluation"]["total"] == D("49.20")
    assert details["A"]["evaluation"]["groups"] == {
        "technical": D("13.20"),
        "commercial": D("7.00"),
        "price": D("27.96"),
    }
    assert details["A"]["evaluation"]["evaluatedPrice"] == {"amount": D("1000000.00"), "currency": "CNY"}


def test_statistics_count_the_bids_of_the_lot():
    stats = {s["measure"]: s for s in release()["bids"]["statistics"]}
    assert {m: s["value"] for m, s in stats.items()} == {
        "bids": 4,
        "validBids": 3,
        "tendersDisqualified": 1,
        "lowestValidBidValue": D("980000.00"),
        "highestValidBidValue": D("1050000.00"),
    }
    assert all(s["relatedLot"] == "1" for s in stats.values())
    assert len({s["id"] for s in stats.values()}) == 5
    assert stats["lowestValidBidValue"]["currency"] == "CNY"


def test_candidates_are_pending_awards_linked_to_their_bids():
    rel = release()
    awards = rel["awards"]
    assert [a["relatedBid"] for a in awards] == ["C", "A", "B"]
    assert [a["rank"] for a in awards] == [1, 2, 3]
    assert {a["status"] for a in awards} == {"pending"}
    ids = set(details_by_id(rel))
    for award in awards:
        assert award["relatedBids"] == [award["relatedBid"]]
        assert award["relatedBid"] in ids
    assert awards[0]["title"] == "第一中标候选人"
    assert awards[0]["suppliers"] == [{"id": "91450100MA5KXXXX0C", "name": "丙建工集团"}]
    roles = {p["id"]: p["roles"] for p in rel["parties"]}
    assert roles["91450100MA5KXXXX0C"] == ["tenderer", "supplier"]
    assert roles["91450100MA5KXXXX0D"] == ["tenderer"]
    assert "91450100MA5KXXXX0E" not in roles


def test_a_failed_evaluation_is_an_unsuccessful_tender_without_awards():
    failing = [replace(b, passed=False) for b in bids()]
    rel = release(summarize(bid_list=failing), meta=META[:3])
    assert rel["tag"] == ["tenderUpdate"]
    assert rel["tender"]["status"] == "unsuccessful"
    assert rel["tender"]["statusDetails"] == "all_rejected"
    assert rel["awards"] == []
    measures = {s["measure"]: s["value"] for s in rel["bids"]["statistics"]}
    assert measures == {"bids": 3, "validBids": 0, "tendersDisqualified": 3}


def test_a_bid_above_the_window_ceiling_is_disqualified_with_that_reason():
    price = PriceRule(benchmark=Benchmark.WINDOW_MEAN, ceiling=D("1040000.00"), window_percent=D("10"))
    rel = release(summarize(rules=replace(RULES, price=price)), meta=META[:3])
    assert details_by_id(rel)["B"]["status"] == "disqualified"
    assert details_by_id(rel)["B"]["statusDetails"] == "报价高于最高投标限价"


def test_the_lowest_evaluated_price_method_is_lowest_cost():
    assert release(lot=replace(LOT, method=Method.LOWEST_EVALUATED_PRICE))["tender"]["awardCriteria"] == "lowestCost"


def test_release_json_writes_exact_numbers():
    text = release_json(release())
    back = json.loads(text, parse_float=Decimal)
    assert back["bids"]["statistics"][3]["value"] == D("980000.00")
    assert details_by_id(back)["A"]["evaluation"]["groups"]["price"] == D("27.96")
    assert "丙建工集团" in text


def test_release_json_refuses_a_number_json_would_change():
    with pytest.raises(ValueError, match="round it first"):
        release_json({"value": D("0.1000000000000000000001")})


def test_release_inputs_are_checked():
    with pytest.raises(ValueError, match="time zone"):
        build_release(summarize(), LOT, META, release_id="x", date=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="share one id"):
        build_release(summarize(), LOT, [*META, META[0]], release_id="x", date=NOW)
    with pytest.raises(ValueError, match="without metadata"):
        build_release(summarize(), LOT, META[:2], release_id="x", date=NOW)
    with pytest.raises(ValueError, match="ISO 4217"):
        replace(LOT, currency="yuan")
