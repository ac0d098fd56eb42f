"""The recorder puts a late retransmission back in its place before it re-assembles the VP8 frames."""

from __future__ import annotations

import fractions
import random

import av
import pytest

from rtc.recording import REORDER_SECONDS, SessionRecording

FRAMES = 10


def _packets() -> list[tuple[int, int, int, bytes, bool]]:
    """(seq, timestamp, marker, payload, keyframe) of 10 VP8 frames, one keyframe first, ~200-byte packets."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 160, 120, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 20)
    encoder.gop_size = 100
    encoder.options = {"deadline": "realtime", "lag-in-frames": "0"}
    frames = []
    for i in range(FRAMES):
        picture = av.VideoFrame(160, 120, "yuv420p")
        for plane in picture.planes:  # noise: frames of several packets each
            plane.update(random.Random(i).randbytes(plane.buffer_size))
        picture.pts = i
        frames += [bytes(p) for p in encoder.encode(picture)]
    frames += [bytes(p) for p in encoder.encode(None)]
    packets, seq = [], 65530  # across the sequence number wrap
    for i, frame in enumerate(frames):
        chunks = [frame[at : at + 200] for at in range(0, len(frame), 200)]
        for n, chunk in enumerate(chunks):
            descriptor = bytes([0x10 if n == 0 else 0x00])
            packets.append((seq, i * 4500, int(n == len(chunks) - 1), descriptor + chunk, i == 0 and n == 0))
            seq = (seq + 1) & 0xFFFF
    return packets


@pytest.fixture
async def recording(tmp_path):
    session = SessionRecording(tmp_path, segment_seconds=60, on_entry=None)
    yield session
    await session.close()


def _feed(recorder, packets) -> None:
    for at, (seq, timestamp, marker, payload, keyframe) in enumerate(packets):
        recorder.add(seq, timestamp, marker, payload, keyframe, 1000.0 + at * 0.01)


async def test_a_retransmission_that_arrives_after_later_packets_lands_in_its_frame(recording):
    packets = _packets()
    late = next(i for i, p in enumerate(packets) if p[1] == 4 * 4500) + 1  # inside the fifth frame
    assert packets[late][1] == packets[late + 1][1] == 4 * 4500
    reordered = packets[:late] + packets[late + 1 : late + 6] + [packets[late]] + packets[late + 6 :]
    recorder = recording.recorder("expert_a", "video")
    _feed(recorder, reordered)
    assert recorder.frames == FRAMES


async def test_a_packet_that_never_comes_is_given_up_and_the_recording_waits_for_a_keyframe(recording):
    packets = _packets()
    lost = next(i for i, p in enumerate(packets) if p[1] == 4 * 4500) + 1
    recorder = recording.recorder("expert_a", "video")
    _feed(recorder, packets[:lost] + packets[lost + 1 :])
    assert recorder.frames == 4  # held while it might still come, then nothing until a keyframe
    assert recorder.need_keyframe
    assert 0.01 * len(packets) > REORDER_SECONDS  # the test's packets outlast the window
