"""The room's wire protocol: every frame a client may send, parsed by one validator, and the shapes
of the frames the server sends. ``docs/PROTOCOL.md`` documents the same messages.

Client frames are JSON objects with a ``type`` and, optionally, an ``id`` the server echoes as
``ref`` in its ``ack`` or ``error`` reply. Anything that does not validate becomes a
``ProtocolError`` carrying the error code and the offending id, never an exception past
``parse_client``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, TypeAdapter, ValidationError

from bim_review.protocol import Viewpoint

# --- limits -------------------------------------------------------------------------------------

MAX_ID = 64
MAX_TEXT = 2000
MAX_REASON = 2000
MAX_NAME = 64

MessageId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, strip_whitespace=True)]
Reason = Annotated[str, StringConstraints(max_length=MAX_REASON, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, pattern=r"^[a-z_]+$")]
PositiveId = Annotated[int, Field(ge=1, le=2**53)]
# Media signalling (rtc/): an SDP offer is far larger than any other frame.
MAX_SDP = 64 * 1024
MAX_CANDIDATE = 1024
LARGE_FRAME_BYTES = MAX_SDP + 1024
LARGE_FRAME_TYPES = frozenset({"rtc.offer"})
CellVersion = Annotated[int, Field(ge=0, le=2**53)]
MAX_SCORE_TEXT = 12
_SCORE_TEXT = re.compile(r"-?[0-9]{1,6}(\.[0-9]{1,4})?")


def _score_value(value: object) -> Decimal:
    """A score as the sheet sends it: decimal text ("7.5"), never a float, so no binary rounding."""
    if not isinstance(value, str) or len(value) > MAX_SCORE_TEXT or not _SCORE_TEXT.fullmatch(value.strip()):
        raise ValueError("not a number: write a decimal such as 7.5")
    return Decimal(value.strip())


ScoreValue = Annotated[Decimal, PlainValidator(_score_value)]


class ErrorCode:
    """The ``code`` of an ``error`` frame."""

    NOT_JSON = "not_json"
    INVALID = "invalid"  # a known type whose fields do not validate
    UNKNOWN_TYPE = "unknown_type"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    FORBIDDEN = "forbidden"  # the core refused: wrong role
    REFUSED = "refused"  # the core refused: wrong phase, unmet precondition
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"  # the media server did not answer in time: try again
    INTERNAL = "internal"


class ProtocolError(Exception):
    """A client frame that cannot be accepted; the consumer turns it into an ``error`` frame."""

    def __init__(self, code: str, message: str, ref: str | None = None, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.data = data


# --- client → server ----------------------------------------------------------------------------


class _Client(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    id: MessageId | None = None


class Hello(_Client):
    """Sent after (re)connecting: the last version the client applied, to resume or resync."""

    type: Literal["hello"]
    last_version: Annotated[int, Field(ge=0)] | None = None


class Resync(_Client):
    """Ask for a fresh snapshot (the client noticed a gap it cannot fill)."""

    type: Literal["resync"]


class Heartbeat(_Client):
    type: Literal["heartbeat"]


class PresenceState(_Client):
    """The client's own liveness: ``idle`` when the page is hidden or untouched for a while."""

    type: Literal["presence"]
    state: Literal["active", "idle"]


class Hand(_Client):
    type: Literal["hand"]
    raised: bool


class Typing(_Client):
    type: Literal["typing"]


class Chat(_Client):
    """A line of committee discussion; every one is kept in the session's audit trail."""

    type: Literal["chat"]
    text: Text


class Notice(_Client):
    """The host's notice to the whole room, or to one venue."""

    type: Literal["notice"]
    text: Text
    venue: PositiveId | None = None


class DoTransition(_Client):
    """Move the phase by a named transition of ``evaluation/phases.py`` (advance, suspend, resume,
    seal, roll back...); who may make which is the core's table."""

    type: Literal["transition"]
    name: Name
    reason: Reason = ""


class Verify(_Client):
    """The identity check of a member (ID card and face on video), by the host or their venue's attendant."""

    type: Literal["verify"]
    member: PositiveId
    note: Reason = ""


class Remove(_Client):
    type: Literal["remove"]
    member: PositiveId
    reason: Text


class Readmit(_Client):
    type: Literal["readmit"]
    member: PositiveId
    reason: Text


class Declare(_Client):
    type: Literal["declare"]
    kind: Literal["recusal", "integrity"]
    grounds: Annotated[list[Name], Field(max_length=10)] = []
    details: Reason = ""


class Vote(_Client):
    """A secret ballot for a candidate (a member id), or blank (``null``)."""

    type: Literal["vote"]
    candidate: PositiveId | None


