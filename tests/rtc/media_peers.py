"""Real aiortc peers, in-process on loopback, that play the browser against the media server."""

from __future__ import annotations

import asyncio
import fractions
import math
import struct
from dataclasses import dataclass, field

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy

from rtc.media import MediaServer

SESSION = 1


class PatternTrack(VideoStreamTrack):
    """Small frames (160x120, 15 fps) whose brightness changes, so a decoder has work to check."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        await asyncio.sleep(1 / 15)
        pts = int(self.count * 90000 / 15)
        frame = av.VideoFrame(160, 120, "yuv420p")
        shade = (self.count * 7) % 200 + 20
        for i, plane in enumerate(frame.planes):
            plane.update(bytes([shade if i == 0 else 128]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, 90000)
        self.count += 1
        return frame


class ToneTrack(AudioStreamTrack):
    """20 ms Opus-ready frames: a 440 Hz tone while ``loud``, silence otherwise (the audio level follows)."""

    def __init__(self, loud: bool = True) -> None:
        super().__init__()
        self.loud = loud
        self.samples = 0
        tone = [int(12000 * math.sin(2 * math.pi * 440 * n / 48000)) for n in range(960)]
        self._tone = struct.pack("<960h", *tone)
        self._silence = bytes(1920)

    async def recv(self) -> av.AudioFrame:
        await asyncio.sleep(0.02)
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(self._tone if self.loud else self._silence)
        frame.sample_rate = 48000
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, 48000)
        self.samples += 960
        return frame


@dataclass
class Client:
    participant: str
    pc: RTCPeerConnection
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)
    audio: ToneTrack | None = None
    video: PatternTrack | None = None

    def mids(self, kind: str) -> list[str]:
        return [t.mid for t in self.pc.getTransceivers() if t.kind == kind and t.direction == "recvonly" and t.mid]

    async def frames(self, mid: str, count: int, timeout: float = 10.0) -> list:
        got: list = []

        async def read() -> None:
            while len(got) < count:
                got.append(await self.tracks[mid].recv())

        await asyncio.wait_for(read(), timeout)
        return got

    async def close(self) -> None:
        await self.pc.close()


async def connect(
    server: MediaServer,
    participant: str,
    *,
    publish: bool = True,
    can_publish: bool = True,
    video_slots: int = 2,
    audio_slots: int = 2,
    loud: bool = True,
    session: int = SESSION,
) -> Client:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    client = Client(participant, pc)
    if publish:
        client.audio = ToneTrack(loud)
        client.video = PatternTrack()
        pc.addTransceiver(client.audio, direction="sendonly")
        pc.addTransceiver(client.video, direction="sendonly")
    for _ in range(video_slots):
        pc.addTransceiver("video", direction="recvonly")
    for _ in range(audio_slots):
        pc.addTransceiver("audio", direction="recvonly")

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        for transceiver in pc.getTransceivers():
            if transceiver.receiver.track is track and transceiver.mid:
                client.tracks[transceiver.mid] = track

    await pc.setLocalDescription(await pc.createOffer())
    answer = await server.negotiate(
        session, participant, pc.localDescription.sdp, can_publish=can_publish, display={"name": participant}
    )
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return client
