"""Helpers of the multi-process room test: daphne children sharing the test's database and one
Redis, and room clients that keep the protocol as a browser tab does.

A ``RoomClient`` is a real WebSocket (the ``websockets`` library) with the login cookie of one
persona. It applies the snapshot, then the versioned events in version order (buffering any that
arrive early), keeps a small model of the room (phase, verified members, notices) from them, and
records everything it received, so a test can check that no version came twice and none is missing.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.db import connection
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from evaluation.models import AuditEvent, CommitteeMember, EvaluationSession
from rooms.protocol import VERSIONED_EVENTS
from tests.servers import embedded_env, free_port, spawn, stop, wait_until_answers

# What the children run with: fast pings and a short heartbeat timeout keep the test short.
PING_SECONDS = 1
HEARTBEAT_TIMEOUT_SECONDS = 4
HEARTBEAT_EVERY = 1.0
# Redis when the run itself has none configured (the local default run on SQLite).
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
# Frames that carry a version a client must account for: the core's events, and "hidden", which is
# what a viewer who may not see an event gets in its place so that no gap appears.
VERSIONED = VERSIONED_EVENTS | {"hidden"}


# --- the services -------------------------------------------------------------------------------


def redis_url() -> str:
    return settings.REDIS_URL or LOCAL_REDIS


def redis_answers(url: str) -> tuple[bool, str]:
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        return bool(client.ping()), ""
    except (OSError, redis.RedisError) as exc:
        return False, f"{url} does not answer: {exc}"
    finally:
        client.close()


async def stored_connections(url: str, session_id: int) -> int:
    """How many connections the presence store holds for the session, expired but unswept included."""
    client = aioredis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        return int(await client.zcard(f"eval:room:{session_id}:conns"))
    finally:
        await client.aclose()


def forget_presence(url: str, session_id: int) -> None:
    """Remove the session's presence keys (rooms/presence.py) that the killed process left behind."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        base = f"eval:room:{session_id}"
        client.delete(f"{base}:conns", f"{base}:info", f"{base}:hands")
    finally:
        client.close()


def database_url() -> str:
    """The database this test runs on (pytest-django's test database), as a URL for the children."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(s["USER"] or "", safe="")
        if s["PASSWORD"]:
            auth += ":" + quote(s["PASSWORD"], safe="")
        host = s["HOST"] or "127.0.0.1"
        port = f":{s['PORT']}" if s["PORT"] else ""
        return f"postgres://{auth}@{host}{port}/{quote(s['NAME'], safe='')}"
    if connection.vendor == "sqlite":
        path = Path(s["NAME"]).resolve()
        # As config/settings.py sets for SQLite: writers wait for each other instead of failing.
        return f"sqlite:///{path}?timeout=20&transaction_mode=IMMEDIATE"
    raise AssertionError(f"no child database URL for {connection.vendor}")


def start_ids_at(model: type[EvaluationSession], first: int) -> None:
    """Make the next row of ``model`` get the id ``first``.

    Redis pub/sub channels are not scoped by database number: two test runs on one Redis would both
    use the group of session 1 and hear each other's events. A session id of its own avoids that.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, first])
        else:
            # Django makes SQLite id columns AUTOINCREMENT: the next id follows sqlite_sequence.
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [first - 1, table])
            if cursor.rowcount == 0:
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, first - 1])


# --- the web processes --------------------------------------------------------------------------