class RtcOffer(_Client):
    """The browser's SDP offer: to join the room's media, or again when its streams change. The
    browser is always the offerer; the server answers with ``rtc.answer``."""

    type: Literal["rtc.offer"]
    sdp: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SDP)]


class RtcCandidate(_Client):
    """One of the browser's ICE candidates, trickled after its offer; an empty one ends the list."""

    type: Literal["rtc.candidate"]
    candidate: Annotated[str, StringConstraints(max_length=MAX_CANDIDATE)]
    sdp_mid: Annotated[str, StringConstraints(max_length=32)] | None = None
    sdp_mline_index: Annotated[int, Field(ge=0, le=255)] | None = None


class RtcLeave(_Client):
    """The browser hangs up (the page closes): its streams end at once, not at ICE timeout."""

    type: Literal["rtc.leave"]


class RtcMute(_Client):
    """The sender's own microphone and camera state, shown on their tile and recorded."""

    type: Literal["rtc.mute"]
    audio_muted: bool
    video_muted: bool


class RtcPleaseMute(_Client):
    """The host asks a participant to turn their microphone off."""

    type: Literal["rtc.please_mute"]
    user: PositiveId


class RtcPin(_Client):
    """The host pins a participant's video for everyone (``null``: unpin)."""

    type: Literal["rtc.pin"]
    user: PositiveId | None


class View(_Client):
    """The presenter's view of one BIM model, as viewpoint JSON (bim_review/protocol.py ``Viewpoint``), for
    everyone following. ``sent_at`` is the sender's clock (ms), passed on untouched to measure delay."""

    type: Literal["view"]
    model: PositiveId
    viewpoint: Viewpoint
    sent_at: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class ViewSync(_Client):
    """A follower who just arrived asks whoever presents to send their view again."""

    type: Literal["view_sync"]


class Floor(_Client):
    """The host gives a seated member the floor in the shared BIM view, or takes it back (``null``)."""

    type: Literal["floor"]
    member: PositiveId | None


# --- the scoring sheet (scoring/actions.py) ------------------------------------------------------


class ScoreSet(_Client):
    """Save one cell of the expert's own sheet. ``base`` is the cell's version the page last saw (0 for
    a cell never saved): a write from a stale page is refused, so another tab's value is never lost
    unseen. ``value`` null clears the cell."""

    type: Literal["score.set"]
    bid: PositiveId
    criterion: PositiveId
    value: ScoreValue | None
    base: CellVersion


BidKey = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,15}$")]


class SheetSubmit(_Client):
    """The expert hands in their sheet; it is read-only to them afterwards. ``totals`` (bid id →
    the total of the typed cells the page showed) is kept for the arithmetic check."""

    type: Literal["sheet.submit"]
    totals: Annotated[dict[BidKey, ScoreValue], Field(max_length=500)] | None = None


class SheetRecheck(_Client):
    """The leader asks a member to re-check their submitted sheet, which opens it to them again."""

    type: Literal["sheet.recheck"]
    member: PositiveId
    reason: Text


class PrelimMark(_Client):
    """A member's preliminary-review mark on one criterion of one bid; a fail needs a reason."""

    type: Literal["prelim.mark"]
    bid: PositiveId
    criterion: PositiveId
    passed: bool
    reason: Reason = ""


class PrelimConclude(_Client):
    """The leader records the committee's conclusion on a bid (``null``: on every bid whose marks are
    complete): unanimous, or the majority with each dissent kept."""

    type: Literal["prelim.conclude"]
    bid: PositiveId | None = None


class DeviationConfirm(_Client):
    """The expert answers a deviation warning on their own cell with a written reason: keeps the
    value (``value`` null) or changes it."""

    type: Literal["deviation.confirm"]
    bid: PositiveId
    criterion: PositiveId
    reason: Text
    value: ScoreValue | None = None
    base: CellVersion


class ScoreCorrect(_Client):
    """After the summary: the expert changes their own score for one of the four reasons of Order 87
    Art. 64, with an explanation."""

    type: Literal["score.correct"]
    bid: PositiveId
    criterion: PositiveId
    value: ScoreValue
    reason: Literal["arithmetic", "out_of_range", "objective_differs", "abnormal"]
    explanation: Text
    base: CellVersion


