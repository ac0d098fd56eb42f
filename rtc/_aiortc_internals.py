"""Everything that reaches into aiortc's and aioice's internals, in one place.

aiortc decodes every received stream and re-encodes it per viewer; the media server instead takes
the decrypted RTP straight off each publisher's ICE connection and writes rewritten copies straight
onto each viewer's, with no coroutine, queue or thread hop per packet. That needs private names of
aiortc 1.16.0, aioice 0.13.0 and pylibsrtp 1.0.0, which are asserted here; ``tests/rtc/test_aiortc_internals.py``
fails loudly when an upgrade moves any of them.

What is touched:
- ``aioice.ice.get_host_addresses``: replaced to gather only the configured host addresses (aioice
  never offers 127.0.0.1 otherwise, and tests and the embedded default must stay on loopback);
- ``aioice.ice.Connection.data_received`` / ``StunProtocol.datagram_received`` (per instance): SRTP
  and SRTCP are decrypted and handed to the forwarder synchronously; DTLS and STUN take aiortc's path;
- ``RTCDtlsTransport._rx_srtp`` / ``_tx_srtp``: the SRTP sessions of a connected transport;
- ``aioice.ice.Connection._nominated``: the selected pair, to send datagrams without awaiting;
- ``RTCRtpTransceiver._codecs``: limited to VP8 and Opus (the only codecs forwarded) before answering;
- ``RTCRtpSender._ssrc``; ``RTCRtpSender._run_rtcp`` (per instance, before the sender starts) and the
  private ``__started``, ``__rtcp_started``, ``__rtcp_exited`` it uses, so that aiortc sends no RTCP
  of its own for a subscriber's slots (the forwarder sends one compound report per subscriber);
- pylibsrtp 1.0.0's ``Session._srtp`` and its cffi ``lib.srtp_protect``/``srtp_protect_rtcp``, and
  the ``_sock`` of asyncio's datagram transport, so a forwarded packet is encrypted in place and
  sent without the copies and checks of the public paths (``RawSender``).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import aioice.ice
import aiortc
import pylibsrtp
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from pylibsrtp._binding import ffi as srtp_ffi  # type: ignore[import-not-found]
from pylibsrtp._binding import lib as srtp_lib

PINNED = {"aiortc": "1.16.0", "aioice": "0.13.0", "pylibsrtp": "1.0.0"}


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


def intercept_srtp(dtls: RTCDtlsTransport, on_rtp: SrtpHandler, on_rtcp: SrtpHandler) -> None:
    """Decrypt SRTP and SRTCP of ``dtls`` and hand the plain packets to ``on_rtp``/``on_rtcp`` synchronously.

    Everything else (STUN, DTLS, and SRTP before the keys exist) goes to aiortc as before; aiortc
    never sees the media or the RTCP of a connected transport.
    """
    connection = ice_connection(dtls)
    queue = connection._queue

    def data_received(data: bytes, component: int) -> None:
        srtp = dtls._rx_srtp
        if srtp is not None and 127 < data[0] < 192:
            try:
                if 191 < data[1] < 224:  # RTCP packet types 192-223 (RFC 5761 4)
                    on_rtcp(srtp.unprotect_rtcp(data))
                else:
                    on_rtp(srtp.unprotect(data))
            except pylibsrtp.Error:  # replayed or forged: dropped, as aiortc does
                return
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


_RTP_HEADER = struct.Struct("!BBHII")
_BUFFER_SIZE = 1500
_MAX_PLAIN = _BUFFER_SIZE - 148  # room for any SRTP/SRTCP trailer (libsrtp's SRTP_MAX_TRAILER_LEN)
# One buffer for every sender: packets are built, encrypted in place and sent one at a time, on
# the event loop's thread, so nothing else can touch it in between.
_cdata = srtp_ffi.new("char[]", _BUFFER_SIZE)
_view = srtp_ffi.buffer(_cdata)
_memory = memoryview(_view)
_length = srtp_ffi.new("int *")


class RawSender:
    """Encrypts and sends plain RTP/RTCP on a connected transport without awaiting anything.

    The packet is written into one preallocated buffer, encrypted there by libsrtp (pylibsrtp's own
    ``protect`` allocates and copies twice per packet) and sent from it with the socket's
    ``sendto`` (asyncio's transport adds checks and buffering a media packet does not want: a full
    socket buffer drops the packet, as the network would). Through TURN, the relay's transport.

    Never raises: once the transport is gone (closed, consent expired), ``dead`` is set and every
    later packet is dropped, so one dead viewer cannot stop a publisher's loop over its viewers.
    """

    # ``_srtp`` holds the pylibsrtp Session: its srtp_t (``_session``) is freed with it.
    __slots__ = ("_addr", "_connection", "_dtls", "_sendto", "_session", "_srtp", "_turn", "dead")

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self._connection = ice_connection(dtls)
        self._sendto: Callable[[Any, Any], Any] | None = None
        self._session: Any = None
        self._srtp: pylibsrtp.Session | None = None
        self._addr: Any = None
        self._turn = False
        self.dead = False

    @classmethod
    def on_socket(cls, session: pylibsrtp.Session, sock: Any, addr: tuple[str, int]) -> RawSender:
        """A sender on a plain UDP socket, without a peer connection (``bench/rtc_forward_path.py``)."""
        sender = cls.__new__(cls)
        sender._dtls = sender._connection = None  # type: ignore[assignment]
        sender._srtp, sender._session = session, session._srtp[0]
        sender._addr, sender._turn, sender.dead = addr, False, False
        sender._sendto = sock.sendto
        return sender

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
        transport = pair.protocol.transport
        sock = getattr(transport, "_sock", None)  # asyncio's datagram transport; aioice's TurnTransport has none
        self._srtp, self._session = srtp, srtp._srtp[0]
        self._addr = pair.remote_addr
        self._turn = sock is None
        self._sendto = transport.sendto if sock is None else sock.sendto
        return True

    def send_rtp(self, first: int, second: int, seq: int, timestamp: int, ssrc: int, payload: bytes) -> None:
        """Send an RTP packet: a 12-byte header of these fields, then ``payload``."""
        if self._sendto is None and not self.ready():
            return
        size = 12 + len(payload)
        if size > _MAX_PLAIN:
            return
        _RTP_HEADER.pack_into(_view, 0, first, second, seq, timestamp, ssrc)
        _view[12:size] = payload
        self._send(srtp_lib.srtp_protect, size)

    def rtcp(self, plain: bytes) -> None:
        if self._sendto is None and not self.ready():
            return
        size = len(plain)
        if size > _MAX_PLAIN:
            return
        _view[0:size] = plain
        self._send(srtp_lib.srtp_protect_rtcp, size)

    def _send(self, protect: Any, size: int) -> None:
        _length[0] = size
        if protect(self._session, _cdata, _length):
            return  # libsrtp refused (e.g. a key past its limit): the packet is dropped
        try:
            if self._turn:
                self._sendto(_view[0 : _length[0]], self._addr)  # type: ignore[misc]
            else:
                self._sendto(_memory[: _length[0]], self._addr)  # type: ignore[misc]
        except BlockingIOError:
            pass  # the socket's buffer is full: dropped, as the network would
        except Exception:
            self._die()

    def _die(self) -> None:
        self._sendto = None
        if self._dtls.state != "connected":
            self.dead = True


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


def silence_sender_rtcp(sender: RTCRtpSender) -> None:
    """Keep aiortc's RTCP task of ``sender`` (an SR + SDES every 0.5-1.5 s) from ever sending.

    The forwarder writes one compound report per subscriber instead (``rtc/rtcp.py``). The task is
    replaced before ``send()`` starts it, by one that only marks itself started and, when cancelled
    by ``stop()``, exited (so ``stop()`` still returns; no BYE either, the connection's close says it).
    A sender already started is left alone.
    """
    if sender._RTCRtpSender__started:  # type: ignore[attr-defined]
        return
    started: asyncio.Event = sender._RTCRtpSender__rtcp_started  # type: ignore[attr-defined]
    exited: asyncio.Event = sender._RTCRtpSender__rtcp_exited  # type: ignore[attr-defined]

    async def run_rtcp() -> None:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.get_running_loop().create_future()
        exited.set()

    sender._run_rtcp = run_rtcp  # type: ignore[method-assign]


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
