"""The live room: one WebSocket per participant at ``/ws/sessions/<id>/``.

The consumer only translates: it admits the user (role in the session, second factor), sends the
snapshot, validates each frame (``rooms/protocol.py``), calls one action of ``evaluation/actions.py``
and replies with an ``ack`` or an ``error`` frame. Changes reach every socket through the channel
layer after commit; the session's hub (``rooms/hub.py``) hands them to this consumer, whose method
named after the event's type decides what its viewer gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import translation
from django.utils.translation import get_supported_language_variant, gettext
from django.utils.translation.trans_real import parse_accept_lang_header

from bim_review import actions as bim_actions
from bim_review import sharing
from evaluation import actions
from evaluation.exceptions import Refused
from evaluation.middleware import needs_second_factor, second_factor_passed
from rooms import media, protocol, snapshot
from rooms.hub import Frame, SessionHub, attach, detach, presence_data
from rooms.presence import Connection, roll
from rooms.protocol import ErrorCode, ProtocolError
from rooms.snapshot import Viewer
from scoring import actions as scoring
from scoring.actions import SavedScore, StaleScore

log = logging.getLogger(__name__)


class Close:
    """Close codes of the room (4000–4999 are the application's)."""

    UNAUTHENTICATED = 4401
    SECOND_FACTOR = 4402
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    REMOVED = 4409
    ABUSE = 4429


REFUSAL_CODES = {
    "forbidden": ErrorCode.FORBIDDEN,
    "conflict": ErrorCode.CONFLICT,
    "stale": ErrorCode.CONFLICT,
}
ABUSE_WINDOW_SECONDS = 10.0


class RateLimiter:
    """A token bucket per connection, and a count of recent violations of any limit."""

    def __init__(self, rate: float, burst: int, abuse_limit: int) -> None:
        self.rate, self.burst, self.abuse_limit = rate, burst, abuse_limit
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.strikes: list[float] = []

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def strike(self) -> bool:
        """Count a violation; True once the client has kept abusing the limits."""
        now = time.monotonic()
        self.strikes = [t for t in self.strikes if now - t < ABUSE_WINDOW_SECONDS]
        self.strikes.append(now)
        return len(self.strikes) > self.abuse_limit


def _admission(user: Any, login_session: Any, session_id: int) -> Viewer | int:
    """The viewer this socket is for, or the close code that refuses it."""
    if user is None or not user.is_authenticated:
        return Close.UNAUTHENTICATED
    if needs_second_factor(user) and not second_factor_passed(user, login_session):
        return Close.SECOND_FACTOR
    try:
        return snapshot.admit(user, session_id)
    except Refused as refusal:
        return Close.NOT_FOUND if refusal.code == "not_found" else Close.FORBIDDEN


def language_of(scope: dict[str, Any]) -> str:
    """The page's language for the snapshot's texts: the language cookie, else Accept-Language."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    chosen = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME)
    candidates = [chosen] if chosen else []
    candidates += [lang for lang, _ in parse_accept_lang_header(headers.get("accept-language", "")) if lang != "*"]
    for candidate in candidates:
        try:
            return get_supported_language_variant(candidate)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _fresh_user(user_id: int) -> User:
    # Each action reads the user again: a role taken away while connected is taken away at once.
    return User.objects.get(pk=user_id)


def _run(session_id: int, user_id: int, language: str, call: Callable[[User], object]) -> tuple[int, object]:
    """Run one action for the user, in the page's language (a refusal's reason comes in it), and
    return the version it produced with the action's result. The action and the read of the head
    share one transaction: the action's lock on the session row is held until then, so another
    process cannot slip in between."""
    with translation.override(language), transaction.atomic():
        result = call(_fresh_user(user_id))
        return snapshot.head_version(session_id), result


def _refusal_data(refusal: Refused) -> dict[str, Any] | None:
    """What a refused tab needs besides the reason: a stale cell's current value and version."""
    if isinstance(refusal, StaleScore):
        return {"cell": {"value": refusal.value, "version": refusal.version}}
    return None


