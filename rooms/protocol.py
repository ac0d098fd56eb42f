"""The room's wire protocol: every frame a client may send, parsed by one validator, and the shapes
of the frames the server sends. ``docs/PROTOCOL.md`` documents the same messages.

Client frames are JSON objects with a ``type`` and, optionally, an ``id`` the server echoes as
``ref`` in its ``ack`` or ``error`` reply. Anything that does not validate becomes a
``ProtocolError`` carrying the error code and the offending id, never an exception past
``parse_client``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

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

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


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
    | RtcPin,
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
        "host.notice",
        "chat.message",
        "sealed.access_refused",
        "session.edited",
    }
)
# Room-only events: they change nothing in the database and carry no version.
EPHEMERAL_EVENTS: frozenset[str] = frozenset({"presence", "hand.raised", "hand.lowered", "typing"})
# Media frames (rtc/): the worker's answer and events, and the host's request; no version either.
MEDIA_EVENTS: frozenset[str] = frozenset(
    {
        "rtc.answer",
        "rtc.renegotiate",
        "rtc.tiles",
        "rtc.levels",
        "rtc.muted",
        "rtc.peer",
        "rtc.please_mute",
        "rtc.recording",
    }
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


def ack_frame(ref: str | None, version: int | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "ack", "ref": ref}
    if version is not None:
        frame["version"] = version
    return frame


def error_frame(code: str, message: str, ref: str | None = None) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message[:500], "ref": ref}


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)
