"""Preliminary review, submission, re-check and the summary, through the room socket."""

from __future__ import annotations

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async

from evaluation import actions
from evaluation.models import Bid, Phase
from scoring import actions as scoring
from scoring.models import PreliminaryConclusion, PreliminaryCriterion, ScoreSheet
from tests.personas import Cast
from tests.scoring.conftest import to_preliminary, typed_criteria
from tests.scoring.sheet_support import enter

pytestmark = pytest.mark.django_db(transaction=True)


def _prelim_cells(cast: Cast) -> tuple[list[Bid], list[PreliminaryCriterion]]:
    bids = list(Bid.objects.filter(lot=cast.lot).order_by("pk"))
    return bids, list(PreliminaryCriterion.objects.filter(scheme__lot=cast.lot).order_by("position", "pk"))


async def test_members_mark_and_the_leader_concludes_over_the_socket(cast, join):
    await database_sync_to_async(to_preliminary)(cast)
    bids, criteria = await database_sync_to_async(_prelim_cells)(cast)
    sockets = {user.username: await enter(join, cast, user) for user in cast.committee}
    for user in cast.committee:
        socket = sockets[user.username]
        for bid in bids:
            for criterion in criteria:
                mark = {"type": "prelim.mark", "bid": bid.pk, "criterion": criterion.pk, "passed": True}
                assert (await socket.request(mark))["type"] == "ack"
    no_reason = {"type": "prelim.mark", "bid": bids[0].pk, "criterion": criteria[0].pk, "passed": False}
    refusal = await sockets["zhang"].request(no_reason)
    assert refusal["type"] == "error" and refusal["message"].strip(), "a fail needs its reason"

    not_leader = await sockets["zhang"].request({"type": "prelim.conclude", "bid": None})
    assert not_leader["type"] == "error" and not_leader["code"] == "forbidden"
    assert (await sockets["li"].request({"type": "prelim.conclude", "bid": None}))["type"] == "ack"
    assert await PreliminaryConclusion.objects.filter(session=cast.session, passed=True).acount() == len(bids)

    again = await join(cast.chen, cast.session.pk)
    snapshot_part = (await again.expect("snapshot"))["data"]["scoring"]
    assert {s["bid"] for s in snapshot_part["prelim"]["status"] if s["concluded"] and s["passed"]} == {
        b.pk for b in bids
    }
    assert len(snapshot_part["prelim"]["marks"]) == len(bids) * len(criteria), "chen's own marks"


def _typed_totals(cast: Cast) -> dict[int, Decimal]:
    """What ``_fill`` puts on each bid: the step of every typed criterion."""
    step_sum = sum((c.step for c in typed_criteria(cast)), Decimal(0))
    return {bid.pk: step_sum for bid in Bid.objects.filter(lot=cast.lot)}


def _fill(cast: Cast, user) -> None:
    for bid in Bid.objects.filter(lot=cast.lot).order_by("pk"):
        for criterion in typed_criteria(cast):
            scoring.do_save_score(cast.session, user, bid.pk, criterion.pk, criterion.step, base_version=0)


async def test_the_leader_asks_a_member_to_recheck_a_submitted_sheet(detailed, join):
    cast = detailed
    await database_sync_to_async(_fill)(cast, cast.zhang)
    zhang, li, chen = [await enter(join, cast, u) for u in (cast.zhang, cast.li, cast.chen)]
    totals = await database_sync_to_async(_typed_totals)(cast)
    submitted = await zhang.request({"type": "sheet.submit", "totals": {str(b): str(t) for b, t in totals.items()}})
    assert submitted["type"] == "ack", submitted
    zhang_member = await database_sync_to_async(lambda: cast.member(cast.zhang).pk)()
    asked = {"type": "sheet.recheck", "member": zhang_member, "reason": "第3项与评分标准不符，请复核"}
    refused = await chen.request(asked)
    assert refused["type"] == "error" and refused["code"] == "forbidden", "only the leader asks"
    assert (await li.request(asked))["type"] == "ack"
    event = await zhang.expect("sheet.recheck_requested")
    assert event["data"]["member"] == zhang_member
    sheet = await ScoreSheet.objects.aget(session=cast.session, member_id=zhang_member)
    assert sheet.submitted_at is None and sheet.recheck_reason
    assert {int(b): Decimal(t) for b, t in sheet.declared_totals.items()} == totals, "the totals the page showed"
    resync = await join(cast.zhang, cast.session.pk)
    mine = (await resync.expect("snapshot"))["data"]["scoring"]["sheet"]
    assert mine["editable"] is True and mine["recheck"]["reason"] == asked["reason"]


