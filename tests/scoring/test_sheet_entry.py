"""A cell of the sheet is saved at once through the room socket, or refused with the reason and
nothing stored: never a half-saved cell, never a new version."""

from __future__ import annotations

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async

from evaluation.models import Bid, Lot
from scoring import actions as scoring
from scoring.models import Criterion, ScoreCell, ScoringTemplate
from tests.personas import Cast
from tests.scoring.conftest import to_detailed, to_preliminary, typed_criteria
from tests.scoring.sheet_support import enter, score_frame, stored

pytestmark = pytest.mark.django_db(transaction=True)


async def refused(join, cast: Cast, user, message: dict, code: str) -> str:
    """Send ``message`` as ``user``: an error frame of ``code`` with a reason, nothing stored, and
    the socket still usable."""
    socket = await enter(join, cast, user)
    before = await database_sync_to_async(stored)(cast)
    reply = await socket.request(message)
    assert reply["type"] == "error", reply
    assert reply["code"] == code, reply
    assert reply["message"].strip(), "a refusal names its reason"
    assert await database_sync_to_async(stored)(cast) == before, "nothing was stored"
    assert (await socket.request({"type": "hand", "raised": False}))["type"] == "ack"
    return reply["message"]


@pytest.fixture
def first(detailed: Cast) -> tuple[Cast, Bid, Criterion]:
    cast = detailed
    bid = Bid.objects.filter(lot=cast.lot).order_by("pk").first()
    assert bid is not None
    return cast, bid, typed_criteria(cast)[0]


async def test_an_expert_saves_a_cell_and_the_ack_carries_its_version(first, join):
    cast, bid, criterion = first
    li = await enter(join, cast, cast.li)
    value = str(criterion.max_points - criterion.step)
    reply = await li.request(score_frame(bid.pk, criterion.pk, value))
    assert reply["type"] == "ack", reply
    cell = reply["data"]["cell"]
    assert (cell["bid"], cell["criterion"], cell["version"]) == (bid.pk, criterion.pk, 1)
    assert Decimal(cell["value"]) == Decimal(value)
    saved = await ScoreCell.objects.aget(sheet__member__user=cast.li, bid=bid, criterion=criterion)
    assert saved.value == Decimal(value) and saved.version == 1
    again = await li.request(score_frame(bid.pk, criterion.pk, str(criterion.step), base=1))
    assert again["data"]["cell"]["version"] == 2


async def test_a_score_out_of_range_or_off_the_step_is_refused(first, join):
    cast, bid, criterion = first
    off_step = (criterion.step / 2).quantize(Decimal("0.01"))
    assert off_step % criterion.step
    for value in (criterion.max_points + criterion.step, -criterion.step, off_step):
        await refused(join, cast, cast.li, score_frame(bid.pk, criterion.pk, str(value)), "refused")


async def test_a_value_that_is_not_a_number_is_refused(first, join):
    cast, bid, criterion = first
    for value in ("abc", "7,5", "1e3", "NaN", "", " ", 7.5, True):
        message = await refused(join, cast, cast.li, score_frame(bid.pk, criterion.pk, value), "invalid")
        assert "number" in message or "string" in message, (value, message)


def _criterion_of_another_lot(cast: Cast) -> Criterion:
    other = Lot.objects.create(
        project=cast.lot.project, code="BD09", name="另一标段", ceiling_price=Decimal("1000000.00")
    )
    template = ScoringTemplate.objects.filter(method=other.evaluation_method).order_by("pk").first()
    assert template is not None
    scoring.copy_template(other, template, cast.host)
    return next(c for c in Criterion.objects.filter(scheme__lot=other) if not c.computed)


async def test_a_criterion_of_another_lot_or_the_computed_price_is_refused(first, join):
    cast, bid, _ = first
    foreign = await database_sync_to_async(_criterion_of_another_lot)(cast)
    await refused(join, cast, cast.li, score_frame(bid.pk, foreign.pk, str(foreign.step)), "refused")
    price = await Criterion.objects.filter(scheme__lot=cast.lot, group="price").afirst()
    assert price is not None, "the seeded template has a price criterion"
    await refused(join, cast, cast.li, score_frame(bid.pk, price.pk, "1"), "refused")


async def test_a_bid_that_failed_preliminary_review_cannot_be_scored(cast, join):
    await database_sync_to_async(to_preliminary)(cast)
    failing = await Bid.objects.filter(lot=cast.lot).order_by("-pk").afirst()
    assert failing is not None
    await database_sync_to_async(to_detailed)(cast, failing=failing)
    criterion = (await database_sync_to_async(typed_criteria)(cast))[0]
    await refused(join, cast, cast.li, score_frame(failing.pk, criterion.pk, str(criterion.step)), "refused")


def _fill_and_submit(cast: Cast, user) -> None:
    bids = Bid.objects.filter(lot=cast.lot).order_by("pk")
    for bid in bids:
        for criterion in typed_criteria(cast):
            scoring.do_save_score(cast.session, user, bid.pk, criterion.pk, criterion.step, base_version=0)
    scoring.do_submit_sheet(cast.session, user)


async def test_a_submitted_sheet_is_read_only_to_its_expert(first, join):
    cast, bid, criterion = first
    await database_sync_to_async(_fill_and_submit)(cast, cast.zhang)
    await refused(
        join, cast, cast.zhang, score_frame(bid.pk, criterion.pk, str(criterion.max_points), base=1), "conflict"
    )


async def test_no_score_is_saved_in_preliminary_review(cast, join):
    await database_sync_to_async(to_preliminary)(cast)
    bid = await Bid.objects.filter(lot=cast.lot).order_by("pk").afirst()
    assert bid is not None
    criterion = (await database_sync_to_async(typed_criteria)(cast))[0]
    await refused(join, cast, cast.li, score_frame(bid.pk, criterion.pk, str(criterion.step)), "refused")


async def test_a_supervisor_the_host_or_the_reviewer_never_scores(first, join):
    cast, bid, criterion = first
    for who in (cast.zheng, cast.host, cast.wu):
        await refused(join, cast, who, score_frame(bid.pk, criterion.pk, str(criterion.step)), "forbidden")
