"""Which media worker holds which room: a registry in Redis when ``REDIS_URL`` is set, in process
memory on the embedded default (one process, one worker).

All peers of a room must meet in one worker process to forward each other's packets, so a room is
*placed* on one worker and the placement is stored. Workers announce themselves with a heartbeat
that carries their channel-layer address and load and expires after ``RTC_WORKER_TTL_SECONDS``; a
worker whose heartbeat lapsed is dead, and its rooms are placed again on the next request. A
draining worker keeps the rooms it holds but takes no new ones.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Protocol

from django.conf import settings

# A placement is kept this long after the last request for the room; a live room asks often.
PLACEMENT_KEEP_SECONDS = 24 * 3600
# How much load one placed room adds until the worker's next heartbeat reports its real load, so
# rooms placed between two heartbeats spread over the workers instead of piling onto one.
PLACEMENT_WEIGHT = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """One live media worker as its last heartbeat described it."""

    id: str
    channel: str  # where requests for its rooms are sent (a channel-layer channel)
    load: float = 0.0  # the worker's own measure: forwarded streams, comparable between workers
    rooms: int = 0
    draining: bool = False

    def __post_init__(self) -> None:
        if not self.id or not self.channel:
            raise ValueError("a worker needs an id and a channel")
        if self.load < 0 or self.rooms < 0:
            raise ValueError("load and rooms cannot be negative")

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> WorkerInfo:
        return cls(**json.loads(raw))


def choose(workers: list[WorkerInfo], current: str | None) -> WorkerInfo | None:
    """Where a room goes: where it is, if that worker is alive (draining or not); else the live,
    non-draining worker with the least load (fewest rooms, then id, to break ties); else nowhere."""
    by_id = {w.id: w for w in workers}
    if current is not None and current in by_id:
        return by_id[current]
    open_workers = [w for w in workers if not w.draining]
    if not open_workers:
        return None
    return min(open_workers, key=lambda w: (w.load, w.rooms, w.id))


class Registry(Protocol):
    async def heartbeat(self, info: WorkerInfo) -> bool:
        """Announce ``info`` for the TTL; True when an operator asked this worker to drain."""
        ...

    async def workers(self) -> list[WorkerInfo]:
        """The live workers (heartbeat younger than the TTL)."""
        ...

    async def place(self, session_id: int) -> WorkerInfo | None:
        """The worker that holds the room, placing it first if need be; None if no worker can."""
        ...

    async def placement(self, session_id: int) -> str | None: ...

    async def release(self, session_id: int, worker_id: str) -> None:
        """The room emptied on ``worker_id``: forget its placement (if it is still there)."""
        ...

    async def request_drain(self, worker_id: str) -> None: ...

    async def forget(self, worker_id: str) -> None:
        """The worker is stopping: it is no longer live."""
        ...

    async def close(self) -> None: ...


def _ttl() -> float:
    return float(settings.RTC_WORKER_TTL_SECONDS)


class MemoryRegistry:
    """The embedded default: the one process's workers (normally one) in dictionaries."""

    def __init__(self) -> None:
        self._workers: dict[str, tuple[float, WorkerInfo]] = {}
        self._rooms: dict[int, str] = {}
        self._drain: set[str] = set()

    def clear(self) -> None:
        self._workers.clear()
        self._rooms.clear()
        self._drain.clear()

    async def heartbeat(self, info: WorkerInfo) -> bool:
        self._workers[info.id] = (time.monotonic() + _ttl(), info)
        return info.id in self._drain

    async def workers(self) -> list[WorkerInfo]:
        now = time.monotonic()
        for worker_id in [w for w, (until, _) in self._workers.items() if until <= now]:
            del self._workers[worker_id]
        return [info for _, info in self._workers.values()]

    async def place(self, session_id: int) -> WorkerInfo | None:
        chosen = choose(await self.workers(), self._rooms.get(session_id))
        if chosen is not None and self._rooms.get(session_id) != chosen.id:
            self._rooms[session_id] = chosen.id
            until, info = self._workers[chosen.id]
            self._workers[chosen.id] = (until, _weighted(info))
        return chosen

    async def placement(self, session_id: int) -> str | None:
        return self._rooms.get(session_id)

    async def release(self, session_id: int, worker_id: str) -> None:
        if self._rooms.get(session_id) == worker_id:
            del self._rooms[session_id]

    async def request_drain(self, worker_id: str) -> None:
        self._drain.add(worker_id)

    async def forget(self, worker_id: str) -> None:
        self._workers.pop(worker_id, None)
        self._drain.discard(worker_id)

    async def close(self) -> None:
        return None


