"""Room fan-out: N rooms of 12 members on 2 server processes + Redis, against a plain `websockets` ceiling.

Each room is an EvaluationSession with 12 seated experts (made through the project's actions in
its own PostgreSQL database), each member a real WebSocket client logged in with a Django session
cookie, in a few load processes (``bench._room_load``). The members of a room are spread across
the two server processes, so every event crosses the channel layer. Each member sends a typing
event ``--rate`` times a second; the server broadcasts it to the whole room, sender included.

In the same run, one after the other at the same load, the script measures:

- ``plain``: ``bench.plain_broadcast`` (one process, plain `websockets`), the ceiling;
- for each ``--app``, ``--server`` and ``--layer``: that ASGI app on 2 server processes.
  ``--app real`` is the project's own room (``config.asgi``); ``naive``, ``naive-fast`` and ``hub``
  are the designs of ``bench._room_probe``.

It prints ONE JSON line: per variant the events/s, deliveries/s, delivery latency p50/p95/p99,
lost deliveries (and how many no client could have noticed: no error frame, no close, no new
snapshot), error frames, and the SERVER-SIDE CPU (server processes plus redis-server, utime+stime
from /proc over the measuring window) per delivered message, with its ratio to the plain server's
at the same load (``ratio_vs_plain`` = plain µs / ours µs; the target is >= 0.5 at p95 < 50 ms).

    .venv/bin/python -m bench.room_fanout --rooms 10 --layer both
    .venv/bin/python -m bench.room_fanout --rooms 10,20 --app naive,hub --server daphne,uvicorn --layer both

Environment: ``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/bench_rooms, created and
migrated if missing), ``REDIS_URL`` (default redis://127.0.0.1:6379/9; keys under a per-run prefix,
deleted after each variant). Logs of the servers go to a temporary folder named on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_rooms"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
SECRET = "bench-room-fanout-not-a-production-key-" + "x" * 20
TARGET_P95_MS = 50.0
TARGET_RATIO = 0.5


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Variant:
    app: str  # plain | real | naive | naive-fast | hub
    server: str  # websockets | daphne | uvicorn
    layer: str  # "" for plain | default | pubsub
    rooms: int

    @property
    def name(self) -> str:
        return "plain" if self.app == "plain" else f"{self.app}-{self.server}-{self.layer}"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def percentile(sorted_values: list[int], q: float) -> float | None:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k] / 1000  # µs -> ms


# --- setup: database, rooms, logins (not measured) ----------------------------------------------


MEMBERS_PER_ROOM = 12
BENCH_PROJECT = "BENCH-ROOMS"


@dataclass(frozen=True)
class Login:
    session_id: int  # the EvaluationSession (the room)
    username: str
    cookie: str  # the Django session key, sent as the sessionid cookie


def ensure_database(database_url: str) -> None:
    """Create the benchmark's PostgreSQL database if it is missing (trust auth, as on this machine)."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            print(f"creating database {name}", file=sys.stderr)
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._room_settings")
    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _expert(username: str, full_name: str, city: str) -> Any:
    from django.contrib.auth.models import Group, User

    from evaluation.models import Expert

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create(username=username, first_name=full_name, password="!")  # unusable
        user.groups.add(Group.objects.get_or_create(name="expert")[0])
        Expert.objects.create(user=user, full_name=full_name, city=city, specialties=["房建"], employer="bench")
    return user


