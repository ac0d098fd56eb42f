"""Two tabs of one expert: the last write by version wins, the other tab is told and reloads, and
nothing is lost silently; a reconnected page shows exactly what was saved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async

from evaluation.models import Bid
from scoring.models import ScoreCell
from tests.scoring.conftest import typed_criteria
from tests.scoring.sheet_support import enter, score_frame

pytestmark = pytest.mark.django_db(transaction=True)


async def _first_cell(cast):
    bid = await Bid.objects.filter(lot=cast.lot).order_by("pk").afirst()
    criterion = (await database_sync_to_async(typed_criteria)(cast))[0]
    return bid, criterion


async def test_a_stale_tab_is_refused_with_the_saved_value_and_the_other_tab_is_told(detailed, join):
    cast = detailed
    bid, criterion = await _first_cell(cast)
    first, second = await enter(join, cast, cast.li), await enter(join, cast, cast.li)
    high, low = str(criterion.max_points), str(criterion.step)

    saved = await first.request(score_frame(bid.pk, criterion.pk, high, base=0))
    assert saved["type"] == "ack" and saved["data"]["cell"]["version"] == 1
    # The second tab is told which cell moved on, so it reloads it.
    told = await second.expect("scoring.progress")
    assert (told["data"]["bid"], told["data"]["criterion"], told["data"]["cell_version"]) == (bid.pk, criterion.pk, 1)

    # The second tab still thinks the cell is empty: its write is refused, with the saved value.
    stale = await second.request(score_frame(bid.pk, criterion.pk, low, base=0))
    assert stale["type"] == "error" and stale["code"] == "conflict"
    assert stale["message"].strip()
    assert Decimal(stale["data"]["cell"]["value"]) == Decimal(high) and stale["data"]["cell"]["version"] == 1
    cell = await ScoreCell.objects.aget(sheet__member__user=cast.li, bid=bid, criterion=criterion)
    assert cell.value == Decimal(high) and cell.version == 1, "the refused write changed nothing"

    # Reloaded, it writes on the current version: the last write wins.
    again = await second.request(score_frame(bid.pk, criterion.pk, low, base=1))
    assert again["type"] == "ack" and again["data"]["cell"]["version"] == 2
    told = await first.expect("scoring.progress", cell_version=2)
    assert told["data"]["bid"] == bid.pk
    cell = await ScoreCell.objects.aget(pk=cell.pk)
    assert cell.value == Decimal(low) and cell.version == 2


async def test_a_reconnected_page_shows_exactly_what_was_saved(detailed, join):
    cast = detailed
    bid, criterion = await _first_cell(cast)
    tab = await enter(join, cast, cast.li)
    value = str(criterion.max_points - criterion.step)
    assert (await tab.request(score_frame(bid.pk, criterion.pk, value)))["type"] == "ack"
    await tab.close()

    again = await join(cast.li, cast.session.pk)
    sheet = (await again.expect("snapshot"))["data"]["scoring"]["sheet"]
    cells = {(c["bid"], c["criterion"]): c for c in sheet["cells"] if c["value"] is not None}
    assert set(cells) == {(bid.pk, criterion.pk)}
    assert Decimal(cells[(bid.pk, criterion.pk)]["value"]) == Decimal(value)
    assert cells[(bid.pk, criterion.pk)]["version"] == 1
    assert sheet["submitted"] is False and sheet["editable"] is True
    # The price score is there, computed: one per bid in review, never a cell of the sheet.
    prices = {p["bid"]: p["value"] for p in sheet["price_scores"]}
    assert set(prices) == set(sheet["bids"]) and all(Decimal(v) > 0 for v in prices.values())
    assert not {(p["bid"], p["criterion"]) for p in sheet["price_scores"]} & set(cells)