def _weighted(info: WorkerInfo) -> WorkerInfo:
    return WorkerInfo(**{**asdict(info), "load": info.load + PLACEMENT_WEIGHT, "rooms": info.rooms + 1})


# Store the placement only if it is still what the caller read (nothing, or the dead worker it
# replaces): two web processes placing one room at once agree on the first one's choice.
_PLACE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return ARGV[2]
end
if current ~= false then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return current
"""

_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisRegistry:
    """Production: each worker's heartbeat is a key with a TTL (``eval:rtc:worker:<id>``), listed
    in a set; a room's placement is ``eval:rtc:room:<session id>``; a drain request is a key the
    worker reads on its next heartbeat."""

    WORKERS = "eval:rtc:workers"

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._place = self._redis.register_script(_PLACE_SCRIPT)
        self._release = self._redis.register_script(_RELEASE_SCRIPT)

    @staticmethod
    def _worker_key(worker_id: str) -> str:
        return f"eval:rtc:worker:{worker_id}"

    @staticmethod
    def _room_key(session_id: int) -> str:
        return f"eval:rtc:room:{session_id}"

    @staticmethod
    def _drain_key(worker_id: str) -> str:
        return f"eval:rtc:drain:{worker_id}"

    async def heartbeat(self, info: WorkerInfo) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._worker_key(info.id), info.to_json(), px=int(_ttl() * 1000))
            pipe.sadd(self.WORKERS, info.id)
            pipe.exists(self._drain_key(info.id))
            *_, drain = await pipe.execute()
        return bool(drain)

    async def workers(self) -> list[WorkerInfo]:
        ids = sorted(_text(m) for m in await self._redis.smembers(self.WORKERS))
        if not ids:
            return []
        raws = await self._redis.mget([self._worker_key(i) for i in ids])
        dead = [i for i, raw in zip(ids, raws, strict=True) if raw is None]
        if dead:
            await self._redis.srem(self.WORKERS, *dead)
        return [WorkerInfo.from_json(raw) for raw in raws if raw is not None]

    async def place(self, session_id: int) -> WorkerInfo | None:
        key = self._room_key(session_id)
        for _ in range(3):
            raw = await self._redis.get(key)
            current = _text(raw) if raw else None
            workers = await self.workers()
            chosen = choose(workers, current)
            if chosen is None:
                return None
            if chosen.id == current:
                await self._redis.expire(key, PLACEMENT_KEEP_SECONDS)
                return chosen
            stored = await self._place(keys=[key], args=[current or "", chosen.id, PLACEMENT_KEEP_SECONDS])
            if _text(stored) == chosen.id:
                await self._bump(chosen)
                return chosen
            # Another process placed the room meanwhile: take its choice if that worker lives.
        return None

    async def _bump(self, info: WorkerInfo) -> None:
        # The placed room counts on the chosen worker until its next heartbeat says its real load.
        # XX: never resurrect a heartbeat that expired meanwhile.
        await self._redis.set(self._worker_key(info.id), _weighted(info).to_json(), keepttl=True, xx=True)

    async def placement(self, session_id: int) -> str | None:
        raw = await self._redis.get(self._room_key(session_id))
        return _text(raw) if raw else None

    async def release(self, session_id: int, worker_id: str) -> None:
        # Only the worker's own placement is removed: an empty room re-placed elsewhere meanwhile stays.
        await self._release(keys=[self._room_key(session_id)], args=[worker_id])

    async def request_drain(self, worker_id: str) -> None:
        await self._redis.set(self._drain_key(worker_id), "1", ex=PLACEMENT_KEEP_SECONDS)

    async def forget(self, worker_id: str) -> None:
        await self._redis.delete(self._worker_key(worker_id), self._drain_key(worker_id))
        await self._redis.srem(self.WORKERS, worker_id)

    async def close(self) -> None:
        await self._redis.aclose()


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def make_registry() -> Registry:
    """A registry for one event loop (a Redis client belongs to the loop that made it)."""
    if settings.REDIS_URL:
        return RedisRegistry(settings.REDIS_URL)
    return MEMORY


# The embedded default's one registry for the whole process.
MEMORY = MemoryRegistry()