def seed_rooms(rooms: int) -> list[int]:
    """The ids of ``rooms`` evaluation sessions, each with 12 seated experts (made if missing)."""
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    from evaluation import actions
    from evaluation.models import CommitteeMember, EvaluationSession, Lot, TenderProject, Venue

    with transaction.atomic():
        host = User.objects.filter(username="bench_host").first()
        if host is None:
            host = User.objects.create(username="bench_host", first_name="bench host", password="!", is_staff=True)
            host.groups.add(Group.objects.get_or_create(name="host")[0])
        main, _ = Venue.objects.get_or_create(center="bench 主会场", defaults={"city": "杭州", "room": "1"})
        sub, _ = Venue.objects.get_or_create(center="bench 分会场", defaults={"city": "宁波", "room": "2"})
        project, _ = TenderProject.objects.get_or_create(
            code=BENCH_PROJECT,
            defaults={"name": "bench rooms", "category": "building_municipal", "tenderer": "bench", "agency": "bench"},
        )
    ids = []
    for r in range(rooms):
        with transaction.atomic():
            lot, _ = Lot.objects.get_or_create(
                project=project, code=f"R{r:04d}", defaults={"name": f"room {r}", "ceiling_price": Decimal("1000000")}
            )
            session = EvaluationSession.objects.filter(lot=lot).order_by("id").first()
            if session is None:
                session = actions.create_session(
                    host,
                    lot,
                    scheduled_start=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
                    main_venue=main,
                    sub_venues=[sub],
                    title=f"bench room {r}",
                )
            for m in range(MEMBERS_PER_ROOM):
                user = _expert(f"bench_r{r:04d}_m{m:02d}", f"专家{r}-{m}", "杭州" if m % 2 == 0 else "宁波")
                if not CommitteeMember.objects.filter(session=session, user=user).exists():
                    actions.do_add_member(session, host, user, venue=main if m % 2 == 0 else sub)
            ids.append(session.pk)
    return ids


def logins(session_ids: list[int]) -> list[list[Login]]:
    """One fresh Django login per seated member, room by room (experts need no second factor)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from evaluation.models import CommitteeMember

    rooms = []
    for sid in session_ids:
        members = CommitteeMember.objects.filter(session_id=sid).select_related("user").order_by("id")
        room = []
        for member in members[:MEMBERS_PER_ROOM]:
            user = member.user
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.set_expiry(timezone.now() + timedelta(hours=6))
            store.create()
            assert store.session_key is not None
            room.append(Login(session_id=sid, username=user.get_username(), cookie=store.session_key))
        rooms.append(room)
    return rooms


def clear_logins() -> None:
    """Drop expired logins (each run makes fresh ones that expire after six hours)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()


# --- processes and their CPU time -------------------------------------------------------------


TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not listen within {timeout:.0f}s")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process (all its threads), 0 if it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # After the name: state(0) ppid(1) ... utime(11) stime(12).
    return (int(fields[11]) + int(fields[12])) / TICKS


def all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    parent: dict[int, int] = {}
    for pid in all_pids():
        fields = _stat_fields(pid)
        if fields is not None:
            parent[pid] = int(fields[1])
    found = [root]
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier}
        found.extend(frontier)
    return found


def pids_named(prefix: str) -> list[int]:
    found = []
    for pid in all_pids():
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith(prefix):
            found.append(pid)
    return found


