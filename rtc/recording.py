"""Recording as evidence: every published track in WebM segments, without re-encoding, in a hash chain.

A session's directory holds one file per segment (``<participant>-<kind>-<n>.webm``, VP8 or Opus as
received) and ``manifest.jsonl``: one JSON object per line, each with ``n`` (0, 1, ...), ``type``
(``start``, ``segment``, ``join``, ``leave``, ``mute``, ``unmute``, ``gap``), ``utc`` and ``offset``
(seconds since the session's recording started), ``prev`` (the previous entry's ``hash``; zeros for
the first) and ``hash`` (SHA-256 of the entry's canonical JSON without ``hash``). A segment entry adds
the file name, its SHA-256 and size, its start and end (UTC and offset), frames and packets.

Video segments start on a keyframe: when a segment is due to end, the publisher is asked for one and
the segment is cut there. Video packets pass a short reorder window by sequence number first, so a
retransmission that arrives after later packets still lands in its frame. Files are closed, hashed
and listed by one writer thread, in order.
``verify_recording`` checks every entry's hash, the chain and every file's hash, and files not listed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import json
import logging
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from rtc.forward import vp8_descriptor_size

logger = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
ZERO = "0" * 64
CLOCK = {"audio": 48000, "video": 90000}
GAP_SECONDS = 2.0
REORDER_SECONDS = 0.3  # how long a missing video packet is waited for (a NACK's round trip and then some)
REORDER_PACKETS = 128  # and at most this many later packets held meanwhile


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _utc(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:64] or "_"


class SessionRecording:
    """The manifest of one session and the recorders of its tracks."""

    def __init__(self, directory: Path, *, segment_seconds: float, on_entry: Callable[[dict], None] | None) -> None:
        self.directory = directory
        self.segment_seconds = segment_seconds
        self.on_entry = on_entry
        self.loop = asyncio.get_running_loop()
        self.writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="rtc-recording")
        self.counters: dict[tuple[str, str], int] = {}
        self.closed = False
        directory.mkdir(parents=True, exist_ok=True)
        self.n = 0
        self.prev = ZERO
        self.started: float | None = None
        manifest = directory / MANIFEST
        if manifest.exists():
            lines = [ln for ln in manifest.read_text().splitlines() if ln.strip()]
            if lines:
                first, last = json.loads(lines[0]), json.loads(lines[-1])
                self.started = float(first["at"])
                self.n = int(last["n"]) + 1
                self.prev = str(last["hash"])
            for path in directory.glob("*.webm"):
                match = re.match(r"(.+)-(audio|video)-(\d+)\.webm$", path.name)
                if match:
                    key = (match.group(1), match.group(2))
                    self.counters[key] = max(self.counters.get(key, 0), int(match.group(3)) + 1)
        if self.started is None:
            self.started = time.time()
            self.event("start", at=self.started)

    def offset(self, at: float) -> float:
        assert self.started is not None
        return round(at - self.started, 3)

    def event(self, what: str, /, at: float | None = None, **detail: Any) -> None:
        if self.closed:
            logger.error("recording of %s is closed: %s event not written", self.directory, what)
            return
        when = at if at is not None else time.time()
        self.writer.submit(self._append, {"type": what, "at": when, **detail})

    def recorder(self, participant: str, kind: str) -> TrackRecorder:
        return TrackRecorder(self, participant, kind)

    def next_path(self, participant: str, kind: str) -> Path:
        key = (_safe(participant), kind)
        number = self.counters.get(key, 0)
        self.counters[key] = number + 1
        return self.directory / f"{key[0]}-{kind}-{number:05d}.webm"

    def _append(self, entry: dict[str, Any]) -> None:
        at = float(entry["at"])
        entry = {**entry, "n": self.n, "utc": _utc(at), "offset": self.offset(at), "prev": self.prev}
        entry["hash"] = hashlib.sha256(_canonical(entry)).hexdigest()
        with (self.directory / MANIFEST).open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
        self.n += 1
        self.prev = entry["hash"]
        if self.on_entry is not None:
            self.loop.call_soon_threadsafe(self.on_entry, entry)

    def finish_segment(self, container: Any, path: Path, detail: dict[str, Any]) -> None:
        if self.closed:
            logger.error("recording of %s is closed: segment %s not listed", self.directory, path.name)
            container.close()
            return
        self.writer.submit(self._finish_segment, container, path, detail)

    def _finish_segment(self, container: Any, path: Path, detail: dict[str, Any]) -> None:
        try:
            container.close()
        except Exception:
            logger.exception("closing recording segment %s failed", path)
        if not path.exists():
            return
        self._append(
            {
                "type": "segment",
                "at": detail["end"],
                "file": path.name,
                "sha256": _sha256(path),
                "bytes": path.stat().st_size,
                **detail,
                "start_utc": _utc(detail["start"]),
                "end_utc": _utc(detail["end"]),
                "start_offset": self.offset(detail["start"]),
                "end_offset": self.offset(detail["end"]),
            }
        )

    async def close(self) -> None:
        """Wait until every segment is closed and listed. Safe twice."""
        if self.closed:
            return
        self.event("stop")
        self.closed = True
        await asyncio.get_running_loop().run_in_executor(self.writer, lambda: None)
        self.writer.shutdown(wait=True)


class TrackRecorder:
    """Writes one published track into segments; video frames are re-assembled from RTP, never decoded."""

    def __init__(self, session: SessionRecording, participant: str, kind: str) -> None:
        self.session = session
        self.participant = participant
        self.kind = kind
        self.clock = CLOCK[kind]
        self.time_base = Fraction(1, self.clock)
        self.container: Any = None
        self.stream: Any = None
        self.path: Path | None = None
        self.start = 0.0
        self.first_ts = 0
        self.last_ts = 0
        self.frames = 0
        self.packets = 0
        # The reorder window: video packets held by sequence number until the ones before them came.
        self.next_seq: int | None = None
        self.held: dict[int, tuple[int, int, bytes, bool, float]] = {}
        self.gap_since: float | None = None
        self.frame: list[bytes] = []
        self.frame_ts: int | None = None
        self.frame_key = False
        self.need_keyframe = kind == "video"
        self.last_packet = 0.0
        self.last_frame_at = 0.0
        self.closed = False

    # --- called per packet ----------------------------------------------------------------------

    def add(self, seq: int, timestamp: int, marker: int, payload: bytes, keyframe: bool, now: float) -> None:
        if self.closed:
            return
        if self.last_packet and now - self.last_packet > GAP_SECONDS:
            self.session.event("gap", participant=self.participant, kind=self.kind, start=self.last_packet, end=now)
            self._cut(self.last_packet)
            self.next_seq, self.held, self.gap_since = None, {}, None
        self.last_packet = now
        self.packets += 1
        if self.kind == "audio":
            self._write(timestamp, payload, True, now)
            return
        if self.next_seq is None:
            self.next_seq = seq
        if (seq - self.next_seq) & 0xFFFF >= 0x8000:
            return  # older than what was written already: a duplicate, or given up on
        self.held[seq] = (timestamp, marker, payload, keyframe, now)
        self._release(now)

    def _release(self, now: float) -> None:
        """Depacketize the held packets that follow on; give a missing one up after a while.

        A retransmission the server asked for (NACK, then RTX) arrives after later packets: the
        window waits for it up to ``REORDER_SECONDS`` or ``REORDER_PACKETS``, then skips it (the frame
        it was part of is lost, and the recording waits for a keyframe).
        """
        assert self.next_seq is not None
        skipped = False
        while True:
            while (packet := self.held.pop(self.next_seq, None)) is not None:
                self._depacketize(*packet, lost=skipped)
                skipped = False
                self.next_seq = (self.next_seq + 1) & 0xFFFF
            if not self.held:
                self.gap_since = None
                return
            if self.gap_since is None:
                self.gap_since = now
            if len(self.held) <= REORDER_PACKETS and now - self.gap_since <= REORDER_SECONDS:
                return
            base = self.next_seq
            self.next_seq = min(self.held, key=lambda s: (s - base) & 0xFFFF)
            self.gap_since, skipped = None, True

    def _depacketize(
        self, timestamp: int, marker: int, payload: bytes, keyframe: bool, now: float, *, lost: bool
    ) -> None:
        if lost or (self.frame_ts is not None and timestamp != self.frame_ts):
            self.frame, self.frame_ts = [], None
            if lost:
                self.need_keyframe = True
        if self.frame_ts is None:
            self.frame_ts = timestamp
            self.frame_key = keyframe
        start = vp8_descriptor_size(payload)
        if not start:
            self.frame, self.frame_ts = [], None
            return
        self.frame.append(payload[start:])
        if marker:
            data = b"".join(self.frame)
            key = self.frame_key
            self.frame, self.frame_ts = [], None
            if self.need_keyframe and not key:
                return
            self.need_keyframe = False
            self._write(timestamp, data, key, now)

    def _write(self, timestamp: int, data: bytes, key: bool, now: float) -> None:
        if self.container is not None and now - self.start >= self.session.segment_seconds and key:
            self._cut(now)
        if self.container is None:
            if not key:
                return
            if not self._open(data, timestamp, now):
                return
        packet = av.Packet(data)
        packet.stream = self.stream
        packet.time_base = self.time_base
        packet.pts = packet.dts = (timestamp - self.first_ts) & 0xFFFFFFFF
        if key and self.kind == "video":
            packet.is_keyframe = True
        try:
            self.container.mux(packet)
        except Exception:
            logger.exception("recording %s %s: a frame could not be written", self.participant, self.kind)
            return
        self.frames += 1
        self.last_ts = timestamp
        self.last_frame_at = now

    def _open(self, data: bytes, timestamp: int, now: float) -> bool:
        path = self.session.next_path(self.participant, self.kind)
        container = av.open(str(path), "w", format="webm")
        if self.kind == "video":
            if len(data) < 10 or data[3:6] != b"\x9d\x01\x2a":
                container.close()
                path.unlink(missing_ok=True)
                return False
            width, height = struct.unpack_from("<HH", data, 6)
            video = container.add_stream("libvpx")
            video.width, video.height = width & 0x3FFF, height & 0x3FFF
            stream: Any = video
        else:
            stream = container.add_stream("libopus", rate=48000)
        stream.time_base = Fraction(1, 1000)
        self.container, self.stream, self.path = container, stream, path
        self.start, self.first_ts, self.frames = now, timestamp, 0
        return True

    def _cut(self, end: float) -> None:
        if self.container is None or self.path is None:
            return
        duration = ((self.last_ts - self.first_ts) & 0xFFFFFFFF) / self.clock
        self.session.finish_segment(
            self.container,
            self.path,
            {
                "participant": self.participant,
                "kind": self.kind,
                "start": self.start,
                "end": max(end, self.last_frame_at),
                "media_seconds": round(duration, 3),
                "frames": self.frames,
            },
        )
        self.container = self.stream = self.path = None

    # --- called by the housekeeping ------------------------------------------------------------

    def wants_keyframe(self) -> bool:
        """True while a video segment is due to end and waits for a keyframe (or none has come yet)."""
        if self.kind != "video" or self.closed:
            return False
        if self.container is None or self.need_keyframe:
            return True
        return self.last_frame_at - self.start >= self.session.segment_seconds - 0.5

    def close(self) -> None:
        if self.closed:
            return
        self._cut(self.last_frame_at or self.start)
        self.closed = True


@dataclass
class Verification:
    directory: Path
    entries: int = 0
    segments: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_recording(directory: Path) -> Verification:
    """Check the manifest's hashes and chain and every segment's SHA-256; list what does not match."""
    result = Verification(directory)
    manifest = directory / MANIFEST
    if not manifest.exists():
        result.problems.append(f"{manifest}: no manifest")
        return result
    prev = ZERO
    listed: set[str] = set()
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            claimed = entry.pop("hash")
        except (ValueError, KeyError, AttributeError):
            result.problems.append(f"line {number + 1}: not a manifest entry")
            prev = ""
            continue
        result.entries += 1
        if hashlib.sha256(_canonical(entry)).hexdigest() != claimed:
            result.problems.append(f"entry {entry.get('n')}: hash does not match its content")
        if entry.get("prev") != prev:
            result.problems.append(f"entry {entry.get('n')}: does not chain to the entry before")
        if entry.get("n") != result.entries - 1:
            result.problems.append(f"entry {entry.get('n')}: out of sequence (expected {result.entries - 1})")
        prev = claimed
        if entry.get("type") == "segment":
            result.segments += 1
            name = str(entry.get("file", ""))
            listed.add(name)
            path = directory / name
            if "/" in name or not path.exists():
                result.problems.append(f"entry {entry.get('n')}: segment {name} is missing")
            elif _sha256(path) != entry.get("sha256"):
                result.problems.append(f"entry {entry.get('n')}: segment {name} was altered (SHA-256 differs)")
    for path in sorted(directory.glob("*.webm")):
        if path.name not in listed:
            result.problems.append(f"{path.name}: not listed in the manifest")
    return result
