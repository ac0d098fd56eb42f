"""Shared BIM viewing over the room socket: the presenter's viewpoint reaches the followers."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from bim_review.sharing import do_give_floor
from evaluation.models import Phase
from tests.bim.issue_support import HOUSE, SLAB, WALL, add_model, bid_of
from tests.personas import advance_to

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPOINT = {
    "camera": {
        "kind": "perspective",
        "position": [12.5, -8.25, 6.0],
        "direction": [-0.6, 0.7, -0.387],
        "up": [0.0, 0.0, 1.0],
        "field_of_view": 45.0,
        "aspect_ratio": 1.6,
    },
    "clipping_planes": [{"location": [0.0, 0.0, 2.5], "direction": [0.0, 0.0, 1.0]}],
    "selected": [WALL],
    "default_visibility": True,
    "hidden": [SLAB],
    "coloured": [{"color": "FF0000", "ids": [WALL]}],
}


@pytest.fixture
def reviewing(cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    model = add_model(bid_of(cast, cast.bidder_a.name), HOUSE)
    return cast, model


async def joined(join, user, session):
    socket = await join(user, session.pk)
    await socket.expect("snapshot")
    return socket


async def test_the_reviewer_s_viewpoint_reaches_the_experts_and_not_back_to_the_reviewer(reviewing, join):
    cast, model = reviewing
    wu, zhang = await joined(join, cast.wu, cast.session), await joined(join, cast.zhang, cast.session)
    frame = {"type": "view", "model": model.pk, "viewpoint": VIEWPOINT, "sent_at": 1_780_000_000_000.5}
    assert (await wu.request(frame))["type"] == "ack"
    view = await zhang.expect("bim.view")
    assert view["data"]["model"] == model.pk and view["data"]["name"] == "吴审查"
    assert view["data"]["viewpoint"]["selected"] == [WALL]
    assert view["data"]["viewpoint"]["clipping_planes"] == VIEWPOINT["clipping_planes"]
    assert view["data"]["sent_at"] == frame["sent_at"] and "version" not in view
    assert await wu.nothing()


async def test_an_expert_drives_the_view_only_while_holding_the_floor(reviewing, join):
    cast, model = reviewing
    zhang, li = await joined(join, cast.zhang, cast.session), await joined(join, cast.li, cast.session)
    frame = {"type": "view", "model": model.pk, "viewpoint": VIEWPOINT}
    refused = await zhang.request(frame)
    assert refused["type"] == "error" and refused["code"] == "forbidden"

    host = await joined(join, cast.host, cast.session)
    member = (await database_sync_to_async(cast.member)(cast.zhang)).pk
    assert (await host.request({"type": "floor", "member": member}))["type"] == "ack"
    floor = await zhang.expect("bim.floor")
    assert floor["data"]["member"] == member and isinstance(floor["version"], int)
    assert (await zhang.request(frame))["type"] == "ack"
    assert (await li.expect("bim.view"))["data"]["name"] == "张华"

    await database_sync_to_async(do_give_floor)(cast.session.pk, cast.host, None)
    await zhang.expect("bim.floor", member=None)
    assert (await zhang.request(frame))["code"] == "forbidden"


async def test_the_snapshot_names_who_holds_the_floor(reviewing, join):
    cast, _ = reviewing
    member = await database_sync_to_async(cast.member)(cast.chen)
    await database_sync_to_async(do_give_floor)(cast.session.pk, cast.host, member.pk)
    snapshot = await (await join(cast.li, cast.session.pk)).expect("snapshot")
    assert snapshot["data"]["floor"] == {"member": member.pk, "name": "陈静", "by": "wang_host"}


async def test_only_the_host_gives_the_floor_over_the_socket(reviewing, join):
    cast, _ = reviewing
    wu = await joined(join, cast.wu, cast.session)
    member = (await database_sync_to_async(cast.member)(cast.zhang)).pk
    assert (await wu.request({"type": "floor", "member": member}))["code"] == "forbidden"


async def test_a_model_of_another_lot_is_refused(reviewing, join):
    cast, model = reviewing
    wu = await joined(join, cast.wu, cast.session)
    refused = await wu.request({"type": "view", "model": model.pk + 1000, "viewpoint": VIEWPOINT})
    assert refused["type"] == "error" and refused["code"] == "refused"


async def test_a_malformed_viewpoint_gets_an_error_and_the_socket_stays(reviewing, join):
    cast, model = reviewing
    wu = await joined(join, cast.wu, cast.session)
    bad = {**VIEWPOINT, "selected": ["not a GlobalId"]}
    refused = await wu.request({"type": "view", "model": model.pk, "viewpoint": bad})
    assert refused["type"] == "error" and refused["code"] == "invalid"
    assert (await wu.request({"type": "view", "model": model.pk, "viewpoint": VIEWPOINT}))["type"] == "ack"


async def test_attendants_get_no_views_and_a_newcomer_s_sync_reaches_the_presenter(reviewing, join):
    cast, model = reviewing
    wu, sun = await joined(join, cast.wu, cast.session), await joined(join, cast.sun, cast.session)
    zhang = await joined(join, cast.zhang, cast.session)
    await zhang.send({"type": "view_sync", "id": "sync-1"})
    assert (await wu.expect("bim.view_sync"))["data"]["user"] == cast.zhang.pk
    await wu.request({"type": "view", "model": model.pk, "viewpoint": VIEWPOINT})
    await zhang.expect("bim.view")
    frames = []
    while not await sun.nothing(0.3):
        frames.append((await sun.receive())["type"])
    assert "bim.view" not in frames and "bim.view_sync" not in frames