ClientMessage = Annotated[
    Hello
    | Resync
    | Heartbeat
    | PresenceState
    | Hand
    | Typing
    | Chat
    | Notice
    | DoTransition
    | Verify
    | Remove
    | Readmit
    | Declare
    | Vote
    | RtcOffer
    | RtcCandidate
    | RtcLeave
    | RtcMute
    | RtcPleaseMute
    | RtcPin
    | View
    | ViewSync
    | Floor
    | ScoreSet
    | SheetSubmit
    | SheetRecheck
    | PrelimMark
    | PrelimConclude
    | DeviationConfirm
    | ScoreCorrect,
    Field(discriminator="type"),
]
CLIENT_TYPES: tuple[str, ...] = (
    "hello",
    "resync",
    "heartbeat",
    "presence",
    "hand",
    "typing",
    "chat",
    "notice",
    "transition",
    "verify",
    "remove",
    "readmit",
    "declare",
    "vote",
    "rtc.offer",
    "rtc.candidate",
    "rtc.leave",
    "rtc.mute",
    "rtc.please_mute",
    "rtc.pin",
    "view",
    "view_sync",
    "floor",
    "score.set",
    "sheet.submit",
    "sheet.recheck",
    "prelim.mark",
    "prelim.conclude",
    "deviation.confirm",
    "score.correct",
)
_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in err["loc"][1:]) or "message"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_client(raw: str | bytes | None, *, max_bytes: int) -> ClientMessage:
    """One client frame → its typed message, or ``ProtocolError`` (never anything else)."""
    if raw is None:
        raise ProtocolError(ErrorCode.INVALID, "empty frame")
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    too_large = ProtocolError(ErrorCode.TOO_LARGE, f"frame of {size} bytes exceeds the limit of {max_bytes}")
    if size > max(max_bytes, LARGE_FRAME_BYTES):
        raise too_large
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise (too_large if size > max_bytes else ProtocolError(ErrorCode.NOT_JSON, "the frame is not JSON")) from None
    if size > max_bytes and not (isinstance(data, dict) and data.get("type") in LARGE_FRAME_TYPES):
        # Only an SDP offer may be larger than the room's frame limit.
        raise too_large
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.INVALID, "a frame must be a JSON object")
    ref = data.get("id")
    ref = ref if isinstance(ref, str) and 0 < len(ref) <= MAX_ID else None
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.INVALID, "type: a string is required", ref)
    if kind not in CLIENT_TYPES:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {kind[:MAX_NAME]!r}", ref)
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.INVALID, _describe(exc), ref) from None


# --- server → client ----------------------------------------------------------------------------
# The server builds its frames with these functions, so each shape is written once.

# Core events (evaluation/actions.py) forwarded as they are, each with the version it produced.
VERSIONED_EVENTS: frozenset[str] = frozenset(
    {
        "phase.changed",
        "member.checked_in",
        "member.recused",
        "member.removed",
        "member.readmitted",
        "member.added",
        "declaration.made",
        "election.round_opened",
        "election.round_closed",
        "vote.cast",
        "leader.elected",
        "assignment.added",
        "cosign.requested",
        "opening.imported",
        "re_evaluation.created",
        "bim.model_attached",
        "host.notice",
        "chat.message",
        "sealed.access_refused",
        "session.edited",
        "bim.floor",
        # BIM issues (bim_review/actions.py).
        "bim.topic_created",
        "bim.topic_changed",
        "bim.comment_added",
        "bim.viewpoint_saved",
        "bim.bcf_imported",
        # scoring (scoring/actions.py)
        "scoring.scheme_copied",
        "scoring.float_drawn",
        "preliminary.progress",
        "preliminary.concluded",
        "price.corrected",
        "price.policy_set",
        "price.low_explained",
        "scoring.progress",
        "sheet.submitted",
        "sheet.recheck_requested",
        "score.deviation_confirmed",
        "score.corrected",
        # the host's request to one participant to mute (rooms/media.py)
        "rtc.please_mute",
    }
)
# Room-only events: they change nothing in the database and carry no version.
# Media frames (rtc/): the worker's answer and events; no version either.
MEDIA_EVENTS: frozenset[str] = frozenset(
    {
        "rtc.answer",
        "rtc.renegotiate",
        "rtc.tiles",
        "rtc.levels",
        "rtc.muted",
        "rtc.peer",
        "rtc.recording",
    }
)
EPHEMERAL_EVENTS: frozenset[str] = frozenset(
    {"presence", "hand.raised", "hand.lowered", "typing", "bim.progress", "bim.view", "bim.view_sync"}
)


def snapshot_frame(version: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "snapshot", "version": version, "data": data}


def event_frame(
    event_type: str, data: dict[str, Any], *, version: int | None = None, ref: str | None = None
) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": event_type, "data": data}
    if version is not None:
        frame["version"] = version
    if ref is not None:
        frame["ref"] = ref
    return frame


def ping_frame(version: int) -> dict[str, Any]:
    return {"type": "ping", "version": version}


def ack_frame(ref: str | None, version: int | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "ack", "ref": ref}
    if version is not None:
        frame["version"] = version
    if data is not None:
        frame["data"] = data
    return frame


def error_frame(code: str, message: str, ref: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message[:500], "ref": ref}
    if data is not None:
        frame["data"] = data
    return frame


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)
