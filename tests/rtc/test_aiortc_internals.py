"""Fails loudly when an aiortc/aioice upgrade moves the internals rtc/_aiortc_internals.py relies on."""

from __future__ import annotations

import inspect
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
    sender = inspect.getsource(RTCRtpSender)
    for name in ("self._ssrc", "self.__ntp_timestamp", "self.__rtp_timestamp", "self.__packet_count"):
        assert name in sender, name
    assert "_handle_rtcp_packet(" in inspect.getsource(RTCDtlsTransport._handle_rtcp_data)
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
