"""The room across web processes: two daphne processes on one database and one Redis, as in
production (DESIGN.md §4: any replica serves any client; a reconnecting client gets a full snapshot).

Every change is made through a socket, so it is broadcast by the child that committed it, on Redis.
Each client applies the snapshot, then the versioned events in version order, as the page does
(tests/rooms/multiprocess_support.py), and the test compares what it ends with to the database.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User

from evaluation.models import EvaluationSession, Phase
from tests.conftest import require_service
from tests.personas import Cast, build_cast
from tests.rooms.conftest import login_cookie
from tests.rooms.multiprocess_support import (
    HEARTBEAT_TIMEOUT_SECONDS,
    RoomClient,
    RoomModel,
    View,
    WebProcess,
    committed,
    database_url,
    forget_presence,
    redis_answers,
    redis_url,
    start_ids_at,
    start_web_processes,
    stored_connections,
    until,
)

pytestmark = [pytest.mark.slow, pytest.mark.needs_redis, pytest.mark.django_db(transaction=True)]


@dataclass
class Stage:
    cast: Cast
    a: WebProcess
    b: WebProcess
    redis: str
    cookies: dict[int, str]
    members: dict[str, int]  # username → committee member id

    @property
    def session_id(self) -> int:
        return self.cast.session.pk

    def view(self, client: RoomClient) -> View:
        """What the persona behind ``client`` is shown (DESIGN.md §6): the committee sees every seat,
        an attendant their venue's; a notice to one venue is for that venue and the host."""
        cast = self.cast
        venue = {"li": cast.main, "zhang": cast.ningbo, "chen": cast.wenzhou, "sun": cast.ningbo}.get(client.label)
        if venue is None:
            return View()
        seats = frozenset({venue.pk}) if client.label == "sun" else None
        return View(seats=seats, notices=frozenset({venue.pk}))


@pytest.fixture
def stage(transactional_db, tmp_path) -> Iterator[Stage]:
    """The cast, committed (the children must see it), and web processes A and B on its database."""
    url = redis_url()
    answered, why = redis_answers(url)
    require_service("Redis", answered, why)
    start_ids_at(EvaluationSession, 1_000_000 + secrets.randbelow(1_000_000_000))
    cast = build_cast()
    people = (cast.host, cast.li, cast.zhang, cast.chen, cast.sun)
    cookies = {user.pk: login_cookie(user) for user in people}
    members = {user.username: cast.member(user).pk for user in cast.committee}
    a, b = start_web_processes(["a", "b"], tmp_path, database=database_url(), redis=url)
    try:
        yield Stage(cast, a, b, url, cookies, members)
    finally:
        for web in (a, b):
            web.stop()
            # Shown by pytest when the test failed.
            print(f"--- daphne {web.name} ---\n{web.log_text()[-4000:]}")
        forget_presence(url, cast.session.pk)


Join = Callable[[str, User, WebProcess], Awaitable[RoomClient]]


@pytest.fixture
async def join(stage: Stage) -> AsyncIterator[Join]:
    """``await join(label, user, web)``: that persona's room socket on web process ``web``."""
    opened: list[RoomClient] = []

    async def _join(label: str, user: User, web: WebProcess) -> RoomClient:
        client = RoomClient(label, user.pk, stage.cookies[user.pk], stage.session_id)
        opened.append(client)
        await client.connect(web.port)
        return client

    yield _join
    for client in opened:
        await client.close()


async def seat_everyone(stage: Stage, join: Join) -> tuple[RoomClient, ...]:
    """The host and 李 on A; 张 and 陈 (members) and 孙 (宁波's attendant) on B; each with a snapshot,
    and both processes hearing each other on Redis."""
    cast = stage.cast
    host = await join("host", cast.host, stage.a)
    li = await join("li", cast.li, stage.a)
    zhang = await join("zhang", cast.zhang, stage.b)
    chen = await join("chen", cast.chen, stage.b)
    sun = await join("sun", cast.sun, stage.b)
    everyone = (host, li, zhang, chen, sun)
    await until(lambda: all(c.snapshots for c in everyone), "every socket has its snapshot")
    # A hears what B publishes, and B hears itself through Redis: both hubs are subscribed.
    await until(
        lambda: (
            all(li.saw_presence(c.user, "joined") for c in (zhang, chen, sun))
            and zhang.saw_presence(sun.user, "joined")
        ),
        "li on A is told that zhang, chen and sun joined on B",
    )
    return everyone


