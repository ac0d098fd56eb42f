"""Everything that reaches into aiortc's and aioice's internals, in one place.

aiortc decodes every received stream and re-encodes it per viewer; the media server instead takes
the decrypted RTP straight off each publisher's ICE connection and writes rewritten copies straight
onto each viewer's, with no coroutine, queue or thread hop per packet. That needs private names of
aiortc 1.16.0 and aioice 0.13.0, which are asserted here; ``tests/rtc/test_aiortc_internals.py``
fails loudly when an upgrade moves any of them.

What is touched:
- ``aioice.ice.get_host_addresses``: replaced to gather only the configured host addresses (aioice
  never offers 127.0.0.1 otherwise, and tests and the embedded default must stay on loopback);
- ``aioice.ice.Connection.data_received`` / ``StunProtocol.datagram_received`` (per instance): SRTP
  is decrypted and handed to the forwarder synchronously; DTLS, STUN and SRTCP take aiortc's path;
- ``RTCDtlsTransport._rx_srtp`` / ``_tx_srtp``: the SRTP sessions of a connected transport;
- ``aioice.ice.Connection._nominated``: the selected pair, to send datagrams without awaiting;
- ``RTCRtpTransceiver._codecs``: limited to VP8 and Opus (the only codecs forwarded) before answering;
- ``RTCRtpSender._ssrc`` and its sender-report counters; ``RTCRtpSender._handle_rtcp_packet`` (per
  instance) so a viewer's NACK, PLI and FIR reach the forwarder;
- ``aiortc.codecs.vpx.vp8_depayload`` for recording.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import aioice.ice
import aiortc
from aiortc import clock
from aiortc.codecs.vpx import vp8_depayload
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    pack_remb_fci,
)

PINNED = {"aiortc": "1.16.0", "aioice": "0.13.0"}


class InternalsChanged(RuntimeError):
    """The installed aiortc/aioice is not the version whose internals this module was written for."""


def check_versions() -> None:
    for package, pinned in PINNED.items():
        installed = version(package)
        if installed != pinned:
            raise InternalsChanged(f"rtc needs {package}=={pinned} (its internals are patched), found {installed}")


check_versions()

# --- host addresses -----------------------------------------------------------------------------

_original_get_host_addresses = aioice.ice.get_host_addresses
_host_addresses: list[str] | None = None


def _configured_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if _host_addresses is None:
        return _original_get_host_addresses(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
    return [a for a in _host_addresses if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]


def set_host_addresses(addresses: list[str] | None) -> None:
    """Gather ICE host candidates only on ``addresses`` (None: every interface but loopback, aioice's own)."""
    global _host_addresses
    _host_addresses = list(addresses) if addresses is not None else None
    aioice.ice.get_host_addresses = _configured_host_addresses


def loopback_only() -> bool:
    return bool(_host_addresses) and all(a.startswith("127.") for a in _host_addresses or [])


def refuse_checks_from_elsewhere(dtls: RTCDtlsTransport) -> None:
    """With loopback-only host addresses, ignore ICE checks from any other address.

    A browser also gathers on its other interfaces and sends checks from them to our 127.0.0.1
    candidate; aioice would learn such an address as peer-reflexive and might nominate it.
    """
    if not loopback_only():
        return
    connection = ice_connection(dtls)
    checked = connection.request_received

    def request_received(message: Any, addr: tuple[str, int], protocol: Any) -> None:
        if addr[0].startswith("127."):
            checked(message, addr, protocol)

    connection.request_received = request_received  # type: ignore[method-assign]


# --- the connection's datagrams ----------------------------------------------------------------


def dtls_transport(pc: aiortc.RTCPeerConnection) -> RTCDtlsTransport | None:
    for transceiver in pc.getTransceivers():
        return transceiver.receiver.transport
    return None


def ice_connection(dtls: RTCDtlsTransport) -> aioice.ice.Connection:
    return dtls.transport._connection


SrtpHandler = Callable[[bytes], None]


def intercept_srtp(dtls: RTCDtlsTransport, on_rtp: SrtpHandler) -> None:
    """Decrypt SRTP (not SRTCP) of ``dtls`` and hand the plain RTP to ``on_rtp`` synchronously.

    Everything else (STUN, DTLS, SRTCP, and SRTP before the keys exist) goes to aiortc as before.
    """
    connection = ice_connection(dtls)
    queue = connection._queue

    def data_received(data: bytes, component: int) -> None:
        srtp = dtls._rx_srtp
        if srtp is not None and 127 < data[0] < 192 and not 191 < data[1] < 209:
            try:
                plain = srtp.unprotect(data)
            except Exception:  # pylibsrtp.Error: replayed or forged, as aiortc does, dropped
                return
            on_rtp(plain)
            return
        queue.put_nowait((data, component))

    connection.data_received = data_received  # type: ignore[method-assign]


def _fast_protocols(connection: aioice.ice.Connection) -> None:
    """Let media datagrams skip aioice's attempt to parse every datagram as STUN first."""
    for pair in connection._nominated.values():
        protocol = pair.protocol
        if getattr(protocol, "_rtc_fast", False):
            continue
        stun_path = protocol.datagram_received
        component = protocol.local_candidate.component

        def datagram_received(
            data: bytes, addr: tuple[Any, ...], stun_path: Any = stun_path, component: int = component
        ) -> None:
            if 127 < data[0] < 192 or 19 < data[0] < 64:
                connection.data_received(data, component)
            else:
                stun_path(data, addr)

        protocol.datagram_received = datagram_received  # type: ignore[method-assign,assignment]
        protocol._rtc_fast = True  # type: ignore[attr-defined]


class RawSender:
    """Encrypts and sends plain RTP/RTCP on a connected transport without awaiting anything.

    Never raises: once the transport is gone (closed, consent expired), ``dead`` is set and every
    later packet is dropped, so one dead viewer cannot stop a publisher's loop over its viewers.
    """

    __slots__ = ("_addr", "_connection", "_dtls", "_sendto", "_srtp", "dead")

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self._connection = ice_connection(dtls)
        self._sendto: Callable[[bytes, Any], None] | None = None
        self._srtp: Any = None
        self._addr: Any = None
        self.dead = False

    def ready(self) -> bool:
        if self._sendto is not None:
            return True
        if self.dead:
            return False
        pair = self._connection._nominated.get(1)
        srtp = self._dtls._tx_srtp
        if pair is None or srtp is None or self._dtls.state != "connected" or pair.protocol.transport is None:
            return False
        _fast_protocols(self._connection)
        self._srtp = srtp
        self._addr = pair.remote_addr
        self._sendto = pair.protocol.transport.sendto
        return True

    def rtp(self, plain: bytes) -> None:
        if self._sendto is not None or self.ready():
            try:
                self._sendto(self._srtp.protect(plain), self._addr)  # type: ignore[misc]
            except Exception:
                self._die()

    def rtcp(self, plain: bytes) -> None:
        if self._sendto is not None or self.ready():
            try:
                self._sendto(self._srtp.protect_rtcp(plain), self._addr)  # type: ignore[misc]
            except Exception:
                self._die()

    def _die(self) -> None:
        self._sendto = None
        if self._dtls.state != "connected":
            self.dead = True


# --- RTCP built here -----------------------------------------------------------------------------


def pli(sender_ssrc: int, media_ssrc: int) -> bytes:
    return bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=sender_ssrc, media_ssrc=media_ssrc))


