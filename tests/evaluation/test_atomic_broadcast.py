"""A change and its audit event are one transaction, and the room hears of it only after commit."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction

from evaluation import actions
from evaluation.events import session_group
from evaluation.models import AuditEvent, Phase
from tests.personas import advance_to, build_cast

pytestmark = pytest.mark.django_db(transaction=True)


class Listener:
    """A channel on the real channel layer, joined to the session's group like a room socket.

    It lives on one event loop in its own thread, as a consumer lives on daphne's loop: the Redis
    layer binds a channel's receive buffer to the loop that first used it.
    """

    def __init__(self, session_id: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.layer = get_channel_layer()
        self.group = session_group(session_id)
        self.channel = self._run(self.layer.new_channel())
        self._run(self.layer.group_add(self.group, self.channel))
        # One receive that is never cancelled, as the room's hub does: the pub/sub layer forgets a
        # channel whose receive is cancelled, so a timeout must wait on a queue, not on the layer.
        self.inbox: asyncio.Queue[dict] = self._run(self._make_inbox())
        self.reader = asyncio.run_coroutine_threadsafe(self._read(), self.loop)

    async def _make_inbox(self) -> asyncio.Queue[dict]:
        return asyncio.Queue()

    async def _read(self) -> None:
        while True:
            self.inbox.put_nowait(await self.layer.receive(self.channel))

    def _run(self, coro, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def receive(self, timeout: float = 1.0) -> dict | None:
        async def get() -> dict | None:
            try:
                return await asyncio.wait_for(self.inbox.get(), timeout)
            except TimeoutError:
                return None

        return self._run(get(), timeout + 5)

    def drain(self) -> list[dict]:
        messages = []
        while (message := self.receive(0.3)) is not None:
            messages.append(message)
        return messages

    def close(self) -> None:
        self.reader.cancel()
        self._run(self.layer.group_discard(self.group, self.channel))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def listener_cast():
    cast = build_cast()
    listener = Listener(cast.session.pk)
    listener.drain()
    yield cast, listener
    listener.close()


def test_the_phase_change_is_broadcast_only_after_the_transaction_commits(listener_cast):
    cast, listener = listener_cast
    with transaction.atomic():
        actions.do_transition(cast.session, cast.host, "open_check_in")
        assert listener.receive(0.3) is None, "broadcast before commit"
    message = listener.receive()
    assert message is not None
    assert message["type"] == "phase.changed"
    assert message["data"]["to"] == "check_in"
    assert message["version"] == cast.refresh().audit_seq


def test_a_change_rolled_back_with_its_surrounding_transaction_is_never_broadcast(listener_cast):
    cast, listener = listener_cast

    def change_then_fail() -> None:
        with transaction.atomic():
            actions.do_transition(cast.session, cast.host, "open_check_in")
            raise RuntimeError("the caller failed after the action")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert cast.refresh().phase == Phase.SCHEDULED
    assert listener.receive(0.3) is None


def test_a_failed_audit_write_leaves_neither_the_phase_change_nor_the_event(listener_cast):
    cast, listener = listener_cast
    session = cast.refresh()
    head_seq, head = session.audit_seq, session.audit_head
    # Another writer took the next sequence number behind the head's back: the event's insert fails.
    AuditEvent.objects.create(
        session=session,
        seq=head_seq + 1,
        actor=cast.host,
        actor_name="x",
        kind="intruder",
        payload={},
        at=session.created_at,
        prev_hash=head,
        hash="0" * 64,
    )
    with pytest.raises(IntegrityError):
        actions.do_transition(session, cast.host, "open_check_in")
    session = cast.refresh()
    assert session.phase == Phase.SCHEDULED
    assert (session.audit_seq, session.audit_head) == (head_seq, head)
    assert not AuditEvent.objects.filter(session=session, kind="phase.changed").exists()
    assert listener.receive(0.3) is None


def test_every_event_of_a_step_carries_the_version_it_produced_in_order(listener_cast):
    cast, listener = listener_cast
    advance_to(cast, Phase.LEADER_ELECTION)
    versions = [m["version"] for m in listener.drain()]
    assert versions == sorted(versions)
    assert versions[-1] == cast.refresh().audit_seq