async def in_database(stage: Stage, client: RoomClient) -> tuple[int, RoomModel]:
    """The head version, and the room as committed and as ``client``'s persona is shown it."""
    return await database_sync_to_async(committed)(stage.session_id, stage.view(client))


async def caught_up(clients: Iterable[RoomClient], head: int) -> None:
    async def one(client: RoomClient) -> None:
        await until(lambda: client.version == head, f"{client.label} applied every version up to {head}")

    await asyncio.gather(*(one(c) for c in clients))


async def snapshots_on_this_connection(client: RoomClient, count: int) -> None:
    await until(
        lambda: sum(f["type"] == "snapshot" for f in client.connection_frames) == count,
        f"{client.label} has {count} snapshots on its connection",
    )


async def all_acked(client: RoomClient, refs: list[str]) -> None:
    await until(lambda: all(ref in client.replies for ref in refs), f"{client.label}'s frames are answered", 15)
    replies = [client.replies[ref] for ref in refs]
    assert [r["type"] for r in replies] == ["ack"] * len(refs), replies


async def test_events_made_on_either_process_reach_every_socket_on_both_once_and_in_version_order(stage, join):
    cast, m = stage.cast, stage.members
    host, li, zhang, chen, sun = everyone = await seat_everyone(stage, join)
    # Presence is shared: a member on B is seen by a member on A, and B's snapshot lists A's sockets.
    assert li.saw_presence(zhang.user, "joined")
    assert {host.user, li.user} <= {p["user"] for p in zhang.snapshots[0]["data"]["presence"]}
    start = host.snapshots[0]["version"]
    assert all(c.snapshots[0]["version"] == start for c in everyone)

    assert (await host.request({"type": "transition", "name": "open_check_in"}))["type"] == "ack"
    # At once, from both processes: the host on A verifies and posts notices, the 宁波 attendant on B
    # verifies 张, and 陈 and 张 on B write in the discussion.
    notices = ("请各位专家打开摄像头", "宁波分会场请出示身份证件", "核验完毕后进入声明环节")
    bursts = {
        host: [
            {"type": "verify", "member": m["li"]},
            {"type": "notice", "text": notices[0]},
            {"type": "verify", "member": m["liu"]},
            {"type": "notice", "text": notices[1], "venue": cast.ningbo.pk},
            {"type": "verify", "member": m["zhao_rep"]},
            {"type": "verify", "member": m["chen"]},
            {"type": "notice", "text": notices[2]},
        ],
        sun: [{"type": "verify", "member": m["zhang"]}],
        chen: [{"type": "chat", "text": "陈静已就位"}, {"type": "chat", "text": "温州分会场画面清晰"}],
        zhang: [{"type": "chat", "text": "张华已就位"}],
    }

    async def fire(client: RoomClient, frames: list[dict]) -> list[str]:
        return [await client.send(frame) for frame in frames]

    sent = dict(zip(bursts, await asyncio.gather(*(fire(c, f) for c, f in bursts.items())), strict=True))
    for client, refs in sent.items():
        await all_acked(client, refs)
    assert (await host.request({"type": "transition", "name": "open_declarations"}))["type"] == "ack"

    head, _ = await in_database(stage, host)
    assert head == start + 1 + 7 + 1 + 3 + 1
    await caught_up(everyone, head)
    for c in everyone:
        # Every version after the snapshot arrived once (hidden ones included), none is missing.
        assert sorted(v for v in c.arrivals if v > start) == list(range(start + 1, head + 1)), c.label
        assert [v for v, n in c.seen.items() if n > 1] == [], f"{c.label} got a version twice"
        assert not c.pending

    # A process commits its sockets' changes one after another and publishes each before the next:
    # what was done on A arrives in version order everywhere, and so does what was done on B. Between
    # the two the order may differ from the versions'; the clients reorder (checked above). Redis
    # delivers publishes in one order, so every socket, on either process, saw the same sequence.
    def done_on_b(frame: dict) -> bool:
        return frame["type"] == "chat.message" or frame["data"].get("member") == m["zhang"]

    done_on = {
        process: {f["version"] for f in host.applied if done_on_b(f) == (process == "B")} for process in ("A", "B")
    }
    assert len(done_on["A"]) == 9 and len(done_on["B"]) == 4
    for c in everyone:
        for process, versions in done_on.items():
            got = [v for v in c.arrivals if v in versions]
            assert got == sorted(got), f"{c.label} got what was done on {process} out of order: {got}"
    assert len({tuple(v for v in c.arrivals if v > start) for c in everyone}) == 1

    # What each socket made of the events is what was committed, as its persona is shown it.
    for c in everyone:
        assert c.model == (await in_database(stage, c))[1], c.label
    everything = RoomModel(Phase.DECLARATIONS, frozenset(m.values()), notices)
    assert host.model == zhang.model == everything
    assert li.model == chen.model == RoomModel(Phase.DECLARATIONS, frozenset(m.values()), (notices[0], notices[2]))
    assert sun.model == RoomModel(Phase.DECLARATIONS, frozenset({m["zhang"]}), notices)
    # In place of what a viewer may not see comes its version alone: 宁波's notice for li; the
    # other venues' four seats and the three chat lines for the attendant.
    assert [f["type"] for f in li.applied].count("hidden") == 1
    assert [f["type"] for f in sun.applied].count("hidden") == 4 + 3

    # Each process pings its sockets with the head version, so a lost last event would be noticed.
    await until(lambda: all(c.pings and c.pings[-1] == head for c in everyone), "every socket is pinged with the head")


