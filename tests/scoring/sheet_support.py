"""Helpers of the sheet's consumer tests: a member's room socket, the frame of a save, what is stored."""

from __future__ import annotations

from typing import Any

from evaluation.models import EvaluationSession
from scoring.models import ScoreCell
from tests.personas import Cast


async def enter(join: Any, cast: Cast, user: Any) -> Any:
    """``user``'s room socket, its snapshot read."""
    socket = await join(user, cast.session.pk)
    await socket.expect("snapshot")
    return socket


def score_frame(bid: int, criterion: int, value: Any, base: int = 0) -> dict[str, Any]:
    return {"type": "score.set", "bid": bid, "criterion": criterion, "value": value, "base": base}


def stored(cast: Cast) -> tuple[int, int]:
    """What a refusal must leave untouched: the session's version and the cells holding a value."""
    version = EvaluationSession.objects.get(pk=cast.session.pk).audit_seq
    return version, ScoreCell.objects.filter(sheet__session=cast.session, value__isnull=False).count()


async def drain(socket: Any, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Every frame the socket receives until it has been quiet for ``quiet`` seconds."""
    frames: list[dict[str, Any]] = []
    while True:
        try:
            frames.append(await socket.receive(timeout=quiet))
        except TimeoutError:
            return frames


def keys_anywhere(value: Any) -> set[str]:
    """Every key of every object nested in a frame."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()