def nack(sender_ssrc: int, media_ssrc: int, lost: list[int]) -> bytes:
    packet = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=sender_ssrc, media_ssrc=media_ssrc)
    packet.lost = lost
    return bytes(packet)


def receiver_report(sender_ssrc: int, reports: list[tuple[int, int, int]], remb_bps: int) -> bytes:
    """An RR (ssrc, highest sequence, packets lost per stream) plus a REMB for the video streams."""
    rr = RtcpRrPacket(
        ssrc=sender_ssrc,
        reports=[
            RtcpReceiverInfo(
                ssrc=ssrc, fraction_lost=0, packets_lost=lost, highest_sequence=seq, jitter=0, lsr=0, dlsr=0
            )
            for ssrc, seq, lost in reports
        ],
    )
    remb = RtcpPsfbPacket(
        fmt=RTCP_PSFB_APP, ssrc=sender_ssrc, media_ssrc=0, fci=pack_remb_fci(remb_bps, [s for s, _, _ in reports])
    )
    return bytes(rr) + bytes(remb)


# --- senders and transceivers ----------------------------------------------------------------------


class IdleTrack(MediaStreamTrack):
    """A track that never yields a frame: the sender's own loop sleeps, the forwarder writes the RTP."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self) -> Any:
        await self._never
        raise AssertionError("unreachable")


def sender_ssrc(sender: RTCRtpSender) -> int:
    return sender._ssrc


def set_sender_report(sender: RTCRtpSender, rtp_timestamp: int, at: float, packets: int, octets: int) -> None:
    """Feed the sender's own RTCP SR with what the forwarder sent (``at``: time.time() of ``rtp_timestamp``)."""
    ntp_now = clock.current_ntp_time()
    sender._RTCRtpSender__ntp_timestamp = ntp_now - int((time.time() - at) * (1 << 32))  # type: ignore[attr-defined]
    sender._RTCRtpSender__rtp_timestamp = rtp_timestamp  # type: ignore[attr-defined]
    sender._RTCRtpSender__packet_count = packets  # type: ignore[attr-defined]
    sender._RTCRtpSender__octet_count = octets  # type: ignore[attr-defined]


