"""Last-N: which publishers' video (and, past the slot count, audio) each participant receives."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SpeakerOrder:
    """Participants by the last time they spoke, most recent first; publishers who never spoke follow."""

    last_spoke: dict[str, float] = field(default_factory=dict)

    def spoke(self, participant: str, at: float) -> bool:
        """Note speech; True if the order changed."""
        before = self.ranked(list(self.last_spoke))
        self.last_spoke[participant] = at
        return self.ranked(list(self.last_spoke)) != before or len(before) != len(self.last_spoke)

    def ranked(self, publishers: list[str]) -> list[str]:
        # Stable: publishers who never spoke keep the order they were given (join order).
        spoken = sorted((p for p in publishers if p in self.last_spoke), key=lambda p: -self.last_spoke[p])
        return spoken + [p for p in publishers if p not in self.last_spoke]


@dataclass
class TileChoice:
    video: list[str]
    audio: list[str]
    audio_needed: int
    audio_missing: bool


def choose_tiles(
    *,
    viewer: str,
    video_publishers: list[str],
    audio_publishers: list[str],
    order: SpeakerOrder,
    pinned: str | None,
    video_slots: int,
    audio_slots: int,
    last_n: int,
) -> TileChoice:
    """The pinned tile (if it publishes video) and the ``last_n`` most recent speakers, never oneself."""
    video: list[str] = []
    if pinned is not None and pinned != viewer and pinned in video_publishers:
        video.append(pinned)
    limit = min(video_slots, last_n + len(video))
    for participant in order.ranked(video_publishers):
        if len(video) >= limit:
            break
        if participant != viewer and participant not in video:
            video.append(participant)
    others = [p for p in order.ranked(audio_publishers) if p != viewer]
    return TileChoice(
        video=video[:video_slots],
        audio=others[:audio_slots],
        audio_needed=len(others),
        audio_missing=len(others) > audio_slots,
    )
