"""Who is in the room: joined, idle and left per venue, and disconnected once the heartbeat stops."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_member_who_closes_the_page_is_shown_as_left(cast, join):
    li, zhang = await join(cast.li, cast.session.pk), await join(cast.zhang, cast.session.pk)
    await li.expect("snapshot"), await zhang.expect("snapshot")
    await zhang.close()
    left = await li.expect("presence", name="张华", state="left")
    assert left["data"]["venue"] == cast.ningbo.pk


async def test_a_second_tab_does_not_make_the_member_leave_when_one_closes(cast, join):
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    tab1, tab2 = await join(cast.zhang, cast.session.pk), await join(cast.zhang, cast.session.pk)
    await tab1.expect("snapshot"), await tab2.expect("snapshot")
    await li.expect("presence", name="张华", state="joined")
    await tab1.close()
    assert await li.nothing(0.5)


async def test_member_whose_heartbeat_stops_is_shown_disconnected_after_the_timeout(cast, join, settings):
    settings.ROOM_HEARTBEAT_TIMEOUT_SECONDS = 1
    host, zhang = await join(cast.host, cast.session.pk), await join(cast.zhang, cast.session.pk)
    await host.expect("snapshot"), await zhang.expect("snapshot")
    # zhang's socket stays open but sends nothing, as when a network path dies silently.
    left = await host.expect("presence", timeout=4, name="张华", state="left")
    assert left["data"]["venue"] == cast.ningbo.pk
    await zhang.send({"type": "heartbeat"})
    assert (await host.expect("presence", name="张华"))["data"]["state"] == "joined"


async def test_idle_and_active_reach_the_others(cast, join):
    host, chen = await join(cast.host, cast.session.pk), await join(cast.chen, cast.session.pk)
    await host.expect("snapshot"), await chen.expect("snapshot")
    await host.expect("presence", name="陈静", state="joined")
    await chen.send({"type": "presence", "state": "idle"})
    assert (await host.expect("presence", name="陈静"))["data"]["state"] == "idle"
    await host.send({"type": "resync"})
    roll = {p["name"]: p["state"] for p in (await host.expect("snapshot"))["data"]["presence"]}
    assert roll == {"陈静": "idle", "王主持": "active"}
    await chen.send({"type": "presence", "state": "active"})
    assert (await host.expect("presence", name="陈静"))["data"]["state"] == "active"


async def test_host_sees_a_venue_by_venue_roll(cast, join):
    sockets = [await join(u, cast.session.pk) for u in (cast.li, cast.zhang, cast.chen)]
    for socket in sockets:
        await socket.expect("snapshot")
    host = await join(cast.host, cast.session.pk)
    roll = (await host.expect("snapshot"))["data"]["presence"]
    by_venue: dict[int, list[str]] = {}
    for entry in roll:
        by_venue.setdefault(entry["venue"], []).append(entry["name"])
    assert by_venue == {cast.main.pk: ["李明", "王主持"], cast.ningbo.pk: ["张华"], cast.wenzhou.pk: ["陈静"]}


async def test_a_member_is_idle_only_when_every_tab_is(cast, join):
    host = await join(cast.host, cast.session.pk)
    await host.expect("snapshot")
    tab1, tab2 = await join(cast.chen, cast.session.pk), await join(cast.chen, cast.session.pk)
    await tab1.expect("snapshot"), await tab2.expect("snapshot")
    await tab1.send({"type": "presence", "state": "idle"})
    assert (await host.expect("presence", name="陈静", state="active"))["data"]["state"] == "active"
    await tab2.send({"type": "presence", "state": "idle"})
    assert (await host.expect("presence", name="陈静", state="idle"))["data"]["state"] == "idle"
