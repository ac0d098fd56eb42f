"""The messages between the web processes and the media workers, over the channel layer.

A web process sends a *request* to the worker that holds the room (``rtc/registry.py``) and waits
for the *reply* on its own channel. The channel layer delivers at most once, so every request has
an id (``rid``): the sender repeats a request that was not answered in time with the same id, and
the worker answers a repeated id from its memory instead of doing the work twice.

The worker parses every request with the models here: a malformed one gets an error reply, and the
worker carries on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

MAX_SDP = 64 * 1024
MAX_CANDIDATE = 1024

Rid = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ChannelName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-zA-Z\d\-_.]+(![\w\-_.]*)?$")]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-zA-Z\d\-_.]+$")]
Participant = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Short = Annotated[str, StringConstraints(max_length=200)]
SessionId = Annotated[int, Field(ge=1, le=2**53)]


class ErrorCode:
    """The ``code`` of an error reply; the room passes it on in its ``error`` frame."""

    INVALID = "invalid"  # a malformed request or SDP
    FORBIDDEN = "forbidden"  # e.g. a receive-only participant offered to send
    CONFLICT = "conflict"  # out of order: a candidate before any offer, say
    UNAVAILABLE = "unavailable"  # no live worker answered in time
    INTERNAL = "internal"


class MediaError(Exception):
    """A media request that failed, with the code and reason the room shows the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Display(BaseModel):
    """How a participant's tile is labelled."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    user: Annotated[int, Field(ge=1)]
    name: Short
    venue: Short = ""
    role: Short = ""


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    type: Literal["rtc.request"]
    rid: Rid
    reply_to: ChannelName
    session: SessionId
    # The room's channel-layer group: the worker sends the room's media events there.
    group: GroupName


class Offer(_Request):
    """The browser's offer (first or renegotiated); the reply's ``data`` holds the ``sdp`` answer."""

    op: Literal["offer"]
    participant: Participant
    sdp: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SDP)]
    can_publish: bool
    display: Display


class Candidate(_Request):
    """A browser ICE candidate (trickled); an empty ``candidate`` ends the list."""

    op: Literal["candidate"]
    participant: Participant
    candidate: Annotated[str, StringConstraints(max_length=MAX_CANDIDATE)]
    sdp_mid: Annotated[str, StringConstraints(max_length=32)] | None = None
    sdp_mline_index: Annotated[int, Field(ge=0, le=255)] | None = None


class Leave(_Request):
    op: Literal["leave"]
    participant: Participant


class Pin(_Request):
    """Pin ``participant``'s tile for everyone (``None``: unpin)."""

    op: Literal["pin"]
    participant: Participant | None


class Mute(_Request):
    op: Literal["mute"]
    participant: Participant
    audio_muted: bool
    video_muted: bool


Request = Annotated[Offer | Candidate | Leave | Pin | Mute, Field(discriminator="op")]
_request_adapter: TypeAdapter[Request] = TypeAdapter(Request)


def parse_request(message: dict[str, Any]) -> Request:
    """A request from the channel layer, or ``MediaError`` (invalid)."""
    try:
        return _request_adapter.validate_python(message)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise MediaError(ErrorCode.INVALID, f"{where}: {first['msg']}") from None


def request(rid: str, reply_to: str, session: int, group: str, op: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "rtc.request",
        "rid": rid,
        "reply_to": reply_to,
        "session": session,
        "group": group,
        "op": op,
        **fields,
    }


def reply_ok(rid: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "rtc.reply", "rid": rid, "ok": True, "data": data or {}}


def reply_error(rid: str, error: MediaError) -> dict[str, Any]:
    return {"type": "rtc.reply", "rid": rid, "ok": False, "code": error.code, "message": error.message[:500]}
