"""Who is connected to a room, and whose hand is up: in Redis with a TTL when ``REDIS_URL`` is set
(every web process sees the same roll), in process memory on the embedded default.

Presence is kept per connection (a member may have two tabs open) and shown per user. A connection
counts while its heartbeat is younger than ``ROOM_HEARTBEAT_TIMEOUT_SECONDS``; the web processes that
hold sockets of the session sweep expired connections, and the one whose removal succeeds announces
that the user left, so a killed process's members are shown disconnected once their time runs out.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from django.conf import settings


@dataclass(frozen=True)
class Connection:
    """One socket in the room: who holds it, from which venue, and whether its page is active."""

    conn: str
    user: int
    name: str
    venue: int | None
    roles: tuple[str, ...]
    member: int | None = None
    state: str = "active"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Connection:
        data = json.loads(raw)
        data["roles"] = tuple(data.get("roles", ()))
        return cls(**data)


def roll(connections: list[Connection]) -> list[dict[str, Any]]:
    """The room's roll, one entry per user: active if any of their connections is active."""
    users: dict[int, dict[str, Any]] = {}
    for c in connections:
        entry = users.setdefault(
            c.user,
            {
                "user": c.user,
                "name": c.name,
                "venue": c.venue,
                "member": c.member,
                "roles": list(c.roles),
                "state": "idle",
                "connections": 0,
            },
        )
        entry["connections"] += 1
        if c.state == "active":
            entry["state"] = "active"
    return sorted(users.values(), key=lambda e: (e["venue"] or 0, e["name"], e["user"]))


class PresenceStore(Protocol):
    async def touch(self, session_id: int, connection: Connection) -> bool:
        """Keep ``connection`` alive for the timeout; True if it was not (or no longer) in the room."""
        ...

    async def leave(self, session_id: int, conn: str) -> Connection | None: ...

    async def sweep(self, session_id: int) -> list[Connection]: ...

    async def connections(self, session_id: int) -> list[Connection]: ...

    async def set_hand(self, session_id: int, user: int, raised: bool) -> bool: ...

    async def hands(self, session_id: int) -> dict[int, float]: ...

    async def close(self) -> None: ...


def _ttl() -> float:
    return float(settings.ROOM_HEARTBEAT_TIMEOUT_SECONDS)


class MemoryPresence:
    """The embedded default: one process, so one dictionary is the whole truth."""

    def __init__(self) -> None:
        self._conns: dict[int, dict[str, tuple[float, Connection]]] = {}
        self._hands: dict[int, dict[int, float]] = {}

    def clear(self) -> None:
        """Forget every room (tests: session ids repeat between cases on SQLite)."""
        self._conns.clear()
        self._hands.clear()

    async def touch(self, session_id: int, connection: Connection) -> bool:
        conns = self._conns.setdefault(session_id, {})
        new = connection.conn not in conns
        conns[connection.conn] = (time.time() + _ttl(), connection)
        return new

    async def leave(self, session_id: int, conn: str) -> Connection | None:
        entry = self._conns.get(session_id, {}).pop(conn, None)
        return entry[1] if entry else None

    async def sweep(self, session_id: int) -> list[Connection]:
        now = time.time()
        conns = self._conns.get(session_id, {})
        expired = [conn for conn, (until, _) in conns.items() if until <= now]
        return [conns.pop(conn)[1] for conn in expired]

    async def connections(self, session_id: int) -> list[Connection]:
        now = time.time()
        return [c for until, c in self._conns.get(session_id, {}).values() if until > now]

    async def set_hand(self, session_id: int, user: int, raised: bool) -> bool:
        hands = self._hands.setdefault(session_id, {})
        if raised:
            changed = user not in hands
            hands.setdefault(user, time.time())
            return changed
        return hands.pop(user, None) is not None

    async def hands(self, session_id: int) -> dict[int, float]:
        return dict(self._hands.get(session_id, {}))

    async def close(self) -> None:
        return None


class RedisPresence:
    """Production: a sorted set of connections scored by expiry, their details in a hash, per session.

    Keys expire a day after the last heartbeat, so an abandoned room leaves nothing behind.
    """

    KEEP_SECONDS = 24 * 3600

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)

    @staticmethod
    def _keys(session_id: int) -> tuple[str, str, str]:
        base = f"eval:room:{session_id}"
        return f"{base}:conns", f"{base}:info", f"{base}:hands"

    async def touch(self, session_id: int, connection: Connection) -> bool:
        conns, info, _ = self._keys(session_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(conns, {connection.conn: time.time() + _ttl()})
            pipe.hset(info, connection.conn, connection.to_json())
            pipe.expire(conns, self.KEEP_SECONDS)
            pipe.expire(info, self.KEEP_SECONDS)
            added, *_ = await pipe.execute()
        # ZADD counts the members it added: 1 when the sweep had removed this connection.
        return bool(added)

    async def _remove(self, session_id: int, conn: str) -> Connection | None:
        conns, info, _ = self._keys(session_id)
        raw = await self._redis.hget(info, conn)
        # ZREM answers 1 to exactly one caller: only that one announces the departure.
        if not await self._redis.zrem(conns, conn):
            return None
        await self._redis.hdel(info, conn)
        return Connection.from_json(raw) if raw else None

    async def leave(self, session_id: int, conn: str) -> Connection | None:
        return await self._remove(session_id, conn)

    async def sweep(self, session_id: int) -> list[Connection]:
        conns, _, _ = self._keys(session_id)
        expired: list[bytes] = await self._redis.zrangebyscore(conns, "-inf", time.time())  # type: ignore[assignment]
        gone = []
        for conn in expired:
            removed = await self._remove(session_id, conn.decode())
            if removed is not None:
                gone.append(removed)
        return gone

    async def connections(self, session_id: int) -> list[Connection]:
        conns, info, _ = self._keys(session_id)
        live: list[bytes] = await self._redis.zrangebyscore(conns, f"({time.time()}", "+inf")  # type: ignore[assignment]
        if not live:
            return []
        raws = await self._redis.hmget(info, live)
        return [Connection.from_json(raw) for raw in raws if raw]

    async def set_hand(self, session_id: int, user: int, raised: bool) -> bool:
        _, _, hands = self._keys(session_id)
        if raised:
            changed = bool(await self._redis.hsetnx(hands, str(user), str(time.time())))
            await self._redis.expire(hands, self.KEEP_SECONDS)
            return changed
        return bool(await self._redis.hdel(hands, str(user)))

    async def hands(self, session_id: int) -> dict[int, float]:
        _, _, hands = self._keys(session_id)
        raw = await self._redis.hgetall(hands)
        return {int(k): float(v) for k, v in raw.items()}

    async def close(self) -> None:
        await self._redis.aclose()


def make_store() -> PresenceStore:
    """A store for one event loop (a Redis client belongs to the loop that made it)."""
    if settings.REDIS_URL:
        return RedisPresence(settings.REDIS_URL)
    return _MEMORY


# The embedded default's one roll for the whole process.
_MEMORY = MemoryPresence()
