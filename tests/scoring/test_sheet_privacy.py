"""Before the summary, others see each expert's progress as counts, never a value or a cell: not in
the events, not in the snapshot (DESIGN.md §2, detailed review)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from evaluation.models import Bid
from scoring import actions as scoring
from tests.personas import Cast
from tests.scoring.conftest import typed_criteria
from tests.scoring.sheet_support import drain, enter, keys_anywhere, score_frame

pytestmark = pytest.mark.django_db(transaction=True)

COUNTS = {"member", "filled", "total", "submitted"}


def _bids(cast: Cast) -> list[Bid]:
    return list(Bid.objects.filter(lot=cast.lot).order_by("pk"))


async def test_other_sockets_get_counts_only_while_the_expert_s_own_gets_the_cell(detailed, join):
    cast = detailed
    li = await enter(join, cast, cast.li)
    others = {who: await enter(join, cast, getattr(cast, who)) for who in ("zhang", "host", "zheng", "wu")}
    bid = (await database_sync_to_async(_bids)(cast))[0]
    criterion = (await database_sync_to_async(typed_criteria)(cast))[0]
    value = str(criterion.max_points - criterion.step)

    reply = await li.request(score_frame(bid.pk, criterion.pk, value))
    assert reply["type"] == "ack"
    mine = await li.expect("scoring.progress")
    assert mine["version"] == reply["version"]
    assert mine["data"]["bid"] == bid.pk and mine["data"]["criterion"] == criterion.pk
    assert mine["data"]["cell_version"] == 1
    assert "value" not in mine["data"], "even the expert's own tabs reload the value from their sheet"

    li_member = await database_sync_to_async(lambda: cast.member(cast.li).pk)()
    for who, socket in others.items():
        frames = await drain(socket)
        progress = [f for f in frames if f["type"] == "scoring.progress"]
        assert len(progress) == 1, (who, frames)
        assert progress[0]["version"] == reply["version"]
        assert set(progress[0]["data"]) <= COUNTS, (who, progress[0])
        assert progress[0]["data"]["member"] == li_member and progress[0]["data"]["filled"] == 1
        assert not keys_anywhere(frames) & {"value", "bid", "criterion", "cell_version"}, (who, frames)


async def test_a_later_snapshot_holds_the_viewer_s_own_values_and_everyone_s_counts(detailed, join):
    cast = detailed
    li = await enter(join, cast, cast.li)
    bids = await database_sync_to_async(_bids)(cast)
    criteria = await database_sync_to_async(typed_criteria)(cast)
    for bid in bids:
        assert (await li.request(score_frame(bid.pk, criteria[0].pk, str(criteria[0].step))))["type"] == "ack"

    zhang = await join(cast.zhang, cast.session.pk)
    scoring_part = (await zhang.expect("snapshot"))["data"]["scoring"]
    zhang_member = await database_sync_to_async(lambda: cast.member(cast.zhang).pk)()
    assert scoring_part["sheet"]["member"] == zhang_member
    assert all(cell["value"] is None for cell in scoring_part["sheet"]["cells"]), "zhang has saved nothing"
    counts = {p["name"]: p["filled"] for p in scoring_part["progress"]}
    assert counts["李明"] == len(bids) and counts["张华"] == 0
    assert not keys_anywhere(scoring_part["progress"]) - COUNTS - {"name"}

    for who in ("host", "zheng", "wu"):
        socket = await join(getattr(cast, who), cast.session.pk)
        part = (await socket.expect("snapshot"))["data"]["scoring"]
        assert part["sheet"] is None and part["summary"] is None, who


def _submit_all(cast: Cast, user) -> None:
    for bid in _bids(cast):
        for criterion in typed_criteria(cast):
            scoring.do_save_score(cast.session, user, bid.pk, criterion.pk, criterion.max_points, base_version=0)
    scoring.do_submit_sheet(cast.session, user)


async def test_a_submitted_sheet_is_announced_with_counts_only(detailed, join):
    cast = detailed
    zhang = await enter(join, cast, cast.zhang)
    await database_sync_to_async(_submit_all)(cast, cast.li)
    frames = await drain(zhang)
    submitted = [f for f in frames if f["type"] == "sheet.submitted"]
    assert len(submitted) == 1
    assert not keys_anywhere(frames) & {"value", "bid", "criterion", "cell_version"}
