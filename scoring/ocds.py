"""The result of one lot as an OCDS-style release (Open Contracting Data Standard 1.1 with the bids
extension): a pure function from a rules.Summary and the lot's and bids' metadata to a dict.

Names follow the release schema where it has them: ``ocid``, ``id``, ``date``, ``tag``,
``initiationType``, ``parties``, ``tender`` (``status``, ``awardCriteria``, ``lots``,
``numberOfTenderers``, ``tenderers``), ``bids.statistics`` (codes of the extension's statistic
codelist: ``bids``, ``validBids``, ``tendersDisqualified``, ``lowestValidBidValue``,
``highestValidBidValue``), ``bids.details`` (status ``valid`` / ``disqualified`` / ``withdrawn``) and
``awards`` (status ``pending``: recommended candidates, not yet awarded; linked to their bid by
``relatedBid``/``relatedBids``). Where the schema has no field the release adds one, in OCDS's
camelCase: a bid's ``statusDetails`` (the rejection reasons), ``rank`` and ``evaluation`` (the
evaluated price and rounded group totals and total); an award's ``rank``.

Amounts stay Decimal in the dict; ``release_json`` writes them as JSON numbers, refusing any that a
JSON number would not carry exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from scoring.rules import Method, Outcome, Summary

__all__ = ["OcdsBid", "OcdsLot", "build_release", "release_json"]

AWARD_CRITERIA = {Method.COMPREHENSIVE: "ratedCriteria", Method.LOWEST_EVALUATED_PRICE: "lowestCost"}
CANDIDATE_TITLES = ("第一中标候选人", "第二中标候选人", "第三中标候选人")


@dataclass(frozen=True)
class OcdsLot:
    """The lot and its tender as the release names them. ``ocid`` carries the publisher's prefix."""

    ocid: str
    tender_id: str
    tender_title: str
    lot_id: str
    lot_title: str
    method: Method
    ceiling_price: Decimal | None = None
    currency: str = "CNY"

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", Method(self.method))
        for name in ("ocid", "tender_id", "lot_id"):
            if not getattr(self, name):
                raise ValueError(f"{name} must not be empty")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError("currency must be an ISO 4217 code such as CNY")


@dataclass(frozen=True)
class OcdsBid:
    """One bid as opened. ``rejection_reasons`` are the preliminary-review reasons of a failed bid."""

    id: str
    tenderer_id: str  # the unified social credit code
    tenderer_name: str
    price: Decimal
    received: datetime | None = None
    rejection_reasons: tuple[str, ...] = ()
    withdrawn: bool = False

    def __post_init__(self) -> None:
        if not self.id or not self.tenderer_id:
            raise ValueError("a bid needs its id and its tenderer's id")
        if self.received is not None and self.received.tzinfo is None:
            raise ValueError("the time a bid was received needs a time zone")


