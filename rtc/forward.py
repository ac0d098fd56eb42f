"""RTP forwarding: a published stream (Source) written to each subscriber slot (Slot) that shows it.

Per packet the source parses the header once (sequence number, timestamp, marker, where the payload
starts, the audio level, whether a VP8 keyframe starts here) and each slot writes a new 12-byte header
(its own SSRC and payload type, its continuous sequence numbers and timestamps; the publisher's
header extensions are dropped, since their ids and mid belong to the publisher's session) in front of
the same payload, encrypts it with the viewer's SRTP and sends it: no decode, no encode.

A slot switched to another source waits for that source's next keyframe (asking the publisher for
one), then continues its own sequence and timestamp line, so the viewer's decoder sees one stream.
A viewer's NACK is answered from the slot's last 512 video packets; its PLI/FIR goes to the publisher.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from rtc import rtcp

if TYPE_CHECKING:
    from rtc.media import MediaServer, Peer
    from rtc.recording import TrackRecorder

CLOCK = {"audio": 48000, "video": 90000}
HISTORY = 512
MAX_NACK = 64  # a larger hole is not asked for packet by packet: the viewers' PLI brings a keyframe
KEYFRAME_INTERVAL = 0.25  # at most this often a PLI to one publisher
MIN_BITRATE = 150_000  # never ask a publisher's video for less (bits/s)
REMB_FRESH = 5.0  # seconds a viewer's REMB counts
AUDIO_BITRATE = 64_000  # added to the REMB for a publisher who also sends audio


def vp8_descriptor_size(payload: bytes) -> int:
    """Bytes of the RFC 7741 payload descriptor that starts a VP8 RTP payload; 0 if it is malformed."""
    size = len(payload)
    if size < 2:
        return 0
    offset = 1
    if payload[0] & 0x80:  # X: an extension byte follows
        extension = payload[1]
        offset = 2
        if extension & 0x80:  # I: picture id, 7 or 15 bits (M)
            offset += 2 if offset < size and payload[offset] & 0x80 else 1
        if extension & 0x40:  # L: TL0PICIDX
            offset += 1
        if extension & 0x30:  # T or K: TID/Y/KEYIDX
            offset += 1
    return offset if offset < size else 0


def vp8_keyframe_start(payload: bytes) -> bool:
    """True if this VP8 RTP payload starts a keyframe (S bit, partition 0, then the frame's P bit clear)."""
    if len(payload) < 2 or not payload[0] & 0x10 or payload[0] & 0x07:
        return False
    offset = vp8_descriptor_size(payload)
    return offset > 0 and not payload[offset] & 0x01


def audio_level(extensions: bytes, ext_id: int) -> int | None:
    """The RFC 6464 level (0 loud .. 127 silent) in one-byte header extensions, if present."""
    i = 0
    size = len(extensions)
    while i < size:
        byte = extensions[i]
        if byte == 0:
            i += 1
            continue
        ident = byte >> 4
        length = (byte & 0x0F) + 1
        if ident == ext_id and i + 1 < size:
            return extensions[i + 1] & 0x7F
        if ident == 15:
            return None
        i += 1 + length
    return None


class Source:
    """One published track."""

    speaking_threshold = 50  # dBov: a level at or above -50 dBov counts as speaking

    def __init__(
        self,
        *,
        server: MediaServer,
        peer: Peer,
        kind: str,
        ssrc: int,
        audio_level_ext: int | None,
        recorder: TrackRecorder | None,
    ) -> None:
        self.server = server
        self.peer = peer
        self.participant = peer.participant
        self.kind = kind
        self.video = kind == "video"
        self.ssrc = ssrc
        self.audio_level_ext = audio_level_ext if kind == "audio" else None
        self.recorder = recorder
        self.slots: list[Slot] = []
        self.clock = CLOCK[kind]
        self.level = 127
        self.received = 0
        self.base_seq = 0
        self.highest_seq = 0
        self.cycles = 0
        self.jitter = 0.0
        self.transit: float | None = None
        self.expected_prior = 0
        self.received_prior = 0
        self.last_sr = 0  # LSR: the middle 32 bits of the NTP time of the publisher's last SR
        self.last_sr_at = 0.0
        self.loss_estimate: float | None = None  # bits/s, from the viewers' reported loss (video)
        self.missing: set[int] = set()
        self.lost = 0
        self.recovered = 0
        self.forwarded = 0
        self.last_keyframe_request = 0.0
        self.last_packet = 0.0
        self.closed = False

    def on_rtp(self, plain: bytes, rtx: bool = False) -> None:
        first = plain[0]
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10:
            words = (plain[offset + 2] << 8) | plain[offset + 3]
            if self.audio_level_ext is not None:
                level = audio_level(plain[offset + 4 : offset + 4 + 4 * words], self.audio_level_ext)
                if level is not None and level < self.level:
                    self.level = level
            offset += 4 + 4 * words
        second = plain[1]
        seq = (plain[2] << 8) | plain[3]
        timestamp = int.from_bytes(plain[4:8], "big")
        payload = plain[offset:]
        padding = first & 0x20
        if rtx:  # a retransmission we asked for (RFC 4588): the original sequence number comes first
            if padding and payload:
                payload = payload[: -payload[-1]]
            if len(payload) < 3:
                return  # padding only: the publisher probing bandwidth
            seq = (payload[0] << 8) | payload[1]
            if seq not in self.missing:
                return
            self.missing.discard(seq)
            self.recovered += 1
            payload, padding = payload[2:], 0
            now = time.time()
        else:
            now = time.time()
            self._track_sequence(seq)
            # Interarrival jitter (RFC 3550 A.8), in RTP timestamp units.
            transit = now * self.clock - timestamp
            if self.transit is not None:
                d = abs(transit - self.transit)
                if d < 0x8000_0000:  # not a timestamp wrap or a new source
                    self.jitter += (d - self.jitter) / 16
            self.transit = transit
        keyframe = vp8_keyframe_start(payload) if self.video else True
        self.received += 1
        self.last_packet = now
        marker = second & 0x80
        for slot in self.slots:
            slot.send(seq, timestamp, marker, padding, payload, keyframe, now)
        self.forwarded += len(self.slots)
        if self.recorder is not None:
            if padding and payload:
                payload = payload[: -payload[-1]]
            self.recorder.add(seq, timestamp, marker, payload, keyframe, now)

    def _track_sequence(self, seq: int) -> None:
        """Follow the highest sequence number (with wraps); ask at once for video skipped on the way (NACK)."""
        delta = (seq - self.highest_seq) & 0xFFFF
        if not self.received:
            self.base_seq = self.highest_seq = seq
        elif delta >= 0x8000:
            self.missing.discard(seq)  # late, not new
        elif delta:
            if self.video and 1 < delta <= MAX_NACK:
                lost = [(self.highest_seq + i) & 0xFFFF for i in range(1, delta)]
                self.missing.update(lost)
                self.lost += len(lost)
                self.peer.nack(self.ssrc, lost)
            if seq < self.highest_seq:
                self.cycles += 0x10000
            self.highest_seq = seq

    def request_keyframe(self, force: bool = False) -> None:
        if not self.video:
            return
        now = time.monotonic()
        if force or now - self.last_keyframe_request >= KEYFRAME_INTERVAL:
            self.last_keyframe_request = now
            self.peer.request_keyframe(self.ssrc)

    def take_level(self) -> int:
        level, self.level = self.level, 127
        return level

    def take_forwarded(self) -> int:
        count, self.forwarded = self.forwarded, 0
        return count

    def sender_report(self, ntp_middle: int, now: float) -> None:
        self.last_sr, self.last_sr_at = ntp_middle, now

    def bandwidth(self, now: float, ceiling: int) -> int:
        """What this video may use (bits/s): what its viewers can take, never above ``ceiling``.

        1. Each viewer's REMB (its estimate for all the video it receives, shared by its streams)
           counts while fresh; the lowest share wins: without simulcast, one stream serves all.
        2. Loss the viewers report about their slot of this stream moves a loss-based estimate as
           GCC's sender side does: above 10 % it backs off by half the loss, below 2 % it grows 8 %.
        3. The result stays between ``MIN_BITRATE`` and ``ceiling``; with no viewer, ``ceiling`` (the
           recording wants the best picture).
        """
        shares = [slot.remb_share for slot in self.slots if slot.remb_share and now - slot.remb_at < REMB_FRESH]
        worst = max((slot.fraction_lost for slot in self.slots), default=0)
        estimate = self.loss_estimate if self.loss_estimate is not None else float(ceiling)
        if worst > 26:
            estimate *= 1 - 0.5 * worst / 256
        elif worst < 5:
            estimate *= 1.08
        self.loss_estimate = max(MIN_BITRATE, min(float(ceiling), estimate))
        return int(max(MIN_BITRATE, min([ceiling, self.loss_estimate, *shares])))

    def report_block(self, now: float) -> rtcp.ReportBlock:
        """What the server, as this stream's receiver, reports to the publisher (RFC 3550 6.4.1, A.3)."""
        extended = self.cycles + self.highest_seq
        expected = extended - self.base_seq + 1 if self.received else 0
        lost = max(-0x800000, min(0x7FFFFF, expected - self.received))
        expected_interval = expected - self.expected_prior
        lost_interval = expected_interval - (self.received - self.received_prior)
        self.expected_prior, self.received_prior = expected, self.received
        fraction = (lost_interval << 8) // expected_interval if expected_interval > 0 and lost_interval > 0 else 0
        dlsr = int((now - self.last_sr_at) * 65536) if self.last_sr else 0
        return rtcp.ReportBlock(self.ssrc, min(fraction, 255), lost, extended, int(self.jitter), self.last_sr, dlsr)

    def tick(self) -> None:
        if self.missing:  # one more try, then they are given up
            self.peer.nack(self.ssrc, sorted(self.missing))
            self.missing.clear()
        if self.recorder is not None and self.recorder.wants_keyframe():
            self.request_keyframe(force=True)

    def close(self) -> None:
        self.closed = True
        for slot in list(self.slots):
            slot.unbind()
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None


class Slot:
    """One sending transceiver of a subscriber: shows one source at a time."""

    def __init__(self, *, kind: str, mid: str, ssrc: int, payload_type: int, raw: Any) -> None:
        self.kind = kind
        self.mid = mid
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.raw = raw
        self.clock = CLOCK[kind]
        self.source: Source | None = None
        self.waiting = False
        self.seq_offset = 0
        self.ts_offset = 0
        self.last_seq = random.getrandbits(16)
        self.last_ts = random.getrandbits(32)
        self.at = time.time()
        self.packets = 0
        self.octets = 0
        # The last packets sent, by sequence number: (seq, timestamp, first byte, second byte, payload).
        self.history: list[tuple[int, int, int, int, bytes] | None] = [None] * HISTORY if kind == "video" else []
        self.keyframes_waited = 0.0
        self.retransmitted = 0
        # What the viewer reports about this slot (its RR blocks); the SR it refers to.
        self.fraction_lost = 0
        self.remb_share = 0  # the viewer's last REMB divided among the streams it names (bits/s)
        self.remb_at = 0.0
        self.rtt: float | None = None
        self.last_sr = 0
        self.last_sr_at = 0.0

    def bind(self, source: Source) -> None:
        self.source = source
        self.waiting = True
        self.keyframes_waited = time.monotonic()
        source.slots.append(self)
        source.request_keyframe(force=True)

    def unbind(self) -> None:
        if self.source is not None:
            if self in self.source.slots:
                self.source.slots.remove(self)
            self.source = None

    def send(
        self, seq: int, timestamp: int, marker: int, padding: int, payload: bytes, keyframe: bool, now: float
    ) -> None:
        if self.waiting:
            if not keyframe:
                return
            self.waiting = False
            elapsed = max(1, int((now - self.at) * self.clock))
            self.seq_offset = (self.last_seq + 1 - seq) & 0xFFFF
            self.ts_offset = (self.last_ts + elapsed - timestamp) & 0xFFFFFFFF
        out_seq = (seq + self.seq_offset) & 0xFFFF
        out_ts = (timestamp + self.ts_offset) & 0xFFFFFFFF
        second = marker | self.payload_type
        self.raw.send_rtp(0x80 | padding, second, out_seq, out_ts, self.ssrc, payload)
        if self.history:
            self.history[out_seq % HISTORY] = (out_seq, out_ts, 0x80 | padding, second, payload)
        if (out_seq - self.last_seq) & 0xFFFF < 0x8000:  # a retransmission arrives late: keep the newest
            self.last_seq = out_seq
            self.last_ts = out_ts
            self.at = now
        self.packets += 1
        self.octets += len(payload)

    def keyframe_requested(self) -> None:
        """The viewer sent a PLI or FIR for this slot: the publisher is asked (at most every 0.25 s)."""
        if self.source is not None:
            self.source.request_keyframe()

    def retransmit(self, lost: list[int]) -> None:
        """Answer the viewer's NACK from this slot's history (video only)."""
        if not self.history:
            return
        for seq in lost:
            old = self.history[seq % HISTORY]
            if old is not None and old[0] == seq:
                _, timestamp, first, second, payload = old
                self.raw.send_rtp(first, second, seq, timestamp, self.ssrc, payload)
                self.retransmitted += 1

    def reported(self, block: rtcp.ReportBlock, now: float) -> None:
        self.fraction_lost = block.fraction_lost
        if block.lsr and block.lsr == self.last_sr:
            rtt = now - self.last_sr_at - block.dlsr / 65536
            if 0 <= rtt < 10:
                self.rtt = rtt if self.rtt is None else 0.875 * self.rtt + 0.125 * rtt

    def sender_report(self, now: float, blocks: list[rtcp.ReportBlock] | None = None) -> bytes:
        """This slot's SR (only for a slot that has sent); its RTP time extrapolated from the last packet."""
        ntp = rtcp.ntp_time(now)
        self.last_sr, self.last_sr_at = (ntp >> 16) & 0xFFFFFFFF, now
        rtp_timestamp = self.last_ts + int((now - self.at) * self.clock)
        return rtcp.sender_report(self.ssrc, ntp, rtp_timestamp, self.packets, self.octets, blocks)

    def tick(self) -> None:
        if self.waiting and self.source is not None and time.monotonic() - self.keyframes_waited > 1.0:
            self.keyframes_waited = time.monotonic()
            self.source.request_keyframe(force=True)
