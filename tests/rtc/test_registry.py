"""The media-worker registry: rooms go to the least-loaded live worker and stay there; a worker whose
heartbeat lapses is dead and its rooms move; a draining worker keeps its rooms and takes no new ones.
Run on the in-memory registry and on real Redis (required in CI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from django.conf import settings

from rtc.registry import MemoryRegistry, RedisRegistry, Registry, WorkerInfo, choose
from tests.conftest import require_service


async def _redis_registry() -> Registry:
    from redis.asyncio import Redis

    url = settings.REDIS_URL
    require_service("Redis", bool(url), "set REDIS_URL")
    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        keys = [key async for key in client.scan_iter("eval:rtc:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
    return RedisRegistry(url)


@pytest.fixture(params=["memory", "redis"])
async def registry(request, settings) -> AsyncIterator[Registry]:
    settings.RTC_WORKER_TTL_SECONDS = 1
    made: Registry = MemoryRegistry() if request.param == "memory" else await _redis_registry()
    yield made
    await made.close()


def worker(worker_id: str, load: float = 0, *, draining: bool = False) -> WorkerInfo:
    return WorkerInfo(id=worker_id, channel=f"rtc.worker.{worker_id}", load=load, draining=draining)


async def test_a_room_goes_to_the_least_loaded_live_worker_and_stays_there(registry):
    await registry.heartbeat(worker("a", load=5))
    await registry.heartbeat(worker("b", load=1))
    placed = await registry.place(7)
    assert placed is not None and placed.id == "b"
    assert await registry.placement(7) == "b"
    # b's load rises above a's: the room stays where its peers are.
    await registry.heartbeat(worker("b", load=9))
    again = await registry.place(7)
    assert again is not None and again.id == "b"


async def test_rooms_placed_between_heartbeats_spread_over_the_workers(registry):
    await registry.heartbeat(worker("a"))
    await registry.heartbeat(worker("b"))
    placed = [await registry.place(room) for room in (1, 2, 3, 4)]
    assert sorted(w.id for w in placed if w) == ["a", "a", "b", "b"]


async def test_with_no_live_worker_a_room_cannot_be_placed(registry):
    assert await registry.place(1) is None
    assert await registry.workers() == []


async def test_a_worker_whose_heartbeat_lapsed_is_dead_and_its_rooms_move(registry):
    await registry.heartbeat(worker("a"))
    placed = await registry.place(3)
    assert placed is not None and placed.id == "a"
    await asyncio.sleep(1.2)  # the TTL is 1 s
    assert await registry.workers() == []
    await registry.heartbeat(worker("b"))
    moved = await registry.place(3)
    assert moved is not None and moved.id == "b"
    assert await registry.placement(3) == "b"


async def test_a_draining_worker_keeps_its_rooms_but_takes_no_new_ones(registry):
    await registry.heartbeat(worker("a"))
    assert (await registry.place(1)).id == "a"
    await registry.request_drain("a")
    assert await registry.heartbeat(worker("a", draining=True)) is True
    await registry.heartbeat(worker("b", load=50))
    assert (await registry.place(1)).id == "a"
    assert (await registry.place(2)).id == "b"
    await registry.forget("b")
    assert await registry.place(3) is None


async def test_a_released_room_is_placed_afresh_and_a_stale_release_changes_nothing(registry):
    await registry.heartbeat(worker("a"))
    await registry.place(1)
    await registry.release(1, "other")
    assert await registry.placement(1) == "a"
    await registry.release(1, "a")
    assert await registry.placement(1) is None


def test_choice_prefers_the_current_worker_then_load_then_rooms():
    a, b = worker("a", load=2), worker("b", load=2)
    assert choose([a, b], None) == a
    assert choose([a, b], "b") == b
    assert choose([a, b], "gone") == a
    assert choose([worker("a", draining=True)], None) is None
    assert choose([worker("a", draining=True)], "a") is not None


def test_a_worker_needs_an_id_a_channel_and_no_negative_load():
    with pytest.raises(ValueError):
        WorkerInfo(id="", channel="x")
    with pytest.raises(ValueError):
        WorkerInfo(id="a", channel="x", load=-1)
