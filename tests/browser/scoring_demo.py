"""Data for the scoring browser test, made in the demo server's database through the project's actions.

Run in the demo server's environment (``demo_env``), as a child process, because the server owns
that SQLite database and the browser test's own process has no Django set up:

    python -m tests.browser.scoring_demo prepare      → {"session": id, "bids": [...], "criteria": [...]}
    python -m tests.browser.scoring_demo finish ID    → every sheet filled as ``value_for`` says and submitted

``prepare`` adds a third lot to the demo project (BD01 and BD02 belong to the other browser tests),
seats five of the demo's people on its session and carries it into detailed review: check-in,
declarations, the election of 李明, preliminary review with every bid passed. What the browser then
does goes through the live server. Broadcasts from this process reach nobody (the server's channel
layer is in its own memory): the pages learn of these changes from their next snapshot.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

LOT = "BD03"
PRICES = ("11860000.00", "12130000.50", "11990000.00")
COMMITTEE = (("expert_li", "杭州"), ("expert_zhang", "宁波"), ("expert_chen", "温州"), ("expert_liu", "杭州"))
REPRESENTATIVE = ("rep_zhao", "杭州")


def value_for(bid_index: int, criterion: Any) -> Decimal:
    """Every member gives the same score (no deviation to answer): the first bid full points, each
    later bid one step less."""
    return max(criterion.max_points - bid_index * criterion.step, Decimal(0))


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def prepare() -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import transaction

    from evaluation import actions
    from evaluation.demo import COMPANIES, VENUES
    from evaluation.models import Bidder, CommitteeMember, Lot, TenderProject, Venue
    from evaluation.opening import import_opening_record
    from scoring import actions as scoring
    from scoring.models import Criterion, PreliminaryCriterion, ScoringTemplate

    host = User.objects.get(username="host_wang")
    venues = {city: Venue.objects.get(center=center) for city, center, _ in VENUES}
    with transaction.atomic():
        project = TenderProject.objects.get(code="ZJ-DEMO-2026-001")
        lot = Lot.objects.create(project=project, code=LOT, name="评分演示标段", ceiling_price=Decimal("12500000.00"))
        bids = [
            {
                "bidder": Bidder.objects.get(credit_code=company.credit_code).name,
                "credit_code": company.credit_code,
                "price": price,
                "decryption": "success",
                "decrypted_at": "2026-12-03T09:05:00+08:00",
            }
            for company, price in zip(COMPANIES, PRICES, strict=False)
        ]
        record = {"lot": LOT, "opened_at": "2026-12-03T09:00:00+08:00", "ceiling_price": "12500000.00", "bids": bids}
        import_opening_record(lot, json.dumps(record, ensure_ascii=False), host)
        template = ScoringTemplate.objects.filter(method=lot.evaluation_method).order_by("pk").first()
        assert template is not None
        scoring.copy_template(lot, template, host)
        session = actions.create_session(
            host,
            lot,
            scheduled_start=datetime(2026, 12, 3, 2, 0, tzinfo=UTC),
            main_venue=venues["杭州"],
            sub_venues=[venues["宁波"], venues["温州"]],
            title="杭州市第一中学教学楼扩建工程 评分演示标段 评标",
        )
        users = []
        for username, city in COMMITTEE:
            user = User.objects.get(username=username)
            actions.do_add_member(session, host, user, venue=venues[city])
            users.append(user)
        rep = User.objects.get(username=REPRESENTATIVE[0])
        kind = CommitteeMember.Kind.TENDERER_REP
        actions.do_add_member(session, host, rep, venue=venues[REPRESENTATIVE[1]], kind=kind)
        users.append(rep)
    actions.do_transition(session, host, "open_check_in")
    for member in session.members.all():
        actions.do_verify_member(session, host, member.pk)
    actions.do_transition(session, host, "open_declarations")
    for user in users:
        actions.do_declare(session, user, "recusal", grounds=[])
        actions.do_declare(session, user, "integrity")
    actions.do_transition(session, host, "open_election")
    leader = session.members.get(user__username="expert_li")
    for user in users:
        actions.do_cast_vote(session, user, leader.pk)
    actions.do_transition(session, host, "open_preliminary_review")
    prelim = list(PreliminaryCriterion.objects.filter(scheme__lot=lot))
    lot_bids = list(lot.bids.order_by("anonymous_label"))
    for user in users:
        for bid in lot_bids:
            for criterion in prelim:
                scoring.do_mark_preliminary(session, user, bid.pk, criterion.pk, True)
    scoring.do_conclude_preliminary(session, leader.user, None)
    actions.do_transition(session, host, "open_detailed_review")
    typed = [c for c in Criterion.objects.filter(scheme__lot=lot).order_by("position", "pk") if not c.computed]
    return {
        "session": session.pk,
        "bids": [{"id": b.pk, "label": b.anonymous_label, "name": b.bidder.name} for b in lot_bids],
        "criteria": [
            {"id": c.pk, "name": c.title, "values": [str(value_for(i, c)) for i in range(len(lot_bids))]} for c in typed
        ],
    }


def finish(session_id: int) -> dict[str, Any]:
    """Every seated member's sheet filled with ``value_for`` (over what they typed) and submitted;
    the summary each bid should show, as the server computes it for the record."""
    from evaluation.models import EvaluationSession
    from scoring import actions as scoring
    from scoring import queries
    from scoring.models import ScoreCell

    session = EvaluationSession.objects.get(pk=session_id)
    bids = list(session.lot.bids.order_by("anonymous_label"))
    for member in session.seated_members().select_related("user"):
        sheet = queries.member_sheet(session, member.user)
        for index, bid in enumerate(bids):
            for criterion in sheet.criteria:
                cell = ScoreCell.objects.filter(sheet__member=member, bid=bid, criterion_id=criterion.id).first()
                version = cell.version if cell else 0
                value = value_for(index, criterion)
                scoring.do_save_score(session, member.user, bid.pk, criterion.id, value, base_version=version)
        scoring.do_submit_sheet(session, member.user)
    return {"submitted": True}


def expected(session_id: int) -> dict[str, Any]:
    """The summary's rows as the server computes them for the record: label, total, rank, candidate."""
    from evaluation.models import EvaluationSession
    from scoring import queries

    summary = queries.build_summary(EvaluationSession.objects.get(pk=session_id))
    return {"rows": [{"label": r.bid.label, "total": str(r.total), "rank": r.rank} for r in summary.rows]}


def main() -> None:
    _setup()
    command = sys.argv[1]
    if command == "prepare":
        result = prepare()
    elif command == "finish":
        result = finish(int(sys.argv[2]))
    elif command == "expected":
        result = expected(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
