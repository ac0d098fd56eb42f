"""Every published track is recorded as evidence: WebM segments without re-encoding, in a hash chain."""

from __future__ import annotations

import asyncio
import json
import time

import av
import pytest

from rtc.media import MediaConfig, MediaServer
from rtc.recording import verify_recording
from tests.rtc.media_peers import SESSION, connect


async def test_segments_decode_cover_the_wall_time_and_the_manifest_chain_verifies(tmp_path):
    server = MediaServer(MediaConfig(host_addresses=["127.0.0.1"], recordings_dir=tmp_path, segment_seconds=2))
    publisher = await connect(server, "expert_a")
    started = time.time()
    await asyncio.sleep(5.5)
    await publisher.close()
    await server.leave(SESSION, "expert_a")
    wall = time.time() - started
    await server.close()

    directory = tmp_path / f"session-{SESSION}"
    entries = [json.loads(line) for line in (directory / "manifest.jsonl").read_text().splitlines()]
    assert [e["type"] for e in entries][:2] == ["start", "join"]
    assert {"leave", "stop"} <= {e["type"] for e in entries}
    for kind in ("video", "audio"):
        segments = [e for e in entries if e["type"] == "segment" and e["kind"] == kind]
        assert len(segments) >= 2, kind
        total = 0.0
        for entry in segments:
            with av.open(str(directory / entry["file"])) as container:
                stream = container.streams[0]
                assert stream.codec_context.name == ("vp8" if kind == "video" else "opus")
                frames = list(container.decode(stream))
                assert frames, entry["file"]
                first = frames[0]
                if isinstance(first, av.VideoFrame):
                    assert first.key_frame and first.width == 160
            total += entry["end_offset"] - entry["start_offset"]
            assert entry["utc"].endswith("Z")
        assert abs(total - wall) <= 0.1 * wall + 0.5, (kind, total, wall)

    report = verify_recording(directory)
    assert report.ok, report.problems
    assert report.segments >= 4


async def test_altering_one_byte_of_a_segment_is_detected(tmp_path):
    server = MediaServer(MediaConfig(host_addresses=["127.0.0.1"], recordings_dir=tmp_path, segment_seconds=1))
    publisher = await connect(server, "expert_a")
    await asyncio.sleep(2.5)
    await publisher.close()
    await server.close()
    directory = tmp_path / f"session-{SESSION}"
    assert verify_recording(directory).ok
    segment = sorted(directory.glob("*-video-*.webm"))[0]
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x01
    segment.write_bytes(bytes(data))
    report = verify_recording(directory)
    assert not report.ok
    assert any("altered" in p and segment.name in p for p in report.problems)


def test_an_edited_manifest_entry_breaks_the_chain(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    import hashlib

    from rtc.recording import ZERO, _canonical

    prev = ZERO
    lines = []
    for n, kind in enumerate(["start", "join", "leave"]):
        entry: dict = {"n": n, "type": kind, "prev": prev, "at": n, "utc": "x", "offset": n}
        entry["hash"] = hashlib.sha256(_canonical(entry)).hexdigest()
        prev = entry["hash"]
        lines.append(json.dumps(entry))
    manifest.write_text("\n".join(lines) + "\n")
    assert verify_recording(tmp_path).ok
    edited = lines[1].replace('"join"', '"mute"')
    manifest.write_text("\n".join([lines[0], edited, lines[2]]) + "\n")
    assert any("hash does not match" in p for p in verify_recording(tmp_path).problems)
    manifest.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert any("does not chain" in p for p in verify_recording(tmp_path).problems)


@pytest.mark.parametrize("reason", ["reconnect"])
async def test_a_reconnecting_participant_gives_a_gap_then_a_new_segment(tmp_path, reason):
    server = MediaServer(MediaConfig(host_addresses=["127.0.0.1"], recordings_dir=tmp_path, segment_seconds=30))
    first = await connect(server, "expert_a")
    await asyncio.sleep(1.5)
    await first.close()
    second = await connect(server, "expert_a")  # a new connection (new ICE credentials) for the same participant
    await asyncio.sleep(1.5)
    await second.close()
    await server.close()
    entries = [
        json.loads(line) for line in (tmp_path / f"session-{SESSION}" / "manifest.jsonl").read_text().splitlines()
    ]
    kinds = [(e["type"], e.get("kind")) for e in entries]
    gap = kinds.index(("gap", None))
    assert ("segment", "video") in kinds[:gap]
    assert ("segment", "video") in kinds[gap:]
    assert verify_recording(tmp_path / f"session-{SESSION}").ok


def test_the_verify_recording_command_exits_1_on_a_broken_chain(tmp_path):
    from django.core.management import CommandError, call_command

    (tmp_path / "manifest.jsonl").write_text('{"n": 0, "type": "start", "prev": "x", "hash": "y"}\n')
    with pytest.raises(CommandError) as raised:
        call_command("verify_recording", str(tmp_path))
    assert raised.value.returncode == 1
    assert "hash does not match" in str(raised.value)


async def test_a_room_emptied_and_joined_again_at_once_keeps_one_unbroken_manifest(tmp_path):
    server = MediaServer(MediaConfig(host_addresses=["127.0.0.1"], recordings_dir=tmp_path, segment_seconds=30))
    first = await connect(server, "expert_a")
    await asyncio.sleep(1)
    await first.close()
    leaving = asyncio.ensure_future(server.leave(SESSION, "expert_a"))
    second = await connect(server, "expert_b")  # while the first recording is being closed
    await leaving
    await asyncio.sleep(1)
    await second.close()
    await server.close()
    directory = tmp_path / f"session-{SESSION}"
    report = verify_recording(directory)
    assert report.ok, report.problems
    entries = [json.loads(line) for line in (directory / "manifest.jsonl").read_text().splitlines()]
    assert [e["type"] for e in entries].count("start") == 1
    assert {e["participant"] for e in entries if e["type"] == "segment"} == {"expert_a", "expert_b"}
