"""Who may open the room's socket: default deny, with a close code that says why."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async

from evaluation import actions
from evaluation.models import Lot
from rooms.consumers import Close

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_visitor_is_refused_as_unauthenticated(cast, join):
    socket = await join(None, cast.session.pk)
    assert await socket.closed_with() == Close.UNAUTHENTICATED


def seat_outsider_on_another_lot(cast) -> int:
    """A second lot's session, on which the outsider sits: a real expert, of another session."""
    lot = Lot.objects.create(
        project=cast.lot.project, code="BD02", name="安装标段", ceiling_price=Decimal("3000000.00")
    )
    other = actions.create_session(
        cast.host, lot, scheduled_start=datetime(2026, 12, 2, 1, 0, tzinfo=UTC), main_venue=cast.main
    )
    actions.do_add_member(other, cast.host, cast.outsider, venue=cast.main)
    return other.pk


async def test_expert_of_another_session_is_refused(cast, join):
    other = await database_sync_to_async(seat_outsider_on_another_lot)(cast)
    at_home = await join(cast.outsider, other)
    assert (await at_home.receive())["type"] == "snapshot"
    socket = await join(cast.outsider, cast.session.pk)
    assert await socket.closed_with() == Close.FORBIDDEN


async def test_spare_expert_not_seated_is_refused(cast, join):
    socket = await join(cast.qian, cast.session.pk)
    assert await socket.closed_with() == Close.FORBIDDEN


async def test_bidder_is_refused(cast, join):
    socket = await join(cast.bidder_a_user, cast.session.pk)
    assert await socket.closed_with() == Close.FORBIDDEN


async def test_recused_expert_is_refused(cast, join):
    chen = await database_sync_to_async(cast.member)(cast.chen)
    await database_sync_to_async(actions.do_recuse_member)(
        cast.session, cast.host, chen.pk, reason="近亲属任职于投标人"
    )
    socket = await join(cast.chen, cast.session.pk)
    assert await socket.closed_with() == Close.FORBIDDEN


async def test_missing_session_is_refused_as_not_found(cast, join):
    socket = await join(cast.li, cast.session.pk + 1000)
    assert await socket.closed_with() == Close.NOT_FOUND


async def test_host_without_the_second_factor_is_refused(cast, join, settings):
    settings.EVAL_REQUIRE_SECOND_FACTOR = True
    socket = await join(cast.host, cast.session.pk, second_factor=False)
    assert await socket.closed_with() == Close.SECOND_FACTOR


async def test_host_with_the_second_factor_is_admitted(cast, join, settings):
    settings.EVAL_REQUIRE_SECOND_FACTOR = True
    socket = await join(cast.host, cast.session.pk)
    assert (await socket.receive())["type"] == "snapshot"


async def test_socket_from_a_foreign_origin_is_rejected(cast, join):
    with pytest.raises(AssertionError, match="origin"):
        await join(cast.li, cast.session.pk, origin=b"https://evil.example")


@pytest.mark.parametrize("persona", ["li", "zhao", "sun", "wu", "zheng", "host"])
async def test_everyone_with_a_part_in_the_session_is_admitted(cast, join, persona):
    socket = await join(getattr(cast, persona), cast.session.pk)
    assert (await socket.receive())["type"] == "snapshot"