def on_sender_feedback(sender: RTCRtpSender, handler: Callable[[Any], bool]) -> None:
    """Route RTCP feedback for ``sender`` (NACK, PLI, FIR) to ``handler`` first; it returns True if it took it."""
    original = sender._handle_rtcp_packet

    async def handle(packet: Any) -> None:
        if not handler(packet):
            await original(packet)

    sender._handle_rtcp_packet = handle  # type: ignore[method-assign]


FORWARDED_CODECS = {"audio": "audio/opus", "video": "video/vp8"}


def restrict_codecs(transceiver: RTCRtpTransceiver) -> bool:
    """Keep only the codec the server forwards (VP8 or Opus) and its RTX; False when the offer has none."""
    wanted = FORWARDED_CODECS[transceiver.kind]
    kept = [c for c in transceiver._codecs if c.mimeType.lower() == wanted]
    if not kept:
        return False
    payload_types = {c.payloadType for c in kept}
    rtx = [
        c
        for c in transceiver._codecs
        if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") in payload_types
    ]
    transceiver._codecs = kept[:1] + rtx[:1]
    return True


def depayload_vp8(payload: bytes) -> bytes:
    return vp8_depayload(payload)


def classify_feedback(packet: Any) -> tuple[str, list[int]] | None:
    """('nack', lost sequence numbers) or ('keyframe', []) for a viewer's PLI/FIR; None for anything else."""
    if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
        return "nack", list(packet.lost)
    if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
        return "keyframe", []
    return None


# --- for the load generators of bench/rtc_room.py ------------------------------------------------


def count_srtp(pc: aiortc.RTCPeerConnection, on_packet: Callable[[], None], *, keep: bool) -> None:
    """Call ``on_packet`` for each SRTP (not SRTCP) datagram; ``keep=False`` drops it undecrypted."""
    dtls = dtls_transport(pc)
    assert dtls is not None
    connection = ice_connection(dtls)
    queue = connection._queue

    def data_received(data: bytes, component: int) -> None:
        if 127 < data[0] < 192 and not 191 < data[1] < 209:
            on_packet()
            if not keep:
                return
        queue.put_nowait((data, component))

    connection.data_received = data_received  # type: ignore[method-assign]
    _fast_protocols(connection)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the remote side asks ``sender`` for a keyframe (PLI or FIR)."""
    sender._send_keyframe = callback  # type: ignore[method-assign]
