"""Evaluated price: a correction counts once the bidder confirms it (a refusal rejects the bid); the
lot's small-enterprise deduction; an abnormally low price needs a credible explanation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation import actions
from evaluation.exceptions import Refused
from evaluation.models import Bid
from scoring import actions as scoring
from scoring import queries
from scoring.models import LotScheme
from tests.personas import Cast
from tests.scoring.conftest import to_detailed
from tests.scoring.scoring_support import fill


@pytest.fixture
def bids(cast: Cast) -> tuple[Cast, Bid, Bid]:
    to_detailed(cast)
    a, b = Bid.objects.filter(lot=cast.lot).order_by("anonymous_label")
    return cast, a, b


def prices(cast: Cast) -> dict[int, Decimal]:
    scheme = queries.scheme_of(cast.session)
    assert scheme is not None
    bids = list(Bid.objects.filter(lot=cast.lot))
    return queries.evaluated_prices(cast.session, scheme, bids, {r.bid_id: r for r in cast.session.price_reviews.all()})


def test_a_confirmed_correction_changes_the_evaluated_price(bids):
    cast, a, _ = bids
    scoring.do_record_price_correction(
        cast.session,
        cast.li,
        a.pk,
        corrected_price=Decimal("11700000.00"),
        reason="分项报价合计计算错误",
        bidder_confirmed=True,
        confirmation="投标人于 10:32 书面确认（澄清函第 1 号）",
    )
    assert prices(cast)[a.pk] == Decimal("11700000.00")


def test_an_unanswered_correction_blocks_the_summary_and_a_refused_one_rejects_the_bid(bids):
    cast, a, _ = bids
    scoring.do_record_price_correction(
        cast.session,
        cast.li,
        a.pk,
        corrected_price=Decimal("11700000.00"),
        reason="大写金额为准",
        bidder_confirmed=None,
    )
    assert prices(cast)[a.pk] == a.price, "not confirmed: the bid price stands"
    fill(cast)
    assert "has not answered" in (queries.summary_problem(cast.session) or "")
    scoring.do_record_price_correction(
        cast.session,
        cast.li,
        a.pk,
        corrected_price=Decimal("11700000.00"),
        reason="大写金额为准",
        bidder_confirmed=False,
        confirmation="投标人书面表示不接受修正",
    )
    assert a.pk not in queries.detailed_bids(cast.session)
    assert queries.summary_problem(cast.session) is None
    actions.do_transition(cast.session, cast.host, "open_summary")
    [rejected] = queries.build_summary(cast.refresh(), cast.li).rejected
    assert rejected["bid"].id == a.pk and "did not confirm" in rejected["reasons"][0]


def test_the_small_enterprise_deduction_follows_the_lot_s_percent(bids):
    cast, a, _ = bids
    LotScheme.objects.filter(lot=cast.lot).update(
        rules={
            **queries.lot_rules(queries.scheme_of(cast.session)).model_dump(mode="json"),  # type: ignore[arg-type]
            "small_enterprise_deduction_percent": "10",
        }
    )
    scoring.do_set_policy_deduction(cast.session, cast.li, a.pk, small_enterprise=True)
    assert prices(cast)[a.pk] == a.price * Decimal("0.9")


def test_an_abnormally_low_price_needs_a_credible_explanation(bids):
    cast, a, b = bids
    with pytest.raises(Refused, match="not abnormally low"):
        scoring.do_record_low_price_explanation(cast.session, cast.li, a.pk, explanation="x", credible=True)
    scoring.do_record_price_correction(
        cast.session,
        cast.li,
        a.pk,
        corrected_price=Decimal("9000000.00"),
        reason="单价与数量乘积错误",
        bidder_confirmed=True,
        confirmation="书面确认",
    )
    assert queries.low_price_flags(cast.session) == {a.pk}
    fill(cast)
    assert "needs the bidder's explanation" in (queries.summary_problem(cast.session) or "")
    scoring.do_record_low_price_explanation(
        cast.session, cast.li, a.pk, explanation="成本说明未附证明材料", credible=False
    )
    assert queries.detailed_bids(cast.session) == [b.pk]
    assert queries.summary_problem(cast.session) is None


def test_only_the_leader_records_price_matters(bids):
    cast, a, _ = bids
    for who in (cast.zhang, cast.host, cast.zheng):
        with pytest.raises(Refused) as refusal:
            scoring.do_set_policy_deduction(cast.session, who, a.pk, small_enterprise=True)
        assert refusal.value.code == "forbidden"
    assert not cast.session.price_reviews.exists()
