"""Scoring at the size of a large lot: 30 bids × 40 criteria × 9 experts.

The lot, its template (3 preliminary and 40 detailed criteria, one of them the computed price), its
session and its committee of 9 are made through the project's own actions in their own PostgreSQL
database, and the session is carried through check-in, declarations, the election and preliminary
review (every mark through ``do_mark_preliminary``) into detailed review. The experts' sheets are
then written straight into the tables (30 × 39 typed cells each, the objective items equal across
experts, the others spread on the step), which is set-up, not measured.

Measured, in one run:

- ``save``: one cell saved through the room socket: a ``score.set`` frame sent by a real WebSocket
  client to one daphne process (Redis channel layer, pubsub), until its ``ack``; every member of
  the committee and the host connected, so each save's progress event fans out as in a real room.
  p50/p95/p99/max over ``--saves`` sequential saves after a warm-up.
- ``summary``: ``scoring.queries.build_summary`` on the nine submitted sheets (every Art. 64 check,
  aggregation, price scores, totals, ranking, candidates): p50 and max over ``--summaries`` runs,
  and the peak of Python allocations during one more run (``tracemalloc``).

It prints ONE JSON line. Target: the summary well under a second (``target_summary_ms``).

    .venv/bin/python -m bench.scoring

Environment: ``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/bench_scoring, created
and migrated if missing), ``REDIS_URL`` (default redis://127.0.0.1:6379/9; the channel layer's keys
under a per-run prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.room_fanout import (
    ROOT,
    cpu_model,
    ensure_database,
    free_port,
    log,
    migrate,
    setup_django,
    start_server,
    wait_listening,
)

PY = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_scoring"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
SECRET = "bench-scoring-not-a-production-key-" + "x" * 24
BIDS, CRITERIA, EXPERTS, PRELIMINARY = 30, 40, 9, 3
TARGET_SUMMARY_MS = 1000.0


# --- set-up (not measured) ----------------------------------------------------------------------


def template_json(name: str) -> str:
    """3 preliminary criteria; 40 detailed: 26 technical, 13 commercial (every third objective), the price."""
    preliminary = [
        {"code": f"P{i}", "group": group, "title": f"初步评审因素 {i}"}
        for i, group in enumerate(("form", "qualification", "responsiveness"), start=1)
    ]
    detailed: list[dict[str, Any]] = []
    for i in range(1, CRITERIA):
        group = "technical" if i <= 26 else "commercial"
        detailed.append(
            {
                "code": f"D{i:02d}",
                "group": group,
                "title": f"评分因素 {i}",
                "max_points": "2" if i % 3 == 0 else "1.5",
                "step": "0.5",
                "objective": i % 3 == 0,
            }
        )
    detailed.append({"code": "PRICE", "group": "price", "title": "投标报价", "max_points": "40", "step": "0.01"})
    return json.dumps(
        {
            "name": name,
            "method": "comprehensive",
            "rules": {"price_formula": "deviation_rate", "benchmark": "trimmed_mean", "price_points": "40"},
            "preliminary": preliminary,
            "detailed": detailed,
        },
        ensure_ascii=False,
    )


def _user(username: str, full_name: str, group: str, **extra: Any) -> Any:
    from django.contrib.auth.models import Group, User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(username=username, first_name=full_name, password="!", **extra)
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def _expert(n: int) -> Any:
    from evaluation.models import Expert

    user = _user(f"bench_s_expert{n}", f"专家{n}", "expert")
    Expert.objects.get_or_create(user=user, defaults={"full_name": f"专家{n}", "city": "杭州"})
    return user


def seed(stamp: str) -> dict[str, Any]:
    """A session of a fresh lot in detailed review, with its committee's sheets written. Returns ids."""
    from django.db import transaction

    from evaluation import actions
    from evaluation.identifiers import credit_code_check_char
    from evaluation.models import Bidder, Lot, TenderProject, Venue
    from evaluation.opening import import_opening_record
    from scoring import actions as scoring
    from scoring.templates_io import import_template

    host = _user("bench_s_host", "主持人", "host", is_staff=True)
    main, _ = Venue.objects.get_or_create(center="bench 评分主会场", defaults={"city": "杭州", "room": "1"})
    project, _ = TenderProject.objects.get_or_create(
        code="BENCH-SCORING",
        defaults={"name": "bench scoring", "category": "building_municipal", "tenderer": "bench", "agency": "bench"},
    )
    with transaction.atomic():
        lot = Lot.objects.create(project=project, code=f"S{stamp}", name="评分基准", ceiling_price=Decimal("50000000"))
        bids = []
        for b in range(BIDS):
            body = f"91330100BN{b:07d}"[:17]
            bidder, _ = Bidder.objects.get_or_create(
                credit_code=body + credit_code_check_char(body), defaults={"name": f"基准投标人{b:02d}有限公司"}
            )
            price = Decimal(40_000_000 + b * 137_531) + Decimal("0.25")
            bids.append(
                {
                    "bidder": bidder.name,
                    "credit_code": bidder.credit_code,
                    "price": str(price),
                    "decryption": "success",
                    "decrypted_at": "2026-12-01T09:05:00+08:00",
                }
            )
        record = {"lot": lot.code, "opened_at": "2026-12-01T09:00:00+08:00", "ceiling_price": "50000000", "bids": bids}
        import_opening_record(lot, json.dumps(record, ensure_ascii=False), host)
        template = import_template(template_json(f"bench {stamp}"), host)
        scoring.copy_template(lot, template, host)
        session = actions.create_session(
            host, lot, scheduled_start=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), main_venue=main, title=f"bench {stamp}"
        )
        experts = [_expert(n) for n in range(EXPERTS)]
        for user in experts:
            actions.do_add_member(session, host, user, venue=main)
    members = {m.user_id: m for m in session.members.all()}
    actions.do_transition(session, host, "open_check_in")
    for member in members.values():
        actions.do_verify_member(session, host, member.pk)
    actions.do_transition(session, host, "open_declarations")
    for user in experts:
        actions.do_declare(session, user, "recusal", grounds=[])
        actions.do_declare(session, user, "integrity")
    actions.do_transition(session, host, "open_election")
    leader = experts[0]
    for user in experts:
        actions.do_cast_vote(session, user, members[leader.pk].pk)
    actions.do_transition(session, host, "open_preliminary_review")
    preliminary_marks(session, experts)
    scoring.do_conclude_preliminary(session, leader, None)
    actions.do_transition(session, host, "open_detailed_review")
    fill_sheets(session, members)
    return {"session": session.pk, "host": host.pk, "experts": [u.pk for u in experts], "leader": leader.pk}