def _value(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _tenderer(bid: OcdsBid) -> dict[str, str]:
    return {"id": bid.tenderer_id, "name": bid.tenderer_name}


def build_release(
    summary: Summary,
    lot: OcdsLot,
    bids: Sequence[OcdsBid],
    *,
    release_id: str,
    date: datetime,
    window_rejection_reason: str = "报价高于最高投标限价",
) -> dict[str, Any]:
    """An OCDS release of the lot's evaluation result.

    1. Every bid goes to ``bids.details``: withdrawn, disqualified (failed preliminary review, with
       its reasons; or above the window's ceiling), or valid with its rank and rounded scores.
    2. ``bids.statistics`` counts them per lot and gives the lowest and highest valid bid values.
    3. Each recommended candidate becomes an award (``pending``), linked to its bid and supplier.
    4. The tender is ``complete`` with a result, ``unsuccessful`` when the evaluation failed (the
       reason in ``statusDetails``); the tag says ``award`` or ``tenderUpdate`` accordingly.
    """
    if date.tzinfo is None:
        raise ValueError("the release date needs a time zone")
    ids = [b.id for b in bids]
    if len(set(ids)) != len(ids):
        raise ValueError("two bids share one id")
    by_id = {b.id: b for b in bids}
    unknown = set(summary.valid_bids) - set(by_id)
    if unknown:
        raise ValueError(f"the summary names bids without metadata: {sorted(unknown)}")

    valid = set(summary.valid_bids)
    result = summary.outcome.outcome == Outcome.RESULT
    details: list[dict[str, Any]] = []
    for bid in bids:
        entry: dict[str, Any] = {
            "id": bid.id,
            "tenderers": [_tenderer(bid)],
            "value": _value(bid.price, lot.currency),
            "relatedLots": [lot.lot_id],
        }
        if bid.received is not None:
            entry["date"] = bid.received.isoformat()
        if bid.withdrawn:
            entry["status"] = "withdrawn"
        elif bid.id in valid:
            entry["status"] = "valid"
            if bid.id in summary.ranking.order:
                entry["rank"] = summary.ranking.rank_of(bid.id)
            entry["evaluation"] = _evaluation(summary, bid.id, lot.currency)
        else:
            entry["status"] = "disqualified"
            reasons = list(bid.rejection_reasons)
            if bid.id in summary.rejected_above_window:
                reasons.append(window_rejection_reason)
            if reasons:
                entry["statusDetails"] = "；".join(reasons)
        details.append(entry)

    submitted = [b for b in bids if not b.withdrawn]
    valid_prices = [by_id[b].price for b in summary.valid_bids]
    statistics: list[dict[str, Any]] = [
        {"measure": "bids", "value": len(submitted)},
        {"measure": "validBids", "value": len(valid_prices)},
        {"measure": "tendersDisqualified", "value": len(submitted) - len(valid_prices)},
    ]
    if valid_prices:
        statistics += [
            {"measure": "lowestValidBidValue", "value": min(valid_prices), "currency": lot.currency},
            {"measure": "highestValidBidValue", "value": max(valid_prices), "currency": lot.currency},
        ]
    for number, statistic in enumerate(statistics, start=1):
        statistic["id"] = str(number)
        statistic["relatedLot"] = lot.lot_id

    awards: list[dict[str, Any]] = []
    for rank, bid_id in enumerate(summary.candidates, start=1):
        bid = by_id[bid_id]
        awards.append(
            {
                "id": f"{lot.lot_id}-candidate-{rank}",
                "title": CANDIDATE_TITLES[rank - 1],
                "status": "pending",
                "rank": rank,
                "value": _value(bid.price, lot.currency),
                "suppliers": [_tenderer(bid)],
                "relatedBid": bid.id,
                "relatedBids": [bid.id],
                "relatedLots": [lot.lot_id],
            }
        )

    tender: dict[str, Any] = {
        "id": lot.tender_id,
        "title": lot.tender_title,
        "status": "complete" if result else "unsuccessful",
        "awardCriteria": AWARD_CRITERIA[lot.method],
        "numberOfTenderers": len({b.tenderer_id for b in submitted}),
        "tenderers": [_tenderer(b) for b in submitted],
        "lots": [{"id": lot.lot_id, "title": lot.lot_title}],
    }
    if lot.ceiling_price is not None:
        tender["lots"][0]["value"] = _value(lot.ceiling_price, lot.currency)
    if not result and summary.outcome.reason is not None:
        tender["statusDetails"] = str(summary.outcome.reason)

    suppliers = {by_id[b].tenderer_id for b in summary.candidates}
    parties = [
        {
            "id": b.tenderer_id,
            "name": b.tenderer_name,
            "roles": ["tenderer", "supplier"] if b.tenderer_id in suppliers else ["tenderer"],
        }
        for b in submitted
    ]

    return {
        "ocid": lot.ocid,
        "id": release_id,
        "date": date.isoformat(),
        "tag": ["award"] if result else ["tenderUpdate"],
        "initiationType": "tender",
        "language": "zh",
        "parties": parties,
        "tender": tender,
        "bids": {"statistics": statistics, "details": details},
        "awards": awards,
    }


def _evaluation(summary: Summary, bid: str, currency: str) -> dict[str, Any]:
    groups = summary.group_totals.get(bid, {})
    evaluation: dict[str, Any] = {
        "evaluatedPrice": _value(summary.evaluated_prices[bid], currency),
        "groups": {str(group): total for group, total in groups.items()},
    }
    if bid in summary.totals:
        evaluation["total"] = summary.totals[bid]
    if bid in summary.abnormally_low:
        evaluation["abnormallyLow"] = True
    return evaluation


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            raise ValueError(f"{value} would not survive as a JSON number; round it first")
        return as_float
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def release_json(release: dict[str, Any], *, indent: int | None = None) -> str:
    """The release as JSON text; Decimals become JSON numbers that read back to the same value."""
    return json.dumps(release, default=_number, ensure_ascii=False, indent=indent)
