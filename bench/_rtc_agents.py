"""The processes of bench/rtc_room.py: a media server, a replaying publisher, light subscribers.

    python -m bench._rtc_agents server --kind forward|relay --port P
    python -m bench._rtc_agents publisher --target T --clip DIR
    python -m bench._rtc_agents subscribers --target T --count N [--decode] [--video-slots V --audio-slots A]

``T`` is ``tcp:127.0.0.1:P`` (the JSON-lines signalling of ``server``) or ``janus:http://ADDR:8088/janus``.
Every process prints ``{"ready": ...}`` once connected; subscribers then answer each ``count`` line on
stdin with their SRTP packet count, the frames the decoding one decoded and its keyframe delay.
Pre-encoded media is replayed as packets (aiortc only packetizes them): nothing is encoded.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import pickle
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy

from rtc import _aiortc_internals as internals

FPS = 20
VIDEO_SIZE = (640, 360)


def say(**data: Any) -> None:
    print(json.dumps(data), flush=True)


# --- the clip -------------------------------------------------------------------------------------


def make_clip(directory: Path, seconds: int = 10) -> Path:
    """VP8 640x360 20 fps ~600 kb/s (a keyframe every 5 s) and Opus 20 ms, encoded once and cached."""
    path = directory / "rtc_clip.pickle"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    source = av.open(f"testsrc2=size={VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}:rate={FPS}", format="lavfi")
    encoder: Any = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height = VIDEO_SIZE
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = fractions.Fraction(1, FPS)
    encoder.bit_rate = 600_000
    encoder.gop_size = 5 * FPS
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "threads": "1"}
    video: list[bytes] = []
    frame: Any
    for i, frame in enumerate(source.decode(video=0)):
        if i >= seconds * FPS:
            break
        picture = frame.reformat(format="yuv420p")
        picture.pts, picture.time_base = i, encoder.time_base
        picture.pict_type = av.video.frame.PictureType.NONE
        video += [bytes(p) for p in encoder.encode(picture)]
    video += [bytes(p) for p in encoder.encode(None)]
    tone = av.open("sine=frequency=440:sample_rate=48000", format="lavfi")
    opus: Any = av.CodecContext.create("libopus", "w")
    opus.sample_rate = 48000
    opus.layout = "mono"
    opus.format = "s16"
    opus.time_base = fractions.Fraction(1, 48000)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000, frame_size=960)
    audio: list[bytes] = []
    for frame in tone.decode(audio=0):
        for chunk in resampler.resample(frame):
            audio += [bytes(p) for p in opus.encode(chunk)]
        if len(audio) >= seconds * 50:
            break
    path.write_bytes(pickle.dumps({"video": video, "audio": audio[: seconds * 50]}))
    return path


class Replay(MediaStreamTrack):
    """Pre-encoded packets at their real pace; a keyframe request restarts the clip (it opens on one)."""

    def __init__(self, kind: str, packets: list[bytes]) -> None:
        super().__init__()
        self.kind = kind
        self.packets = packets
        self.index = 0
        self.count = 0
        self.period = 1 / FPS if kind == "video" else 0.02
        self.clock = 90000 if kind == "video" else 48000
        self.start: float | None = None

    def restart(self) -> None:
        self.index = 0

    async def recv(self) -> av.Packet:
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.count * self.period - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        packet = av.Packet(self.packets[self.index])
        packet.pts = int(self.count * self.period * self.clock)
        packet.time_base = fractions.Fraction(1, self.clock)
        self.index = (self.index + 1) % len(self.packets)
        self.count += 1
        return packet


# --- signalling -------------------------------------------------------------------------------------


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


async def tcp_request(target: str, request: dict[str, Any]) -> dict[str, Any]:
    host, port = target.split(":")[1:]
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(json.dumps(request).encode() + b"\n")
    await writer.drain()
    reply = json.loads(await reader.readline())
    writer.close()
    return reply


class Janus:
    """Just enough of the Janus HTTP API for one videoroom."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = ""
        self.handle = ""

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {"transaction": str(time.monotonic_ns()), **body}
        req = urllib.request.Request(self.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def _poll(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/{self.session}?maxev=10", timeout=40) as r:
            data = json.loads(r.read())
        return data if isinstance(data, list) else [data]

    async def attach(self) -> None:
        created = await asyncio.to_thread(self._post, "", {"janus": "create"})
        self.session = str(created["data"]["id"])
        attached = await asyncio.to_thread(
            self._post, f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        )
        self.handle = str(attached["data"]["id"])
        asyncio.get_running_loop().create_task(self._keepalive())

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(20)
            await asyncio.to_thread(self._post, f"/{self.session}", {"janus": "keepalive"})

    async def message(self, body: dict[str, Any], jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        reply = await asyncio.to_thread(self._post, f"/{self.session}/{self.handle}", request)
        if reply.get("janus") == "success":
            return reply
        while True:  # the answer comes as an event
            for event in await asyncio.to_thread(self._poll):
                if event.get("janus") == "event" and str(event.get("sender")) == self.handle:
                    return event


ROOM = 4242


async def janus_room(url: str) -> None:
    janus = Janus(url)
    await janus.attach()
    await janus.message(
        {
            "request": "create",
            "room": ROOM,
            "publishers": 16,
            "videocodec": "vp8",
            "audiocodec": "opus",
            "bitrate": 0,
            "fir_freq": 0,
            "audiolevel_ext": True,
        }
    )


async def publish(target: str, pc: RTCPeerConnection) -> None:
    await pc.setLocalDescription(await pc.createOffer())
    if target.startswith("tcp:"):
        reply = await tcp_request(
            target, {"op": "negotiate", "participant": "publisher", "sdp": pc.localDescription.sdp}
        )
        await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        return
    janus = Janus(target[len("janus:") :])
    await janus.attach()
    event = await janus.message(
        {
            "request": "joinandconfigure",
            "room": ROOM,
            "ptype": "publisher",
            "display": "publisher",
            "audio": True,
            "video": True,
        },
        {"type": "offer", "sdp": pc.localDescription.sdp},
    )
    await pc.setRemoteDescription(RTCSessionDescription(event["jsep"]["sdp"], "answer"))


async def subscribe(target: str, pc: RTCPeerConnection, name: str, video_slots: int, audio_slots: int) -> None:
    if target.startswith("tcp:"):
        for _ in range(video_slots):
            pc.addTransceiver("video", direction="recvonly")
        for _ in range(audio_slots):
            pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        reply = await tcp_request(target, {"op": "negotiate", "participant": name, "sdp": pc.localDescription.sdp})
        await pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        return
    janus = Janus(target[len("janus:") :])
    await janus.attach()
    feeds: list[Any] = []
    while not feeds:
        listed = await janus.message({"request": "listparticipants", "room": ROOM})
        feeds = [p["id"] for p in listed["plugindata"]["data"]["participants"] if p.get("publisher")]
        if not feeds:
            await asyncio.sleep(0.2)
    event = await janus.message(
        {"request": "join", "room": ROOM, "ptype": "subscriber", "streams": [{"feed": feeds[0]}]}
    )
    await pc.setRemoteDescription(RTCSessionDescription(event["jsep"]["sdp"], "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    await janus.message({"request": "start", "room": ROOM}, {"type": "answer", "sdp": pc.localDescription.sdp})


async def connected(pc: RTCPeerConnection, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while pc.connectionState != "connected":
        if time.monotonic() > deadline or pc.connectionState in ("failed", "closed"):
            raise RuntimeError(f"peer connection {pc.connectionState}")
        await asyncio.sleep(0.05)


# --- roles -------------------------------------------------------------------------------------------


async def run_server(kind: str, port: int) -> None:
    from rtc.media import MediaConfig, MediaServer

    internals.set_host_addresses(["127.0.0.1"])
    recordings = Path(tempfile.mkdtemp(prefix="rtc_room_recordings_"))  # the worker records, as in production
    config = MediaConfig(host_addresses=["127.0.0.1"], last_n=6, recordings_dir=recordings)
    media = MediaServer(config) if kind == "forward" else None
    relay = MediaRelay()
    published: dict[str, Any] = {}
    pcs: list[RTCPeerConnection] = []

    async def relay_negotiate(participant: str, sdp: str) -> str:
        pc = new_pc()
        pcs.append(pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if participant == "publisher":
                published[track.kind] = track

        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        if participant != "publisher":
            for transceiver in pc.getTransceivers():
                source = published.get(transceiver.kind)
                if source is not None and transceiver.sender.track is None:
                    transceiver.sender.replaceTrack(relay.subscribe(source))
                    transceiver.direction = "sendonly"
                    published.pop(transceiver.kind + "-used", None)
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = json.loads(await reader.readline())
        participant, sdp = request["participant"], request["sdp"]
        if media is not None:
            answer = await media.negotiate(1, participant, sdp, can_publish=participant == "publisher", display={})
        else:
            answer = await relay_negotiate(participant, sdp)
        writer.write(json.dumps({"sdp": answer}).encode() + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    say(ready="server")
    async with server:
        await asyncio.to_thread(sys.stdin.read)  # until the orchestrator closes stdin
    if media is not None:
        await media.close()
    shutil.rmtree(recordings, ignore_errors=True)


async def run_publisher(target: str, clip: Path, host: str) -> None:
    internals.set_host_addresses([host])
    packets = pickle.loads(clip.read_bytes())
    pc = new_pc()
    tracks = {kind: Replay(kind, packets[kind]) for kind in ("audio", "video")}
    for kind in ("audio", "video"):
        transceiver = pc.addTransceiver(tracks[kind], direction="sendonly")
        if kind == "video":
            internals.on_keyframe_request(transceiver.sender, tracks["video"].restart)
    await publish(target, pc)
    await connected(pc)
    say(ready="publisher")
    await asyncio.to_thread(sys.stdin.read)
    await pc.close()


async def run_subscribers(target: str, count: int, decode: bool, video_slots: int, audio_slots: int, host: str) -> None:
    internals.set_host_addresses([host])
    packets = 0
    decoded = 0
    keyframe_delay: float | None = None

    def counted() -> None:
        nonlocal packets
        packets += 1

    pcs = []
    for i in range(count):
        pc = new_pc()
        pcs.append(pc)
        checker = decode and i == 0
        video_tracks: list[MediaStreamTrack] = []

        @pc.on("track")
        def on_track(track: MediaStreamTrack, video_tracks: list = video_tracks) -> None:
            if track.kind == "video":
                video_tracks.append(track)

        await subscribe(target, pc, f"viewer-{time.monotonic_ns()}", video_slots, audio_slots)
        await connected(pc)
        internals.count_srtp(pc, counted, keep=checker)
        if checker:
            joined = time.monotonic()

            async def read(tracks: list = video_tracks, joined: float = joined) -> None:
                nonlocal decoded, keyframe_delay
                while not tracks:
                    await asyncio.sleep(0.01)
                while True:
                    try:
                        frame = await tracks[0].recv()
                    except MediaStreamError:
                        return
                    if frame.width == VIDEO_SIZE[0]:
                        decoded += 1
                        if keyframe_delay is None:
                            keyframe_delay = time.monotonic() - joined

            asyncio.get_running_loop().create_task(read())
    say(ready="subscribers", count=count)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        if line.strip() == b"count":
            say(packets=packets, decoded=decoded, keyframe_delay=keyframe_delay)
    for pc in pcs:
        await pc.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["server", "publisher", "subscribers", "clip"])
    parser.add_argument("--kind", default="forward")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--target", default="")
    parser.add_argument("--clip", default="")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--decode", action="store_true")
    parser.add_argument("--video-slots", type=int, default=7)
    parser.add_argument("--audio-slots", type=int, default=11)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    if args.role == "clip":
        say(clip=str(make_clip(Path(args.clip))))
    elif args.role == "server":
        asyncio.run(run_server(args.kind, args.port))
    elif args.role == "publisher":
        asyncio.run(run_publisher(args.target, Path(args.clip), args.host))
    else:
        asyncio.run(
            run_subscribers(args.target, args.count, args.decode, args.video_slots, args.audio_slots, args.host)
        )


if __name__ == "__main__":
    main()
