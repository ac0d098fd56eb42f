"""In CI the suite runs on the production engines: PostgreSQL and Redis, both really answering.

Outside CI the embedded default (SQLite, in-memory channel layer) is fine and these tests skip;
in CI (CI=true) a missing engine fails them (``require_service``).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers, get_channel_layer
from django.conf import settings
from django.db import connection

from tests.conftest import require_service


def test_the_database_is_postgresql_in_ci():
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        f"the default database is {connection.vendor}; set DATABASE_URL",
    )


@pytest.mark.django_db
def test_postgresql_answers_a_query():
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    assert version.startswith("PostgreSQL")


def test_the_channel_layer_is_channels_redis_in_ci():
    layer = get_channel_layer()
    backend = f"{type(layer).__module__}.{type(layer).__name__}"
    require_service("the Redis channel layer", backend.startswith("channels_redis."), f"it is {backend}; set REDIS_URL")


async def redis_answers_ping() -> tuple[bool, str]:
    import redis.asyncio as aioredis

    client = aioredis.from_url(settings.REDIS_URL, socket_connect_timeout=3)
    try:
        return bool(await client.ping()), ""
    except (OSError, aioredis.RedisError) as exc:
        return False, f"{settings.REDIS_URL} does not answer: {exc}"
    finally:
        await client.aclose()


async def test_redis_carries_a_message_and_a_group_message_through_the_channel_layer():
    # A layer of its own, made from the same settings: the shared one may hold connections that
    # other tests opened on event loops that have ended since.
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    require_service("the Redis channel layer", type(layer).__module__.startswith("channels_redis."), "set REDIS_URL")
    answered, why = await redis_answers_ping()
    require_service("Redis", answered, why)
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "ci.ping", "n": 1})
        assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "ci.ping", "n": 1}

        # The core broadcasts to session groups (evaluation/events.py): a group send must arrive too.
        group = f"ci.{uuid.uuid4().hex}"
        await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "ci.group", "n": 2})
        assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "ci.group", "n": 2}
        await layer.group_discard(group, channel)
    finally:
        # channels_redis keeps a connection pool per event loop; this test's loop ends with the test.
        if hasattr(layer, "close_pools"):
            await layer.close_pools()
