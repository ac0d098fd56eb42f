"""Fails loudly when an aiortc/aioice upgrade moves the internals rtc/_aiortc_internals.py relies on."""

from __future__ import annotations

import asyncio
import inspect
import socket
from importlib.metadata import version

import aioice.ice
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpsender import RTCRtpSender

from rtc import _aiortc_internals as internals


def test_the_pinned_versions_are_installed():
    for package, pinned in internals.PINNED.items():
        assert version(package) == pinned, f"rtc/_aiortc_internals.py was written for {package}=={pinned}"


def test_the_private_names_the_media_server_uses_still_exist():
    assert "_queue.put_nowait" in inspect.getsource(aioice.ice.Connection.data_received)
    assert "get_host_addresses(" in inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert "self._nominated" in inspect.getsource(aioice.ice.Connection.sendto)
    assert "stun.parse_message" in inspect.getsource(aioice.ice.StunProtocol.datagram_received)
    setup = inspect.getsource(RTCDtlsTransport._setup_srtp)
    assert "self._rx_srtp" in setup and "self._tx_srtp" in setup and "allow_repeat_tx = True" in setup
    assert "self._rx_srtp" in inspect.getsource(RTCDtlsTransport._recv_next)
    assert "self._rx_srtp.unprotect_rtcp" in inspect.getsource(RTCDtlsTransport._recv_next)
    sender = inspect.getsource(RTCRtpSender)
    for name in ("self._ssrc", "self.__started", "self.__rtcp_started", "self.__rtcp_exited"):
        assert name in sender, name
    # The sender's RTCP loop is started by name in send(), and stop() waits on the events it sets.
    assert "asyncio.ensure_future(self._run_rtcp())" in inspect.getsource(RTCRtpSender.send)
    stop = inspect.getsource(RTCRtpSender.stop)
    assert "self.__rtcp_started.wait()" in stop and "self.__rtcp_exited.wait()" in stop
    assert "transceiver._codecs = common" in inspect.getsource(
        __import__("aiortc.rtcpeerconnection").rtcpeerconnection.RTCPeerConnection.setRemoteDescription
    )


def test_host_gathering_follows_the_setting():
    internals.set_host_addresses(["127.0.0.1"])
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1"]
    internals.set_host_addresses(["127.0.0.1"])


def test_vp8_keyframe_detection_reads_the_payload_descriptor():
    from rtc.forward import vp8_keyframe_start

    assert vp8_keyframe_start(bytes([0x90, 0x80, 0x92, 0x34, 0x00]))  # X, S; I with 15-bit picture id; P=0
    assert not vp8_keyframe_start(bytes([0x90, 0x80, 0x92, 0x34, 0x01]))  # an interframe
    assert not vp8_keyframe_start(bytes([0x80, 0x80, 0x92, 0x34, 0x00]))  # not a frame's start
    assert vp8_keyframe_start(bytes([0x10, 0x00]))


async def test_a_silenced_senders_rtcp_loop_only_waits_to_be_stopped():
    from aiortc import RTCPeerConnection

    pc = RTCPeerConnection()
    transceiver = pc.addTransceiver("video", direction="sendonly")
    sender = transceiver.sender
    internals.silence_sender_rtcp(sender)
    assert "RTCRtpSender" not in sender._run_rtcp.__qualname__
    task = asyncio.ensure_future(sender._run_rtcp())
    await asyncio.sleep(0.05)
    assert sender._RTCRtpSender__rtcp_started.is_set()  # type: ignore[attr-defined]
    task.cancel()
    await task  # returns quietly, without the BYE aiortc's own loop sends
    assert sender._RTCRtpSender__rtcp_exited.is_set()  # type: ignore[attr-defined]
    await pc.close()


async def test_pylibsrtp_and_asyncio_still_have_what_the_raw_sender_uses():
    from pylibsrtp import Policy, Session
    from pylibsrtp._binding import ffi, lib  # type: ignore[import-not-found]

    session = Session(Policy(key=bytes(30), ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    assert str(ffi.typeof(session._srtp[0])) == "<ctype 'struct srtp_ctx_t_ *'>"
    for name in ("srtp_protect", "srtp_protect_rtcp"):
        assert (
            str(ffi.typeof(getattr(lib, name))) == "<ctype 'srtp_err_status_t(*)(struct srtp_ctx_t_ *, void *, int *)'>"
        )
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    assert isinstance(transport._sock, socket.socket)  # type: ignore[attr-defined]
    transport.close()


def test_the_raw_sender_encrypts_in_place_what_the_receiver_decrypts():
    from pylibsrtp import Policy, Session

    key = bytes(range(30))
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    rx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND))
    sender = internals.RawSender.on_socket(tx, out, sink.getsockname())
    try:
        sender.send_rtp(0x80, 0x80 | 96, 7, 90000, 0xABC, b"payload")
        sender.rtcp(bytes([0x81, 206, 0, 2]) + (1).to_bytes(4, "big") + (0xABC).to_bytes(4, "big"))
        rtp = rx.unprotect(sink.recv(2000))
        rtcp = rx.unprotect_rtcp(sink.recv(2000))
    finally:
        sink.close()
        out.close()
    assert rtp == bytes([0x80, 0xE0, 0, 7]) + (90000).to_bytes(4, "big") + (0xABC).to_bytes(4, "big") + b"payload"
    assert rtcp[1] == 206 and rtcp[8:12] == (0xABC).to_bytes(4, "big")
