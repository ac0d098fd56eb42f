"""Bad frames get an error frame and the socket stays usable; only a client that keeps abusing is cut off."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from evaluation import actions
from evaluation.models import AuditEvent, EvaluationSession
from rooms.consumers import Close

pytestmark = pytest.mark.django_db(transaction=True)


async def head_version(cast) -> int:
    return (await EvaluationSession.objects.aget(pk=cast.session.pk)).audit_seq


MALFORMED = {
    "not JSON": ("{type: hello", "not_json", None),
    "not an object": ("[1, 2]", "invalid", None),
    "wrong type": ('{"type": "chat", "text": 5, "id": "m1"}', "invalid", "m1"),
    "missing field": ('{"type": "vote", "id": "m2"}', "invalid", "m2"),
    "wrong field type": ('{"type": "hand", "raised": "yes", "id": "m3"}', "invalid", "m3"),
    "extra field": ('{"type": "heartbeat", "admin": true, "id": "m4"}', "invalid", "m4"),
    "type not a string": ('{"type": 7}', "invalid", None),
    "too long a text": ('{"type": "chat", "text": "' + "评" * 2001 + '", "id": "m5"}', "invalid", "m5"),
    "oversize": ('{"type": "chat", "text": "' + "x" * 9000 + '", "id": "m6"}', "too_large", None),
    "unknown type": ('{"type": "delete_everything", "id": "m7"}', "unknown_type", "m7"),
}


@pytest.mark.parametrize("kind", MALFORMED)
async def test_each_malformed_frame_gets_an_error_frame_and_the_socket_still_works(cast, join, kind):
    raw, code, ref = MALFORMED[kind]
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    await li.send(raw)
    error = await li.expect("error")
    assert error["code"] == code and error["ref"] == ref and error["message"]
    await li.send({"type": "resync"})
    assert (await li.expect("snapshot"))["type"] == "snapshot"


async def test_binary_frames_are_validated_like_text(cast, join):
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    await li.communicator.send_to(bytes_data=b"\xff\xfe")
    assert (await li.expect("error"))["code"] == "not_json"


async def test_too_many_messages_get_a_rate_limit_error_and_the_socket_stays(cast, join, settings):
    settings.ROOM_RATE_PER_SECOND, settings.ROOM_RATE_BURST, settings.ROOM_ABUSE_LIMIT = 1, 3, 10
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    for _ in range(5):
        await li.send({"type": "heartbeat"})
    errors = [await li.expect("error") for _ in range(2)]
    assert {e["code"] for e in errors} == {"rate_limited"}
    await asyncio.sleep(1.1)
    await li.send({"type": "resync"})
    assert (await li.expect("snapshot"))["type"] == "snapshot"


async def test_a_client_that_keeps_abusing_the_limits_is_disconnected(cast, join, settings):
    settings.ROOM_ABUSE_LIMIT = 3
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    for _ in range(4):
        await li.send("not json")
    assert await li.closed_with() == Close.ABUSE


async def test_a_frame_that_fails_validation_never_reaches_the_room(cast, join):
    await database_sync_to_async(actions.do_transition)(cast.session, cast.host, "open_check_in")
    zhang = await join(cast.zhang, cast.session.pk)
    await zhang.expect("snapshot")
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    await zhang.expect("presence", name="李明", state="joined")
    for raw in MALFORMED.values():
        await li.send(raw[0])
    await li.send({"type": "typing", "by": "someone else"})
    await li.send({"type": "chat", "text": "   "})
    for _ in range(len(MALFORMED) + 2):
        assert (await li.expect("error"))["type"] == "error"
    assert await zhang.nothing(0.5), "an invalid frame reached another member"
    assert await head_version(cast) == (await li.request({"type": "hello"}))["version"]


def take_the_next_audit_number(cast) -> AuditEvent:
    """Another writer takes the next sequence number behind the head's back: the next audited
    action fails in the database (a unique constraint), as a real fault would."""
    session = cast.refresh()
    return AuditEvent.objects.create(
        session=session, seq=session.audit_seq + 1, actor_name="intruder", kind="intruder", at=session.created_at
    )


async def test_a_server_fault_answers_with_an_internal_error_and_the_socket_stays(cast, join):
    await database_sync_to_async(actions.do_transition)(cast.session, cast.host, "open_check_in")
    li = await join(cast.li, cast.session.pk)
    await li.expect("snapshot")
    before = await head_version(cast)
    await database_sync_to_async(take_the_next_audit_number)(cast)
    reply = await li.request({"type": "chat", "text": "甲单位资质是否齐全？"})
    assert reply["type"] == "error" and reply["code"] == "internal"
    assert await head_version(cast) == before, "the failed action left nothing behind"
    await li.send({"type": "resync"})
    assert (await li.expect("snapshot"))["version"] == before