def preliminary_marks(session: Any, experts: list[Any]) -> None:
    from evaluation.models import Bid
    from scoring import actions as scoring
    from scoring.models import PreliminaryCriterion

    criteria = list(PreliminaryCriterion.objects.filter(scheme__lot=session.lot_id))
    for user in experts:
        for bid in Bid.objects.filter(lot=session.lot_id):
            for criterion in criteria:
                scoring.do_mark_preliminary(session, user, bid.pk, criterion.pk, True)


def fill_sheets(session: Any, members: dict[int, Any]) -> None:
    """Every typed cell of every sheet, written in bulk: the objective items equal, the others spread."""
    from django.db import transaction
    from django.utils import timezone

    from evaluation.models import Bid
    from scoring.models import Criterion, ScoreCell, ScoreSheet

    rng = random.Random(20261128)
    now = timezone.now()
    criteria = [c for c in Criterion.objects.filter(scheme__lot=session.lot_id) if not c.computed]
    bids = list(Bid.objects.filter(lot=session.lot_id).order_by("pk"))
    # The bid's "quality" per criterion, which every expert sees with a little noise of their own.
    base = {(b.pk, c.pk): rng.randint(1, int(c.max_points / c.step)) for b in bids for c in criteria}
    with transaction.atomic():
        for member in members.values():
            sheet, _ = ScoreSheet.objects.get_or_create(session=session, member=member)
            cells = []
            for bid in bids:
                for c in criteria:
                    steps = base[(bid.pk, c.pk)]
                    if not c.objective:
                        steps = min(max(steps + rng.choice((-1, 0, 0, 0, 1)), 0), int(c.max_points / c.step))
                    cells.append(
                        ScoreCell(sheet=sheet, bid=bid, criterion=c, value=c.step * steps, version=1, updated_at=now)
                    )
            ScoreCell.objects.bulk_create(cells)


def login(user_id: int) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    user = User.objects.get(pk=user_id)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.set_expiry(timezone.now() + timedelta(hours=2))
    store.create()
    assert store.session_key is not None
    return store.session_key


def second_factor(cookie: str, user_id: int) -> None:
    """The host needs a passed second factor in its login, as after the TOTP page."""
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.get(pk=user_id)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    store = SessionStore(session_key=cookie)
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.save()


def saver_cell(session_id: int, user_id: int) -> tuple[int, int, list[str], int]:
    """The cell the benchmark saves again and again: bid, criterion, two valid values, its version."""
    from scoring.models import ScoreCell

    cell = (
        ScoreCell.objects.filter(
            sheet__session_id=session_id, sheet__member__user_id=user_id, criterion__objective=False
        )
        .select_related("criterion")
        .order_by("pk")
        .first()
    )
    assert cell is not None
    step = cell.criterion.step
    return cell.bid_id, cell.criterion_id, [str(step), str(step * 2)], cell.version


# --- measured -----------------------------------------------------------------------------------