def _cell(saved: SavedScore, bid: int, criterion: int) -> dict[str, Any]:
    return {"cell": {"bid": bid, "criterion": criterion, "value": saved.value, "version": saved.version}}


PROGRESS_FIELDS = ("member", "filled", "total", "submitted")


def _counts_text(frame: Frame) -> str:
    """The progress event as everyone but its expert sees it, encoded once for all their sockets."""
    cached: str | None = frame.__dict__.get("counts_text")
    if cached is None:
        data = {key: frame.data[key] for key in PROGRESS_FIELDS if key in frame.data}
        cached = protocol.encode(protocol.event_frame(frame.type, data, version=frame.version))
        frame.__dict__["counts_text"] = cached
    return cached


class RoomConsumer(AsyncWebsocketConsumer):
    # The hub, not each socket, reads the channel layer: no layer channel per consumer.
    channel_layer_alias = "__room_sockets_have_no_layer_channel__"

    session_id: int
    viewer: Viewer
    hub: SessionHub | None = None
    snapshot_version: int | None = None
    # Events that reach a new socket while its first snapshot is built: sent after it, so the
    # snapshot is always the first frame (those the snapshot already covers are dropped).
    held: list[Frame] | None = None
    connection: Connection
    media_joined = False  # this socket offered media: its close may end them (media.leave_later)
    # The shared BIM view: who holds the floor (read once, then kept by ``bim.floor`` events) and
    # the models this room may show (read again when a presenter names one not yet known).
    floor: dict[str, Any] | None = None
    floor_known = False
    room_models: frozenset[int] = frozenset()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first closes stale database connections, a thread-pool hop for every
        # frame; here every handler that touches the database goes through database_sync_to_async,
        # which does that in its own thread, so frames without database work skip the hop.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    # --- connecting -----------------------------------------------------------------------------

    async def connect(self) -> None:
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        self.closed = False
        self.language = language_of(self.scope)
        await self.accept()
        code = await self._admit()
        if code is not None:
            await self.close(code=code)
            self.closed = True
            return
        self.limiter = RateLimiter(settings.ROOM_RATE_PER_SECOND, settings.ROOM_RATE_BURST, settings.ROOM_ABUSE_LIMIT)
        self.connection = Connection(
            conn=uuid.uuid4().hex,
            user=self.viewer.user,
            name=self.viewer.name,
            venue=self.viewer.venue,
            roles=tuple(sorted(r.value for r in self.viewer.roles)),
            member=self.viewer.member,
        )
        self.held = []
        self.hub = await attach(self, self.session_id)
        already_here = any(c.user == self.viewer.user for c in await self.hub.store.connections(self.session_id))
        await self.hub.store.touch(self.session_id, self.connection)
        await self.send_snapshot()
        held, self.held = self.held, None
        for frame in held:
            if frame.version is None or self.snapshot_version is None or frame.version > self.snapshot_version:
                await self.on_event(frame)
        if not already_here:
            await self.hub.publish("presence", presence_data(self.connection, "joined"))

    async def _admit(self) -> int | None:
        admission = await database_sync_to_async(_admission)(
            self.scope.get("user"), self.scope.get("session"), self.session_id
        )
        if isinstance(admission, int):
            return admission
        self.viewer = admission
        return None

    async def disconnect(self, code: int) -> None:
        if self.hub is None:
            return
        hub, self.hub = self.hub, None
        if self.media_joined:
            media.leave_later(self.session_id, self.viewer)
        try:
            gone = await hub.store.leave(self.session_id, self.connection.conn)
            if gone is not None:
                await hub.announce_left(gone)
        finally:
            await detach(self, hub)

    # --- frames from the client -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.hub is None:
            return
        raw = text_data if text_data is not None else bytes_data
        message: protocol.ClientMessage | None = None
        try:
            if not self.limiter.allow():
                raise ProtocolError(ErrorCode.RATE_LIMITED, gettext("too many messages: slow down"))
            message = protocol.parse_client(raw, max_bytes=settings.ROOM_MAX_FRAME_BYTES)
            handler = getattr(self, f"on_{message.type.replace('.', '_')}")
            await handler(message)
        except ProtocolError as exc:
            await self.send_frame(protocol.error_frame(exc.code, exc.message, exc.ref, exc.data))
            if self.limiter.strike():
                await self._close(Close.ABUSE)
        except Exception:
            # A fault of ours (the database gone away, say) is the client's error frame too, and the
            # socket stays: the action's transaction rolled back, so nothing was half-done.
            log.exception("room frame failed in session %s", self.session_id)
            ref = message.id if message is not None else None
            await self.send_frame(
                protocol.error_frame(ErrorCode.INTERNAL, gettext("the server failed on this request"), ref)
            )

    async def _act(
        self, message: Any, call: Callable[[User], object], reply: Callable[[Any], dict[str, Any]] | None = None
    ) -> None:
        """Run one action of the core for this user; ack with the version it produced (and what
        ``reply`` makes of the action's result), or an error."""
        try:
            version, result = await database_sync_to_async(_run)(self.session_id, self.viewer.user, self.language, call)
        except Refused as refusal:
            raise ProtocolError(
                REFUSAL_CODES.get(refusal.code, ErrorCode.REFUSED), refusal.reason, message.id, _refusal_data(refusal)
            ) from None
        await self.send_frame(protocol.ack_frame(message.id, version, reply(result) if reply else None))

    async def on_hello(self, message: protocol.Hello) -> None:
        head = await database_sync_to_async(snapshot.head_version)(self.session_id)
        # The snapshot sent on connect is ahead of this frame on the wire: if it is at the head,
        # the client is about to be up to date, and a second snapshot would be wasted.
        if message.last_version == head or self.snapshot_version == head:
            await self.send_frame(protocol.ack_frame(message.id, head))
        else:
            await self.send_snapshot()

    async def on_resync(self, message: protocol.Resync) -> None:
        await self.send_snapshot()

    async def on_heartbeat(self, message: protocol.Heartbeat) -> None:
        assert self.hub is not None
        if await self.hub.store.touch(self.session_id, self.connection):
            # The heartbeat came back after the timeout had shown this user disconnected.
            await self.hub.publish("presence", presence_data(self.connection, "joined"))

    async def on_presence(self, message: protocol.PresenceState) -> None:
        assert self.hub is not None
        if message.state == self.connection.state:
            return
        self.connection = Connection(**{**self.connection.__dict__, "state": message.state})
        await self.hub.store.touch(self.session_id, self.connection)
        # The user is idle only when every one of their tabs is.
        mine = [c for c in await self.hub.store.connections(self.session_id) if c.user == self.viewer.user]
        state = "active" if any(c.state == "active" for c in mine) else "idle"
        await self.hub.publish("presence", presence_data(self.connection, state))

    async def on_hand(self, message: protocol.Hand) -> None:
        assert self.hub is not None
        if await self.hub.store.set_hand(self.session_id, self.viewer.user, message.raised):
            event = "hand.raised" if message.raised else "hand.lowered"
            data = {"user": self.viewer.user, "name": self.viewer.name, "venue": self.viewer.venue, "at": time.time()}
            await self.hub.publish(event, data, ref=message.id)
        await self.send_frame(protocol.ack_frame(message.id))

    async def on_typing(self, message: protocol.Typing) -> None:
        assert self.hub is not None
        if self.viewer.member is None:
            raise ProtocolError(
                ErrorCode.FORBIDDEN, gettext("only committee members write in the discussion"), message.id
            )
        data = {"user": self.viewer.user, "member": self.viewer.member, "venue": self.viewer.venue}
        await self.hub.publish("typing", data, ref=message.id)

    async def on_chat(self, message: protocol.Chat) -> None:
        await self._act(message, lambda user: actions.do_post_chat(self.session_id, user, message.text))

    async def on_notice(self, message: protocol.Notice) -> None:
        await self._act(
            message, lambda user: actions.do_post_notice(self.session_id, user, message.text, venue_id=message.venue)
        )

    async def on_transition(self, message: protocol.DoTransition) -> None:
        await self._act(
            message, lambda user: actions.do_transition(self.session_id, user, message.name, reason=message.reason)
        )

    async def on_verify(self, message: protocol.Verify) -> None:
        await self._act(
            message, lambda user: actions.do_verify_member(self.session_id, user, message.member, note=message.note)
        )

    async def on_remove(self, message: protocol.Remove) -> None:
        await self._act(
            message,
            lambda user: actions.do_remove_member(self.session_id, user, message.member, reason=message.reason),
        )

    async def on_readmit(self, message: protocol.Readmit) -> None:
        await self._act(
            message,
            lambda user: actions.do_readmit_member(self.session_id, user, message.member, reason=message.reason),
        )

    async def on_declare(self, message: protocol.Declare) -> None:
        await self._act(
            message,
            lambda user: actions.do_declare(
                self.session_id, user, message.kind, grounds=message.grounds, details=message.details
            ),
        )

    async def on_vote(self, message: protocol.Vote) -> None:
        await self._act(message, lambda user: actions.do_cast_vote(self.session_id, user, message.candidate))

    # --- media: signalling relayed to the room's media worker (rooms/media.py) ------------------

    async def on_rtc_offer(self, message: protocol.RtcOffer) -> None:
        answer = await media.offer(self.session_id, self.viewer, message)
        self.media_joined = True
        await self.send_frame(protocol.event_frame("rtc.answer", answer, ref=message.id))

    async def on_rtc_candidate(self, message: protocol.RtcCandidate) -> None:
        await media.candidate(self.session_id, self.viewer, message)
        await self.send_frame(protocol.ack_frame(message.id))

    async def on_rtc_leave(self, message: protocol.RtcLeave) -> None:
        await media.leave(self.session_id, self.viewer, message.id)
        await self.send_frame(protocol.ack_frame(message.id))

    async def on_rtc_mute(self, message: protocol.RtcMute) -> None:
        await media.mute(self.session_id, self.viewer, message)
        await self.send_frame(protocol.ack_frame(message.id))

    async def on_rtc_pin(self, message: protocol.RtcPin) -> None:
        await media.pin(self.session_id, self.viewer, message.id, message.user)
        await self.send_frame(protocol.ack_frame(message.id))

    async def on_rtc_please_mute(self, message: protocol.RtcPleaseMute) -> None:
        await self._act(message, lambda user: media.do_ask_to_mute(self.session_id, user, message.user))

    async def on_floor(self, message: protocol.Floor) -> None:
        await self._act(message, lambda user: sharing.do_give_floor(self.session_id, user, message.member))

    async def on_view(self, message: protocol.View) -> None:
        assert self.hub is not None
        if not self.floor_known:
            self.floor = await database_sync_to_async(sharing.current_floor)(self.session_id)
            self.floor_known = True
        if not sharing.may_present(self.viewer.roles, self.viewer.member, self.floor):
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                gettext("only the presenter or the expert given the floor drives the view"),
                message.id,
            )
        if message.model not in self.room_models:
            self.room_models = await database_sync_to_async(sharing.session_model_ids)(self.session_id)
            if message.model not in self.room_models:
                raise ProtocolError(ErrorCode.REFUSED, gettext("no such model in this session"), message.id)
        data = {
            "user": self.viewer.user,
            "name": self.viewer.name,
            "model": message.model,
            "viewpoint": message.viewpoint.model_dump(exclude_none=True),
            "sent_at": message.sent_at,
        }
        await self.hub.publish("bim.view", data, ref=message.id, origin=self.connection.conn)
        await self.send_frame(protocol.ack_frame(message.id))

    async def on_view_sync(self, message: protocol.ViewSync) -> None:
        assert self.hub is not None
        await self.hub.publish("bim.view_sync", {"user": self.viewer.user}, ref=message.id)

    # --- the scoring sheet (scoring/actions.py) ------------------------------------------------

    async def on_score_set(self, message: protocol.ScoreSet) -> None:
        await self._act(
            message,
            lambda user: scoring.do_save_score(
                self.session_id, user, message.bid, message.criterion, message.value, base_version=message.base
            ),
            lambda saved: _cell(saved, message.bid, message.criterion),
        )

    async def on_sheet_submit(self, message: protocol.SheetSubmit) -> None:
        totals = {int(bid): total for bid, total in message.totals.items()} if message.totals else None
        await self._act(message, lambda user: scoring.do_submit_sheet(self.session_id, user, declared_totals=totals))

    async def on_sheet_recheck(self, message: protocol.SheetRecheck) -> None:
        await self._act(
            message,
            lambda user: scoring.do_request_recheck(self.session_id, user, message.member, reason=message.reason),
        )

    async def on_prelim_mark(self, message: protocol.PrelimMark) -> None:
        await self._act(
            message,
            lambda user: scoring.do_mark_preliminary(
                self.session_id, user, message.bid, message.criterion, message.passed, reason=message.reason
            ),
        )

    async def on_prelim_conclude(self, message: protocol.PrelimConclude) -> None:
        await self._act(message, lambda user: scoring.do_conclude_preliminary(self.session_id, user, message.bid))

    async def on_deviation_confirm(self, message: protocol.DeviationConfirm) -> None:
        await self._act(
            message,
            lambda user: scoring.do_confirm_deviation(
                self.session_id,
                user,
                message.bid,
                message.criterion,
                reason=message.reason,
                value=message.value,
                base_version=message.base,
            ),
            lambda saved: _cell(saved, message.bid, message.criterion),
        )

    async def on_score_correct(self, message: protocol.ScoreCorrect) -> None:
        await self._act(
            message,
            lambda user: scoring.do_correct_score(
                self.session_id,
                user,
                message.bid,
                message.criterion,
                message.value,
                reason=message.reason,
                explanation=message.explanation,
                base_version=message.base,
            ),
        )

    # --- frames to the client -------------------------------------------------------------------

    async def send_text(self, text: str) -> None:
        if not self.closed:
            await self.send(text_data=text)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send_text(protocol.encode(frame))

    async def send_snapshot(self) -> None:
        assert self.hub is not None
        user = self.scope["user"]
        version, data = await database_sync_to_async(snapshot.build)(user, self.session_id, self.viewer, self.language)
        connections = await self.hub.store.connections(self.session_id)
        hands = await self.hub.store.hands(self.session_id)
        data["presence"] = [p for p in roll(connections) if self._sees_presence(p)]
        data["hands"] = [{"user": u, "at": at} for u, at in sorted(hands.items(), key=lambda kv: kv[1])]
        await self.send_frame(protocol.snapshot_frame(version, data))
        self.snapshot_version = version

    async def _close(self, code: int) -> None:
        if not self.closed:
            await self.close(code=code)
            self.closed = True

    # --- events from the hub: one method per type -----------------------------------------------

    async def on_event(self, frame: Frame) -> None:
        if self.closed:
            return
        if self.held is not None:
            self.held.append(frame)
            return
        handler = getattr(self, frame.type.replace(".", "_"), None)
        if handler is not None:
            await handler(frame)
        elif frame.type in protocol.VERSIONED_EVENTS or frame.type in protocol.EPHEMERAL_EVENTS:
            await self.send_text(frame.text)
        else:
            log.warning("room event of unknown type %r dropped", frame.type)

    async def _seat_event(self, frame: Frame) -> None:
        """An event about one seat: only for viewers who see that seat's venue."""
        await self.send_text(frame.text if self.viewer.sees_venue(frame.data.get("venue")) else frame.hidden_text)

    async def _leave_if_mine(self, frame: Frame, code: int) -> None:
        await self._seat_event(frame)
        if self.viewer.member is not None and frame.data.get("member") == self.viewer.member:
            await self._close(code)
            # Out of the room is out of its media too, at once; in the background, as the hub
            # waits for this method before it hands the event to the next socket.
            self.media_leaving = asyncio.create_task(self._leave_media())

    async def _leave_media(self) -> None:
        with contextlib.suppress(ProtocolError):
            await media.leave(self.session_id, self.viewer)

    member_checked_in = _seat_event
    member_added = _seat_event
    member_readmitted = _seat_event
    declaration_made = _seat_event

    async def member_removed(self, frame: Frame) -> None:
        await self._leave_if_mine(frame, Close.REMOVED)

    async def member_recused(self, frame: Frame) -> None:
        await self._leave_if_mine(frame, Close.FORBIDDEN)

    async def host_notice(self, frame: Frame) -> None:
        await self.send_text(frame.text if self.viewer.addressed_by(frame.data.get("venue")) else frame.hidden_text)

    async def chat_message(self, frame: Frame) -> None:
        await self.send_text(frame.text if self.viewer.reads_chat else frame.hidden_text)

    async def sealed_access_refused(self, frame: Frame) -> None:
        # An alert for those who watch the audit trail; the others only learn the version.
        await self.send_text(frame.text if self.viewer.reads_audit else frame.hidden_text)

    async def vote_cast(self, frame: Frame) -> None:
        await self.send_text(frame.text if self.viewer.whole_committee else frame.hidden_text)

    async def typing(self, frame: Frame) -> None:
        if self.viewer.reads_chat:
            await self.send_text(frame.text)

    async def presence(self, frame: Frame) -> None:
        if self._sees_presence(frame.data):
            await self.send_text(frame.text)

    def _sees_presence(self, data: dict[str, Any]) -> bool:
        # Supervisors watch unseen (DESIGN.md §1): only the host and other supervisors see them.
        if data.get("roles") == ["supervisor"] and not self.viewer.reads_audit:
            return False
        return self.viewer.sees_venue(data.get("venue"))

    async def hand_raised(self, frame: Frame) -> None:
        if self.viewer.sees_venue(frame.data.get("venue")):
            await self.send_text(frame.text)

    hand_lowered = hand_raised

    async def _media_event(self, frame: Frame) -> None:
        # Media events of the room's worker, and the host's request to one participant.
        if media.addressed_to(self.viewer, frame.data):
            await self.send_text(frame.text)

    rtc_renegotiate = _media_event
    rtc_tiles = _media_event
    rtc_levels = _media_event
    rtc_muted = _media_event
    rtc_peer = _media_event

    async def rtc_please_mute(self, frame: Frame) -> None:
        # The host's audited request: to the one participant asked; the others learn the version.
        await self.send_text(frame.text if media.addressed_to(self.viewer, frame.data) else frame.hidden_text)

    async def rtc_recording(self, frame: Frame) -> None:
        # The recording's manifest entries: for those who watch the audit trail.
        if self.viewer.reads_audit:
            await self.send_text(frame.text)

    async def bim_view(self, frame: Frame) -> None:
        # Not back to the presenter's own socket; not to those who may not see models (attendants).
        if frame.message.get("origin") != self.connection.conn and self.viewer.roles & sharing.VIEWER_ROLES:
            await self.send_text(frame.text)

    async def bim_view_sync(self, frame: Frame) -> None:
        if self.viewer.roles & sharing.VIEWER_ROLES:
            await self.send_text(frame.text)

    async def bim_issue(self, frame: Frame) -> None:
        # Issues are for those who read them (bim_review.actions.READERS); the others only learn the version.
        await self.send_text(frame.text if self.viewer.roles & bim_actions.READERS else frame.hidden_text)

    bim_topic_created = bim_topic_changed = bim_comment_added = bim_viewpoint_saved = bim_bcf_imported = bim_issue

    async def bim_floor(self, frame: Frame) -> None:
        self.floor = frame.data if frame.data.get("member") is not None else None
        self.floor_known = True
        await self.send_text(frame.text)

    async def scoring_progress(self, frame: Frame) -> None:
        """A saved cell: the expert's own tabs learn which cell moved to which version (another tab
        then reloads it); everyone else gets the counts alone, never a value or a cell."""
        if self.viewer.member is not None and frame.data.get("member") == self.viewer.member:
            await self.send_text(frame.text)
        else:
            await self.send_text(_counts_text(frame))

    score_deviation_confirmed = scoring_progress

    async def _committee_event(self, frame: Frame) -> None:
        """Evaluation data the committee works on (prices under review, corrections after the
        summary): for the committee, the host and the supervisor; an attendant gets the version."""
        await self.send_text(frame.text if self.viewer.whole_committee else frame.hidden_text)

    price_corrected = _committee_event
    price_policy_set = _committee_event
    price_low_explained = _committee_event
    score_corrected = _committee_event
