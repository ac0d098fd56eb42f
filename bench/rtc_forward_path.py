"""The forwarding hot path alone: one publisher's VP8 packets through rtc.forward to N slots.

Each slot encrypts with its own SRTP session and sends on a real UDP socket to 127.0.0.1 (no
reader) through ``RawSender``, as in the server; nothing of aiortc's asyncio path is involved. Prints ONE JSON
line: process CPU µs per incoming and per forwarded packet.

    .venv/bin/python -m bench.rtc_forward_path [--slots 8] [--packets 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import time
import types

from pylibsrtp import Policy, Session

from rtc import _aiortc_internals as internals
from rtc.forward import Slot, Source


def session(key: bytes) -> Session:
    policy = Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND)
    policy.allow_repeat_tx = True
    return Session(policy)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--packets", type=int, default=20000)
    args = parser.parse_args()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.setblocking(False)
    key = os.urandom(30)
    peer = types.SimpleNamespace(participant="p", request_keyframe=lambda ssrc: None, nack=lambda *a: None)
    source = Source(server=None, peer=peer, kind="video", ssrc=1, audio_level_ext=None, recorder=None)  # type: ignore[arg-type]
    for i in range(args.slots):
        slot = Slot(
            kind="video",
            mid=str(i),
            ssrc=100 + i,
            payload_type=96,
            raw=internals.RawSender.on_socket(session(key), out, sink.getsockname()),
        )
        slot.bind(source)
    payload = bytes([0x90, 0x80, 0x92, 0x34, 0x00]) + os.urandom(1100)
    header = struct.Struct("!BBHII")
    packets = [header.pack(0x80, 96, i & 0xFFFF, i * 3000 & 0xFFFFFFFF, 1) + payload for i in range(args.packets)]
    started = time.process_time()
    for packet in packets:
        source.on_rtp(packet)
    spent = time.process_time() - started
    print(
        json.dumps(
            {
                "benchmark": "rtc_forward_path",
                "slots": args.slots,
                "packets": args.packets,
                "payload_bytes": len(payload),
                "us_per_incoming_packet": round(spent / args.packets * 1e6, 2),
                "us_per_forwarded_packet": round(spent / args.packets / args.slots * 1e6, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