def summary_figures(session_id: int, runs: int) -> dict[str, Any]:
    from evaluation.models import EvaluationSession
    from scoring import queries

    session = EvaluationSession.objects.select_related("lot").get(pk=session_id)
    times = []
    summary = None
    for _ in range(runs):
        t0 = time.perf_counter()
        summary = queries.build_summary(session)
        times.append((time.perf_counter() - t0) * 1000)
    assert summary is not None
    tracemalloc.start()
    queries.build_summary(session)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times.sort()
    kinds: dict[str, int] = {}
    for finding in summary.findings:
        kinds[str(finding.kind)] = kinds.get(str(finding.kind), 0) + 1
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(times[-1], 1),
        "min_ms": round(times[0], 1),
        "peak_memory_mib": round(peak / 2**20, 2),
        "rows": len(summary.rows),
        "findings": kinds,
        "blocked": summary.blocked,
        "first": {"total": str(summary.rows[0].total), "rank": summary.rows[0].rank} if summary.rows else None,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[k], 2)


async def socket_saves(
    port: int, session_id: int, cookies: list[str], cell: tuple[int, int, list[str], int], saves: int, warmup: int
) -> dict[str, Any]:
    """Every member (and the host) connected; the first cookie saves one cell ``warmup + saves`` times."""
    import websockets

    uri = f"ws://127.0.0.1:{port}/ws/sessions/{session_id}/"
    headers = {"Origin": f"http://127.0.0.1:{port}"}
    sockets = []
    for cookie in cookies:
        ws = await websockets.connect(uri, additional_headers={**headers, "Cookie": f"sessionid={cookie}"})
        first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert first["type"] == "snapshot", first
        sockets.append(ws)
    readers = [asyncio.create_task(_discard(ws)) for ws in sockets[1:]]
    saver = sockets[0]
    bid, criterion, values, version = cell
    latencies: list[float] = []
    errors = 0
    for n in range(warmup + saves):
        frame = {
            "type": "score.set",
            "id": f"s{n}",
            "bid": bid,
            "criterion": criterion,
            "value": values[n % 2],
            "base": version,
        }
        # The room allows ROOM_RATE_PER_SECOND frames (10/s): pace the saves below it, as a person types.
        await asyncio.sleep(0.15)
        t0 = time.perf_counter()
        await saver.send(json.dumps(frame))
        while True:
            reply = json.loads(await asyncio.wait_for(saver.recv(), 30))
            if reply.get("ref") == frame["id"]:
                break
        elapsed = (time.perf_counter() - t0) * 1000
        if reply["type"] != "ack":
            errors += 1
            log(f"save {n} refused: {reply}")
            version = reply.get("data", {}).get("cell", {}).get("version", version)
            continue
        version = reply["data"]["cell"]["version"]
        if n >= warmup:
            latencies.append(elapsed)
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return {
        "saves": len(latencies),
        "sockets": len(sockets),
        "errors": errors,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": round(max(latencies), 2),
    }


async def _discard(ws: Any) -> None:
    async for _ in ws:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=300, help="measured saves of one cell through the socket")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--summaries", type=int, default=5, help="timed builds of the summary")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS)
    args = parser.parse_args()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench._room_settings",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": args.database_url,
            "DEBUG": "0",
            "EVAL_DEMO": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("REDIS_URL", None)  # set-up broadcasts into the in-memory layer, not the bench's Redis
    ensure_database(args.database_url)
    setup_django()
    migrate()
    started = datetime.now(UTC)
    stamp = started.strftime("%m%d%H%M%S") + secrets.token_hex(2)
    t0 = time.monotonic()
    ids = seed(stamp)
    log(f"set-up: lot S{stamp} seeded in {time.monotonic() - t0:.1f}s")

    cell = saver_cell(ids["session"], ids["experts"][1])
    cookies = [login(uid) for uid in [ids["experts"][1], *[u for u in ids["experts"] if u != ids["experts"][1]]]]
    host_cookie = login(ids["host"])
    second_factor(host_cookie, ids["host"])
    cookies.append(host_cookie)

    env = dict(os.environ)
    env.update(
        {
            "REDIS_URL": args.redis_url,
            "EVAL_CHANNEL_LAYER": "pubsub",
            "BENCH_ROOM_PREFIX": f"bench-scoring-{stamp}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="bench_scoring-"))
    argv = [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", "config.asgi:application"]
    server = start_server("daphne", argv, env, port, log_dir, ROOT)
    try:
        wait_listening(port, server.proc)
        save = asyncio.run(socket_saves(port, ids["session"], cookies, cell, args.saves, args.warmup))
    finally:
        server.stop()

    from django.contrib.auth.models import User

    from scoring import actions as scoring_actions

    for uid in ids["experts"]:
        scoring_actions.do_submit_sheet(ids["session"], User.objects.get(pk=uid))
    summary = summary_figures(ids["session"], args.summaries)
    result = {
        "benchmark": "scoring",
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.scoring", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version()},
        "lot": {"bids": BIDS, "criteria": CRITERIA, "typed_criteria": CRITERIA - 1, "experts": EXPERTS},
        "cells": BIDS * (CRITERIA - 1) * EXPERTS,
        "save": save,
        "summary": summary,
        "target_summary_ms": TARGET_SUMMARY_MS,
        "summary_within_target": summary["max_ms"] < TARGET_SUMMARY_MS,
        "server_log": str(log_dir),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