@dataclass
class WebProcess:
    """One daphne child: the production web process, on a port of its own."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, not a graceful stop: no disconnect handler runs, nothing is cleaned up."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        stop(self.proc)


def start_web_processes(names: list[str], folder: Path, *, database: str, redis: str) -> list[WebProcess]:
    """Start one daphne per name, all on ``database`` and ``redis``, and wait until each answers."""
    env = embedded_env(str(folder))
    env.update(
        # The login sessions the test made are signed with the test's key.
        SECRET_KEY=settings.SECRET_KEY,
        DATABASE_URL=database,
        REDIS_URL=redis,
        ROOM_PING_SECONDS=str(PING_SECONDS),
        ROOM_HEARTBEAT_TIMEOUT_SECONDS=str(HEARTBEAT_TIMEOUT_SECONDS),
        PYTHONUNBUFFERED="1",
    )
    started: list[WebProcess] = []
    try:
        for name in names:
            port, log = free_port(), folder / f"daphne-{name}.log"
            with log.open("wb") as out:
                args = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
                started.append(WebProcess(name, port, spawn(args, env, out), log))
        for web in started:
            wait_until_answers(web.proc, web.port, 30, web.log_text)
    except BaseException:
        for web in started:
            web.stop()
        raise
    return started


# --- what the database says ---------------------------------------------------------------------


@dataclass
class RoomModel:
    """What a participant knows of the room: enough to compare with the committed state."""

    phase: str
    checked_in: frozenset[int]
    notices: tuple[str, ...]

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> RoomModel:
        return cls(
            phase=data["session"]["phase"],
            checked_in=frozenset(m["id"] for m in data["members"] if m["checked_in_at"]),
            notices=tuple(n["text"] for n in data["notices"]),
        )

    def apply(self, frame: dict[str, Any]) -> None:
        data = frame.get("data") or {}
        if frame["type"] == "phase.changed":
            self.phase = data["to"]
        elif frame["type"] == "member.checked_in":
            self.checked_in = self.checked_in | {data["member"]}
        elif frame["type"] == "host.notice":
            self.notices = (*self.notices, data["text"])


@dataclass(frozen=True)
class View:
    """What one viewer is shown: the seats of ``seats`` (None: every seat) and, besides the notices
    to everyone, those to ``notices`` (None: every notice)."""

    seats: frozenset[int] | None = None
    notices: frozenset[int] | None = None


def committed(session_id: int, view: View) -> tuple[int, RoomModel]:
    """The head version and the room as committed, as ``view`` shows it.

    Run in a worker thread (database_sync_to_async); it closes its connection so no idle one holds
    the test database when pytest-django drops it.
    """
    try:
        session = EvaluationSession.objects.get(pk=session_id)
        members = CommitteeMember.objects.filter(session=session, checked_in_at__isnull=False)
        if view.seats is not None:
            members = members.filter(venue_id__in=view.seats)
        notices = AuditEvent.objects.filter(session=session, kind="host.notice").order_by("seq")
        texts = tuple(
            str(n.payload["text"])
            for n in notices
            if view.notices is None or n.payload.get("venue") is None or n.payload["venue"] in view.notices
        )
        model = RoomModel(
            phase=session.phase, checked_in=frozenset(members.values_list("pk", flat=True)), notices=texts
        )
        return session.audit_seq, model
    finally:
        connection.close()


# --- the clients --------------------------------------------------------------------------------


async def until(predicate: Callable[[], bool], what: str, timeout: float = 5.0) -> float:
    """Wait until ``predicate()`` holds; the seconds it took, or AssertionError naming ``what``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting until {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


_ids = itertools.count(1)


@dataclass(eq=False)
class RoomClient:
    """One participant's room socket, reconnectable to any web process."""

    label: str
    user: int
    cookie: str
    session_id: int
    # Everything received, over every connection, in arrival order.
    frames: list[dict[str, Any]] = field(default_factory=list)
    # Versions of versioned frames in arrival order, and how often each arrived.
    arrivals: list[int] = field(default_factory=list)
    seen: Counter[int] = field(default_factory=Counter)
    # Versioned frames applied, in version order, and those that arrived ahead of a missing one.
    applied: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    version: int | None = None  # the version applied so far; None before the first snapshot
    model: RoomModel | None = None
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    pings: list[int] = field(default_factory=list)
    presence: list[dict[str, Any]] = field(default_factory=list)
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    # This connection's frames, and whether it dropped.
    connection_frames: list[dict[str, Any]] = field(default_factory=list)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    hello_ref: str | None = None
    _presence_mark: int = 0  # presence events before this index are in the last snapshot's roll
    _ws: ClientConnection | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def connect(self, port: int, *, hello: bool = False) -> None:
        """Open the socket on the process at ``port``; with ``hello``, send the version applied so far."""
        await self.close()
        self.port, self.connection_frames, self.dropped = port, [], asyncio.Event()
        self._ws = await connect(
            f"ws://127.0.0.1:{port}/ws/sessions/{self.session_id}/",
            origin=cast(Origin, f"http://127.0.0.1:{port}"),
            additional_headers={"Cookie": f"sessionid={self.cookie}"},
            proxy=None,
            open_timeout=5,
        )
        if hello:
            self.hello_ref = await self.send({"type": "hello", "last_version": self.version or 0})
        self._tasks = [asyncio.create_task(self._read(self._ws)), asyncio.create_task(self._beat(self._ws))]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()

    async def send(self, frame: dict[str, Any]) -> str:
        """Send ``frame`` with a fresh id; the id, by which ``replies`` holds its ack or error."""
        assert self._ws is not None, f"{self.label} is not connected"
        ref = f"{self.label}-{next(_ids)}"
        await self._ws.send(json.dumps({"id": ref, **frame}))
        return ref

    async def request(self, frame: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        ref = await self.send(frame)
        await until(lambda: ref in self.replies, f"{self.label} has the reply to {frame}", timeout)
        return self.replies[ref]

    def saw_presence(self, user: int, state: str) -> bool:
        return any(p.get("user") == user and p.get("state") == state for p in self.presence)

    def present(self) -> set[int]:
        """Who the last snapshot and the presence events since say is connected."""
        roll = {p["user"] for p in self.snapshots[-1]["data"]["presence"]} if self.snapshots else set()
        for p in self.presence[self._presence_mark :]:
            (roll.discard if p["state"] == "left" else roll.add)(p["user"])
        return roll

    # --- receiving ------------------------------------------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._receive(json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            self.dropped.set()

    async def _beat(self, ws: ClientConnection) -> None:
        # As the page does: a heartbeat keeps this connection in the presence roll.
        try:
            while True:
                await asyncio.sleep(HEARTBEAT_EVERY)
                await ws.send(json.dumps({"type": "heartbeat"}))
        except ConnectionClosed:
            pass

    def _receive(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        self.connection_frames.append(frame)
        kind, version = frame.get("type"), frame.get("version")
        if kind == "snapshot":
            self.snapshots.append(frame)
            self._presence_mark = len(self.presence)
            self.model = RoomModel.from_snapshot(frame["data"])
            self.version = frame["version"]
            self.pending = {v: f for v, f in self.pending.items() if v > frame["version"]}
            self._drain()
        elif kind in VERSIONED and isinstance(version, int):
            self.arrivals.append(version)
            self.seen[version] += 1
            if self.version is None or version > self.version:
                self.pending[version] = frame
                self._drain()
        elif kind == "ping":
            self.pings.append(frame["version"])
        elif kind == "presence":
            self.presence.append(frame["data"])
        elif kind in ("ack", "error") and frame.get("ref"):
            self.replies[frame["ref"]] = frame

    def _drain(self) -> None:
        assert self.model is not None and self.version is not None
        while self.version + 1 in self.pending:
            frame = self.pending.pop(self.version + 1)
            self.version += 1
            self.applied.append(frame)
            self.model.apply(frame)