def total_cpu(pids: Iterable[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine (steal left out), from the first line of /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq
    return float(busy), float(busy + idle + iowait + steal)


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path, cwd: Path) -> Server:
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as out:
        child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Server(name, port, child, log_path)


# --- servers ------------------------------------------------------------------------------------


def server_env(args: argparse.Namespace, variant: Variant, prefix: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench._room_settings",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "EVAL_CHANNEL_LAYER": variant.layer or "pubsub",
            "BENCH_ROOM_PREFIX": prefix,
            "BENCH_PROBE_MODE": variant.app,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
            "EVAL_DEMO": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def server_argv(variant: Variant, port: int, compression: bool) -> list[str]:
    if variant.app == "plain":
        return [PY, "-m", "bench.plain_broadcast", "--port", str(port), *(["--compression"] if compression else [])]
    app = "config.asgi:application" if variant.app == "real" else "bench._room_probe:application"
    if variant.server == "daphne":
        return [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", app]
    return [
        *(PY, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)),
        *("--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio"),
        *("--no-access-log", "--log-level", "warning", "--lifespan", "off"),
    ]


def start_servers(args: argparse.Namespace, variant: Variant, prefix: str, log_dir: Path) -> list[Server]:
    count = 1 if variant.app == "plain" else args.processes
    env = server_env(args, variant, prefix)
    servers = []
    for _ in range(count):
        port = free_port()
        argv = server_argv(variant, port, args.compression)
        servers.append(start_server(variant.name, argv, env, port, log_dir, ROOT))
    for server in servers:
        try:
            wait_listening(server.port, server.proc)
        except RuntimeError:
            for s in servers:
                s.stop()
            log(servers[0].tail())
            raise
    return servers


def clear_keys(redis_url: str, patterns: list[str]) -> int:
    """Delete the keys a variant left in Redis: its channel-layer prefix and its rooms' presence."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = [key for pattern in patterns for key in client.scan_iter(match=pattern, count=1000)]
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
        return len(keys)
    finally:
        client.close()


# --- load ---------------------------------------------------------------------------------------


def client_specs(rooms: list[list[Any]], servers: list[Server]) -> list[dict[str, Any]]:
    specs = []
    gid = 0
    for r, room in enumerate(rooms):
        for m, login in enumerate(room):
            server = servers[m % len(servers)]  # a room's members spread over every process
            specs.append(
                {
                    "gid": gid,
                    "room": r,
                    "url": f"ws://127.0.0.1:{server.port}/ws/sessions/{login.session_id}/",
                    "origin": f"http://127.0.0.1:{server.port}",
                    "cookie": login.cookie,
                }
            )
            gid += 1
    return specs


async def read_json_line(stream: asyncio.StreamReader, what: str, timeout: float) -> dict[str, Any]:
    line = await asyncio.wait_for(stream.readline(), timeout)
    if not line:
        raise RuntimeError(f"{what}: load process ended without answering")
    result: dict[str, Any] = json.loads(line)
    return result


async def run_load(
    args: argparse.Namespace, specs: list[dict[str, Any]], server_pids: list[int], redis_pids: list[int]
) -> dict[str, Any]:
    workers = []
    for w in range(args.workers):
        p = await asyncio.create_subprocess_exec(
            PY,
            "-m",
            "bench._room_load",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=256 * 1024 * 1024,
        )
        assert p.stdin is not None
        mine = [s for s in specs if s["gid"] % args.workers == w]
        config = {"clients": mine, "rate": args.rate, "compression": args.compression}
        p.stdin.write((json.dumps(config) + "\n").encode())
        await p.stdin.drain()
        workers.append(p)
    try:
        readies = []
        for p in workers:
            assert p.stdout is not None
            readies.append(await read_json_line(p.stdout, "connect", 300))
        connected = sum(r["ready"] for r in readies)
        failures = [f for r in readies for f in r["failed"]]
        log(f"  connected {connected}/{len(specs)}" + (f"; failures e.g. {failures[:2]}" if failures else ""))
        await asyncio.sleep(args.settle)
        now = time.time_ns()
        start = now + 500_000_000
        measure_from = start + int(args.warmup * 1e9)
        stop = measure_from + int(args.seconds * 1e9)
        drain_until = stop + int(args.drain * 1e9)
        plan = json.dumps({"start": start, "measure_from": measure_from, "stop": stop, "drain_until": drain_until})
        for p in workers:
            assert p.stdin is not None
            p.stdin.write((plan + "\n").encode())
            await p.stdin.drain()
        load_pids = [p.pid for p in workers]

        def sample() -> dict[str, float]:
            busy_total = machine_busy()
            return {
                "server": total_cpu(server_pids),
                "redis": total_cpu(redis_pids),
                "postgres": total_cpu(pids_named("postgres")),
                "load": total_cpu(load_pids),
                "machine_busy": busy_total[0],
                "machine_total": busy_total[1],
            }

        await asyncio.sleep(max(0.0, (measure_from - time.time_ns()) / 1e9))
        before = sample()
        await asyncio.sleep(max(0.0, (stop - time.time_ns()) / 1e9))
        after = sample()
        cpu = {k: after[k] - before[k] for k in before}
        results = []
        for p in workers:
            assert p.stdout is not None
            results.append(await read_json_line(p.stdout, "results", args.drain + 120))
        return {"connected": connected, "connect_failures": failures[:5], "results": results, "cpu": cpu}
    finally:
        for p in workers:
            if p.returncode is None:
                try:
                    await asyncio.wait_for(p.wait(), 10)
                except TimeoutError:
                    p.kill()
                    await p.wait()


def summarise(variant: Variant, load: dict[str, Any], seconds: float, processes: int) -> dict[str, Any]:
    clients = [c for r in load["results"] for c in r["clients"]]
    by_gid = {c["gid"]: c for c in clients}
    members: dict[int, list[int]] = {}
    for c in clients:
        members.setdefault(c["room"], []).append(c["gid"])
    sent = sum(c["sent_counted"] for c in clients)
    expected = received = lost = unnoticed = 0
    for c in clients:
        if not c["connected"]:
            continue
        noticed = c["closed_early"] or c["errors"] > 0 or c["snapshots"] > 1
        for s in members[c["room"]]:
            want = by_gid[s]["sent_counted"]
            got = int(c["got"].get(str(s), 0))
            expected += want
            received += min(got, want)
            missing = max(0, want - got)
            lost += missing
            if not noticed:
                unnoticed += missing
    latencies = sorted(v for r in load["results"] for v in r["latencies_us"])
    window_deliveries = sum(r["window_deliveries"] for r in load["results"])
    cpu = load["cpu"]
    server_cpu = cpu["server"] + cpu["redis"]
    machine = cpu["machine_busy"] / cpu["machine_total"] if cpu["machine_total"] else None
    errors = sum(c["errors"] for c in clients)
    samples = [s for c in clients for s in c["error_samples"]][:3]
    closes = [c["close_reason"] for c in clients if c["closed_early"]]
    p95 = percentile(latencies, 95)
    return {
        "name": variant.name,
        "app": variant.app,
        "server": variant.server,
        "layer": variant.layer or None,
        "processes": 1 if variant.app == "plain" else processes,
        "rooms": variant.rooms,
        "clients": len(clients),
        "connected": load["connected"],
        "events_per_s": round(sent / seconds, 1),
        "expected_deliveries_per_s": round(expected / seconds, 1),
        "deliveries_per_s": round(window_deliveries / seconds, 1),
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": p95,
            "p99": percentile(latencies, 99),
            "max": latencies[-1] / 1000 if latencies else None,
        },
        "expected_deliveries": expected,
        "delivered": received,
        "lost": lost,
        "lost_pct": round(100 * lost / expected, 3) if expected else None,
        "lost_unnoticed": unnoticed,
        "late": sum(r["late"] for r in load["results"]),
        "duplicates": sum(c["duplicates"] for c in clients),
        "error_frames": errors,
        "error_samples": samples,
        "disconnects": len(closes),
        "disconnect_samples": closes[:3],
        "resync_snapshots": sum(max(0, c["snapshots"] - 1) for c in clients),
        "send_failures": sum(c["send_failures"] for c in clients),
        "other_frames": _merge_counts(r["other_frames"] for r in load["results"]),
        "negotiated_extensions": _merge_counts(r.get("extensions", {}) for r in load["results"]),
        "cpu_s": {
            **{k: round(cpu[k], 2) for k in ("server", "redis", "postgres", "load")},
            # Everything else the machine did meanwhile (other users, the kernel): the noise.
            "other": round(
                cpu["machine_busy"] / TICKS - sum(cpu[k] for k in ("server", "redis", "postgres", "load")), 2
            ),
        },
        "server_cpu_pct_of_one_core": round(100 * server_cpu / seconds, 1),
        "machine_busy_pct": round(100 * machine, 1) if machine is not None else None,
        "cpu_us_per_delivery": round(1e6 * server_cpu / window_deliveries, 1) if window_deliveries else None,
        "cpu_us_per_delivery_without_redis": (
            round(1e6 * cpu["server"] / window_deliveries, 1) if window_deliveries else None
        ),
        "connect_failures": load["connect_failures"],
    }


def _merge_counts(dicts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            total[k] = total.get(k, 0) + v
    return total


async def run_variant(args: argparse.Namespace, variant: Variant, rooms: list[list[Any]], log_dir: Path) -> Any:
    prefix = f"bench_rooms_{secrets.token_hex(4)}_"
    log(f"{variant.name}: {variant.rooms} rooms x {len(rooms[0])} members, {args.rate}/s each")
    servers = start_servers(args, variant, prefix, log_dir)
    try:
        server_pids = [pid for s in servers for pid in descendants(s.proc.pid)]
        redis_pids = [] if variant.app == "plain" else pids_named("redis-server")
        specs = client_specs(rooms[: variant.rooms], servers)
        load = await run_load(args, specs, server_pids, redis_pids)
    finally:
        for s in servers:
            s.stop()
        if variant.app != "plain":
            # The room's presence store keeps eval:room:<session id>:* in the same Redis database.
            presence = [f"eval:room:{room[0].session_id}:*" for room in rooms[: variant.rooms]]
            clear_keys(args.redis_url, [f"{prefix}*", *presence])
    summary = summarise(variant, load, args.seconds, args.processes)
    lat = summary["latency_ms"]
    log(
        f"  {summary['deliveries_per_s']}/s delivered of {summary['expected_deliveries_per_s']}/s, "
        f"p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} ms, lost {summary['lost']} "
        f"(unnoticed {summary['lost_unnoticed']}), errors {summary['error_frames']}, "
        f"{summary['cpu_us_per_delivery']} µs CPU/delivery, machine {summary['machine_busy_pct']}% busy"
    )
    return summary


def judge(variants: list[dict[str, Any]]) -> dict[str, Any]:
    """Ratios against the plain server at the same rooms, the target, and the better layer."""
    plain = {v["rooms"]: v for v in variants if v["app"] == "plain"}
    for v in variants:
        base = plain.get(v["rooms"])
        if v["app"] == "plain" or base is None:
            continue
        ours, theirs = v["cpu_us_per_delivery"], base["cpu_us_per_delivery"]
        v["ratio_vs_plain"] = round(theirs / ours, 3) if ours and theirs else None
        v["throughput_vs_plain"] = (
            round(v["deliveries_per_s"] / base["deliveries_per_s"], 3) if base["deliveries_per_s"] else None
        )
        p95 = v["latency_ms"]["p95"]
        v["meets_target"] = bool(
            p95 is not None
            and p95 < TARGET_P95_MS
            and v["ratio_vs_plain"] is not None
            and v["ratio_vs_plain"] >= TARGET_RATIO
            and v["lost_unnoticed"] == 0
        )
    # The better layer, for each app/server/rooms measured with both: the one that lost nothing
    # unnoticed, then nothing at all, then the one with less server CPU per delivery.
    picks: dict[str, Any] = {}
    candidates = [v for v in variants if v["app"] != "plain"]
    for v in candidates:
        key = f"{v['app']}-{v['server']}-{v['rooms']}rooms"
        picks.setdefault(key, []).append(v)

    def score(v: dict[str, Any]) -> tuple[bool, bool, float]:
        # Latency is reported, not ranked on: on this shared machine its tail follows the neighbours.
        return (v["lost_unnoticed"] > 0, v["lost"] > 0, v["cpu_us_per_delivery"] or float("inf"))

    layer_picks = {}
    decisive: dict[str, Any] | None = None
    for key, group in picks.items():
        if len({v["layer"] for v in group}) > 1:
            best = min(group, key=score)
            layer_picks[key] = best["layer"]
            first = group[0]
            # The pick to quote: the first app and server asked for, at the largest load.
            if decisive is None or (
                (first["app"], first["server"]) == (decisive["app"], decisive["server"])
                and first["rooms"] > decisive["rooms"]
            ):
                decisive = {"app": first["app"], "server": first["server"], "rooms": first["rooms"], "group": group}
    picked: dict[str, Any] | None = None
    if decisive is not None:
        group = sorted(decisive["group"], key=score)
        best, rest = group[0], group[1:]
        why = "; ".join(
            f"{v['layer']}: lost {v['lost']} ({v['lost_unnoticed']} unnoticed), "
            f"{v['cpu_us_per_delivery']} µs/delivery, p95 {v['latency_ms']['p95']} ms"
            for v in (best, *rest)
        )
        case = f"{best['app']} on {best['server']}, {best['rooms']} rooms"
        picked = {"layer": best["layer"], "case": case, "why": why}
    return {"picked_layer": picked, "layer_by_case": layer_picks}


def setup(args: argparse.Namespace) -> list[list[Any]]:
    """Database, rooms and logins (not measured); synchronous, before any event loop runs."""
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
    os.environ.pop("REDIS_URL", None)  # seeding broadcasts into the in-memory layer, not the bench's Redis
    ensure_database(args.database_url)
    setup_django()
    migrate()
    most = max(args.rooms)
    t0 = time.monotonic()
    session_ids = seed_rooms(most)
    clear_logins()
    rooms = logins(session_ids)
    log(f"setup: {most} rooms seeded and logged in in {time.monotonic() - t0:.1f}s")
    return rooms


async def amain(args: argparse.Namespace, rooms: list[list[Any]]) -> dict[str, Any]:
    variants = []
    for n in args.rooms:
        if not args.no_plain:
            variants.append(Variant("plain", "websockets", "", n))
        for app in args.app:
            for server in args.server:
                for layer in args.layer:
                    variants.append(Variant(app, server, layer, n))
    started = datetime.now(UTC).isoformat(timespec="seconds")
    log_dir = Path(tempfile.mkdtemp(prefix="room_fanout-"))
    log(f"server logs in {log_dir}")
    summaries = []
    for variant in variants:
        try:
            summaries.append(await run_variant(args, variant, rooms, log_dir))
        except Exception as exc:
            log(f"  {variant.name} failed: {exc!r}")
            summaries.append({"name": variant.name, "rooms": variant.rooms, "app": variant.app, "failed": repr(exc)})
        await asyncio.sleep(args.pause)
    ok = [s for s in summaries if "failed" not in s]
    verdict = judge(ok)
    return {
        "benchmark": "room_fanout",
        "started": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.room_fanout", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version()},
        "members_per_room": len(rooms[0]),
        "rate_per_client": args.rate,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "server_processes": args.processes,
        "load_processes": args.workers,
        "target": {"p95_ms_below": TARGET_P95_MS, "ratio_vs_plain_at_least": TARGET_RATIO, "lost_unnoticed": 0},
        "variants": summaries,
        **verdict,
    }


def csv(kind: type, choices: set[str] | None = None) -> Any:
    def parse(text: str) -> list[Any]:
        items = [kind(x.strip()) for x in text.split(",") if x.strip()]
        if choices is not None:
            bad = [x for x in items if x not in choices]
            if bad:
                raise argparse.ArgumentTypeError(f"{bad} not in {sorted(choices)}")
        return items

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=csv(int), default=[10], help="rooms of 12, comma-separated for several loads")
    parser.add_argument("--layer", default="both", choices=["default", "pubsub", "both"])
    parser.add_argument("--server", type=csv(str, {"daphne", "uvicorn"}), default=["daphne"])
    parser.add_argument("--app", type=csv(str, {"real", "naive", "naive-fast", "hub"}), default=["real"])
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring window per variant")
    parser.add_argument("--rate", type=float, default=1.0, help="typing events per second per client")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before the window")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds to wait for deliveries after it")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between connecting and sending")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between variants")
    parser.add_argument("--processes", type=int, default=2, help="server processes of the Channels variants")
    parser.add_argument("--workers", type=int, default=3, help="load processes")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain websockets ceiling")
    parser.add_argument(
        "--compression", action="store_true", help="clients offer permessage-deflate, as browsers do (default: off)"
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS)
    args = parser.parse_args()
    args.layer = ["default", "pubsub"] if args.layer == "both" else [args.layer]
    rooms = setup(args)
    result = asyncio.run(amain(args, rooms))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