def _everyone_scores_and_summary_opens(cast: Cast) -> None:
    for user in cast.committee:
        for bid_index, bid in enumerate(Bid.objects.filter(lot=cast.lot).order_by("pk")):
            for criterion in typed_criteria(cast):
                # The first bid gets full marks from everyone, the second the least step.
                value = criterion.max_points if bid_index == 0 else criterion.step
                scoring.do_save_score(cast.session, user, bid.pk, criterion.pk, value, base_version=0)
        scoring.do_submit_sheet(cast.session, user)
    actions.do_transition(cast.session, cast.host, "open_summary")
    assert cast.refresh().phase == Phase.SUMMARY


async def test_after_the_summary_opens_the_committee_sees_totals_and_ranking(detailed, join):
    cast = detailed
    await database_sync_to_async(_everyone_scores_and_summary_opens)(cast)
    li = await join(cast.li, cast.session.pk)
    summary = (await li.expect("snapshot"))["data"]["scoring"]["summary"]
    assert summary is not None
    ranked = sorted(summary["rows"], key=lambda r: r["rank"])
    first_bid = await Bid.objects.filter(lot=cast.lot).order_by("pk").afirst()
    assert first_bid is not None
    assert ranked[0]["bid"] == first_bid.pk and ranked[0]["rank"] == 1 and ranked[0]["candidate"]
    assert ranked[0]["total"] is not None
    dots = summary["charts"]["dots"][0]["svg"]
    assert dots.startswith("<svg") and "<script" not in dots

    # Once the summary is open, it is the whole committee's to read; an attendant's room has none.
    chen = await join(cast.chen, cast.session.pk)
    part = (await chen.expect("snapshot"))["data"]["scoring"]
    assert [r["total"] for r in part["summary"]["rows"]] == [r["total"] for r in summary["rows"]]
    sun = await join(cast.sun, cast.session.pk)
    part = (await sun.expect("snapshot"))["data"]["scoring"]
    assert part is None or part["summary"] is None


def _everyone_submits_with_zhang_apart(cast: Cast) -> tuple[int, int]:
    """Every member full points everywhere, but 张华 the least step on one subjective criterion of the
    first bid: a deviation warning on his cell."""
    criteria = typed_criteria(cast)
    apart = next(c for c in criteria if not c.objective)
    first = Bid.objects.filter(lot=cast.lot).order_by("pk").first()
    assert first is not None
    for user in cast.committee:
        for bid in Bid.objects.filter(lot=cast.lot).order_by("pk"):
            for criterion in criteria:
                low = user == cast.zhang and bid.pk == first.pk and criterion.pk == apart.pk
                value = criterion.step if low else criterion.max_points
                scoring.do_save_score(cast.session, user, bid.pk, criterion.pk, value, base_version=0)
        scoring.do_submit_sheet(cast.session, user)
    return first.pk, apart.pk


async def test_a_deviating_score_is_confirmed_with_a_reason_and_mapped_in_the_summary(detailed, join):
    cast = detailed
    bid, criterion = await database_sync_to_async(_everyone_submits_with_zhang_apart)(cast)
    zhang = await join(cast.zhang, cast.session.pk)
    sheet = (await zhang.expect("snapshot"))["data"]["scoring"]["sheet"]
    assert [(w["bid"], w["criterion"]) for w in sheet["warnings"]] == [(bid, criterion)]
    version = next(c["version"] for c in sheet["cells"] if (c["bid"], c["criterion"]) == (bid, criterion))

    confirm = {"type": "deviation.confirm", "bid": bid, "criterion": criterion, "base": version}
    no_reason = await zhang.request({**confirm, "reason": " "})
    assert no_reason["type"] == "error", "a written reason is required"
    kept = await zhang.request({**confirm, "reason": "该项方案存在明显缺陷，维持原评分"})
    assert kept["type"] == "ack", kept

    await database_sync_to_async(actions.do_transition)(cast.session, cast.host, "open_summary")
    li = await join(cast.li, cast.session.pk)
    summary = (await li.expect("snapshot"))["data"]["scoring"]["summary"]
    assert [m["criterion"] for m in summary["charts"]["heat"]] == [criterion]
    assert summary["charts"]["heat"][0]["svg"].startswith("<svg")
