"""RTCP as the media server writes and reads it: plain bytes in, plain bytes out, no coroutine.

Written by hand rather than through aiortc's RTCP classes because of what aiortc does with them:
every sender of a subscriber ran its own task that built an object SR and SDES about once a second
and sent it through aiortc's coroutine and SRTP path, and every incoming report was parsed into
objects and routed the same way. With 18 receive slots per subscriber that idle work cost as much
as forwarding the media. Here a subscriber gets ONE compound packet per interval (an SR for each
slot that has sent something, one SDES, the receiver reports and REMB for what it publishes), and
what it sends back is read straight from the bytes (RFC 3550, RFC 4585, RFC 5104, REMB draft).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

SR, RR, SDES, BYE, RTPFB, PSFB = 200, 201, 202, 203, 205, 206
FMT_NACK = 1
FMT_PLI, FMT_FIR, FMT_AFB = 1, 4, 15
NTP_EPOCH = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)
MAX_COMPOUND = 1100  # bytes of plain RTCP per datagram: SRTCP's trailer and the headers stay under 1280

_WORD = struct.Struct("!I")
_SR = struct.Struct("!BBHIQIII")
_BLOCK = struct.Struct("!IIIIII")
_FB = struct.Struct("!BBHII")


class ReportBlock(NamedTuple):
    """One reception report (RFC 3550 6.4.1) about ``ssrc``."""

    ssrc: int
    fraction_lost: int  # of 256, since the previous report
    cumulative_lost: int  # 24-bit signed
    highest_seq: int  # extended: cycles << 16 | sequence number
    jitter: int  # in RTP timestamp units
    lsr: int  # middle 32 bits of the NTP time of the last SR received from ``ssrc`` (0: none)
    dlsr: int  # delay since that SR, in 1/65536 s


class SenderInfo(NamedTuple):
    ssrc: int
    ntp_middle: int  # what a report about this SSRC puts in its LSR
    blocks: list[ReportBlock]


class Receiver(NamedTuple):
    ssrc: int
    blocks: list[ReportBlock]


class Nack(NamedTuple):
    media_ssrc: int
    lost: list[int]


class KeyframeRequest(NamedTuple):
    """A PLI (one SSRC) or a FIR (one or more)."""

    media_ssrcs: list[int]


class Remb(NamedTuple):
    bitrate: int
    ssrcs: list[int]


Feedback = SenderInfo | Receiver | Nack | KeyframeRequest | Remb


# --- writing ---------------------------------------------------------------------------------------


def ntp_time(unix: float) -> int:
    """64-bit NTP timestamp (RFC 3550 4) of a ``time.time()`` value."""
    return int((unix + NTP_EPOCH) * 4294967296.0) & 0xFFFFFFFFFFFFFFFF


def _blocks(blocks: list[ReportBlock]) -> bytes:
    return b"".join(
        _BLOCK.pack(
            b.ssrc,
            (b.fraction_lost & 0xFF) << 24 | (b.cumulative_lost & 0xFFFFFF),
            b.highest_seq & 0xFFFFFFFF,
            b.jitter & 0xFFFFFFFF,
            b.lsr & 0xFFFFFFFF,
            b.dlsr & 0xFFFFFFFF,
        )
        for b in blocks[:31]
    )


def sender_report(
    ssrc: int, ntp: int, rtp_timestamp: int, packets: int, octets: int, blocks: list[ReportBlock] | None = None
) -> bytes:
    blocks = blocks or []
    count = min(len(blocks), 31)
    return _SR.pack(
        0x80 | count,
        SR,
        6 + 6 * count,
        ssrc,
        ntp,
        rtp_timestamp & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    ) + _blocks(blocks)


def receiver_report(ssrc: int, blocks: list[ReportBlock]) -> bytes:
    count = min(len(blocks), 31)
    return struct.pack("!BBHI", 0x80 | count, RR, 1 + 6 * count, ssrc) + _blocks(blocks)


def sdes_cname(ssrc: int, cname: bytes) -> bytes:
    """One SDES packet with one chunk: ``ssrc``'s CNAME (every compound packet needs one)."""
    cname = cname[:255]
    chunk = _WORD.pack(ssrc) + bytes((1, len(cname))) + cname
    chunk += b"\x00" * (4 - len(chunk) % 4)  # the null item that ends the chunk, then padding
    return struct.pack("!BBH", 0x81, SDES, len(chunk) // 4) + chunk


def remb(sender_ssrc: int, bitrate: int, ssrcs: list[int]) -> bytes:
    exponent, mantissa = 0, max(0, int(bitrate))
    while mantissa > 0x3FFFF:
        mantissa >>= 1
        exponent += 1
    fci = b"REMB" + struct.pack("!BBH", len(ssrcs), exponent << 2 | mantissa >> 16, mantissa & 0xFFFF)
    fci += b"".join(_WORD.pack(s) for s in ssrcs)
    return _FB.pack(0x80 | FMT_AFB, PSFB, 2 + len(fci) // 4, sender_ssrc, 0) + fci


def pli(sender_ssrc: int, media_ssrc: int) -> bytes:
    return _FB.pack(0x80 | FMT_PLI, PSFB, 2, sender_ssrc, media_ssrc)


def nack(sender_ssrc: int, media_ssrc: int, lost: list[int]) -> bytes:
    """Generic NACK (RFC 4585 6.2.1): each FCI a packet id and a bitmask of the 16 after it."""
    fci = b""
    # In sequence order around the first one, so a run across the wrap (65535, 0, 1) shares a mask.
    pending = sorted(set(lost), key=lambda seq: (seq - lost[0] + 0x8000) & 0xFFFF) if lost else []
    while pending:
        pid = pending.pop(0)
        mask = 0
        while pending and (pending[0] - pid) & 0xFFFF <= 16:
            mask |= 1 << (((pending.pop(0) - pid) & 0xFFFF) - 1)
        fci += struct.pack("!HH", pid & 0xFFFF, mask)
    return _FB.pack(0x80 | FMT_NACK, RTPFB, 2 + len(fci) // 4, sender_ssrc, media_ssrc) + fci


def compound(packets: list[bytes], sdes: bytes) -> list[bytes]:
    """Pack report packets into as few compound datagrams as fit ``MAX_COMPOUND``, each with ``sdes``.

    RFC 3550 6.1 asks every compound packet to start with an SR or RR and carry an SDES CNAME.
    """
    out: list[bytes] = []
    current: list[bytes] = []
    size = len(sdes)
    for packet in packets:
        if current and size + len(packet) > MAX_COMPOUND:
            out.append(current[0] + sdes + b"".join(current[1:]))
            current, size = [], len(sdes)
        current.append(packet)
        size += len(packet)
    if current:
        out.append(current[0] + sdes + b"".join(current[1:]))
    return out


# --- reading ---------------------------------------------------------------------------------------


def _read_blocks(data: bytes, offset: int, count: int, end: int) -> list[ReportBlock]:
    blocks = []
    for _ in range(count):
        if offset + 24 > end:
            break
        ssrc, lost, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, offset)
        cumulative = lost & 0xFFFFFF
        if cumulative & 0x800000:
            cumulative -= 0x1000000
        blocks.append(ReportBlock(ssrc, lost >> 24, cumulative, highest, jitter, lsr, dlsr))
        offset += 24
    return blocks


def parse(data: bytes) -> Iterator[Feedback]:
    """The feedback in a (decrypted) compound RTCP packet; what it does not know or cannot read is skipped."""
    offset, size = 0, len(data)
    while offset + 4 <= size:
        first, kind, words = data[offset], data[offset + 1], (data[offset + 2] << 8) | data[offset + 3]
        end = offset + 4 + 4 * words
        if first >> 6 != 2 or end > size:
            return
        count = first & 0x1F
        if kind == SR and end - offset >= 28:
            ssrc, ntp = struct.unpack_from("!IQ", data, offset + 4)
            yield SenderInfo(ssrc, (ntp >> 16) & 0xFFFFFFFF, _read_blocks(data, offset + 28, count, end))
        elif kind == RR and end - offset >= 8:
            yield Receiver(_WORD.unpack_from(data, offset + 4)[0], _read_blocks(data, offset + 8, count, end))
        elif kind in (RTPFB, PSFB) and end - offset >= 12:
            media = _WORD.unpack_from(data, offset + 8)[0]
            fci = offset + 12
            if kind == RTPFB and count == FMT_NACK:
                lost = []
                for at in range(fci, end - 3, 4):
                    pid, mask = struct.unpack_from("!HH", data, at)
                    lost.append(pid)
                    lost += [(pid + i + 1) & 0xFFFF for i in range(16) if mask >> i & 1]
                yield Nack(media, lost)
            elif kind == PSFB and count == FMT_PLI:
                yield KeyframeRequest([media])
            elif kind == PSFB and count == FMT_FIR:
                yield KeyframeRequest([_WORD.unpack_from(data, at)[0] for at in range(fci, end - 7, 8)])
            elif kind == PSFB and count == FMT_AFB and end - fci >= 8 and data[fci : fci + 4] == b"REMB":
                number, exp_mantissa, low = struct.unpack_from("!BBH", data, fci + 4)
                bitrate = ((exp_mantissa & 0x03) << 16 | low) << (exp_mantissa >> 2)
                ssrcs = [_WORD.unpack_from(data, at)[0] for at in range(fci + 8, min(end, fci + 8 + 4 * number), 4)]
                yield Remb(bitrate, ssrcs)
        offset = end