async def test_when_a_process_is_killed_its_sockets_resync_on_the_other_without_losing_committed_state(stage, join):
    cast, m = stage.cast, stage.members
    host, li, zhang, chen, sun = everyone = await seat_everyone(stage, join)
    assert (await host.request({"type": "transition", "name": "open_check_in"}))["type"] == "ack"
    assert (await host.request({"type": "verify", "member": m["li"]}))["type"] == "ack"
    head, _ = await in_database(stage, host)
    await caught_up(everyone, head)

    stage.b.kill()
    killed_at = time.monotonic()
    await until(lambda: all(c.dropped.is_set() for c in (zhang, chen, sun)), "B's sockets dropped")
    behind = [c.version or 0 for c in (zhang, sun)]
    # While they are away, the host goes on on A.
    away = [
        {"type": "verify", "member": m["zhang"]},
        {"type": "verify", "member": m["chen"]},
        {"type": "notice", "text": "宁波分会场网络中断，请尽快重连", "venue": cast.ningbo.pk},
        {"type": "notice", "text": "其他分会场继续核验"},
    ]
    for frame in away:
        assert (await host.request(frame))["type"] == "ack"
    head, everything = await in_database(stage, host)
    assert everything.checked_in == {m["li"], m["zhang"], m["chen"]}
    assert all(version < head for version in behind)

    # 张 and 孙 reconnect to A and say which version they had: the snapshot every socket gets on
    # connecting is at the head, with everything committed meanwhile, so the hello is only acked.
    await zhang.connect(stage.a.port, hello=True)
    await sun.connect(stage.a.port, hello=True)
    for c in (zhang, sun):
        await snapshots_on_this_connection(c, 1)
        hello = c.hello_ref
        assert hello is not None
        await until(lambda c=c, hello=hello: hello in c.replies, f"{c.label}'s hello is answered")  # type: ignore[misc]
        assert c.replies[hello]["type"] == "ack", "the connect snapshot already brought the client up to date"
        assert c.snapshots[-1]["version"] == head
        resynced = RoomModel.from_snapshot(c.snapshots[-1]["data"])
        assert resynced == (await in_database(stage, c))[1], c.label
        assert m["zhang"] in resynced.checked_in and away[2]["text"] in resynced.notices, c.label

    # Live again on A: the next change reaches them after the snapshot, with no gap.
    assert (await host.request({"type": "notice", "text": "宁波分会场已恢复"}))["type"] == "ack"
    head, _ = await in_database(stage, host)
    live = (host, li, zhang, sun)
    await caught_up(live, head)
    for c in live:
        assert c.model == (await in_database(stage, c))[1], c.label
        assert [v for v, n in c.seen.items() if n > 1] == [], f"{c.label} got a version twice"

    # 陈 was only on B: once the heartbeat timeout has passed, A's sweep shows 陈 left, to A's own
    # sockets and to the ones that moved there. 张 and 孙 are not shown leaving: they are back.
    await until(
        lambda: all(c.saw_presence(chen.user, "left") for c in (host, li, zhang)),
        "A's sockets are told that chen left",
        HEARTBEAT_TIMEOUT_SECONDS + 5,
    )
    deadline = killed_at + HEARTBEAT_TIMEOUT_SECONDS + 5
    while await stored_connections(stage.redis, stage.session_id) != len(live):
        assert time.monotonic() < deadline, "B's expired connections are never swept"
        await asyncio.sleep(0.1)
    for c in (host, li):
        assert not c.saw_presence(zhang.user, "left") and not c.saw_presence(sun.user, "left"), c.label
        assert c.present() == {host.user, li.user, zhang.user, sun.user}, c.label
