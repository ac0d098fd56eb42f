"""The RTCP the media server writes reads back the same, here and in aiortc's own parser."""

from __future__ import annotations

from aiortc.rtp import RtcpPacket, RtcpPsfbPacket, RtcpRtpfbPacket, RtcpSdesPacket, RtcpSrPacket

from rtc import rtcp

BLOCK = rtcp.ReportBlock(
    ssrc=0x1234, fraction_lost=25, cumulative_lost=-3, highest_seq=0x1_0005, jitter=90, lsr=77, dlsr=65536
)


def test_a_sender_report_with_a_reception_report_reads_back_here_and_in_aiortc():
    data = rtcp.sender_report(0xA, rtcp.ntp_time(1_700_000_000.5), 1234, 10, 1000, [BLOCK])
    data += rtcp.sdes_cname(0xA, b"expert-a")
    (info,) = list(rtcp.parse(data))
    assert info == rtcp.SenderInfo(0xA, (rtcp.ntp_time(1_700_000_000.5) >> 16) & 0xFFFFFFFF, [BLOCK])
    sr, sdes = RtcpPacket.parse(data)
    assert isinstance(sr, RtcpSrPacket) and isinstance(sdes, RtcpSdesPacket)
    assert (sr.ssrc, sr.sender_info.packet_count, sr.sender_info.octet_count) == (0xA, 10, 1000)
    assert sr.reports[0].packets_lost == -3 and sr.reports[0].fraction_lost == 25
    assert sdes.chunks[0].items == [(1, b"expert-a")]


def test_a_nack_carries_every_lost_sequence_number_across_the_wrap():
    lost = [65530, 65531, 65535, 0, 3, 40]
    data = rtcp.nack(1, 2, lost)
    (item,) = list(rtcp.parse(data))
    assert item == rtcp.Nack(2, [65530, 65531, 65535, 0, 3, 40])
    (theirs,) = RtcpPacket.parse(data)
    assert isinstance(theirs, RtcpRtpfbPacket)
    assert sorted(seq & 0xFFFF for seq in theirs.lost) == sorted(lost)  # aiortc does not wrap the mask's numbers


def test_keyframe_requests_and_remb_read_back():
    assert list(rtcp.parse(rtcp.pli(1, 99))) == [rtcp.KeyframeRequest([99])]
    fir = bytes([0x84, 206, 0, 4]) + (1).to_bytes(4, "big") + bytes(4) + (77).to_bytes(4, "big") + bytes([5, 0, 0, 0])
    assert list(rtcp.parse(fir)) == [rtcp.KeyframeRequest([77])]
    data = rtcp.remb(1, 2_500_000, [5, 6])
    (remb,) = list(rtcp.parse(data))
    assert isinstance(remb, rtcp.Remb)
    assert remb.ssrcs == [5, 6] and abs(remb.bitrate - 2_500_000) < 2_500_000 / 2**17
    (theirs,) = RtcpPacket.parse(data)
    assert isinstance(theirs, RtcpPsfbPacket) and theirs.fmt == 15


def test_a_long_report_is_split_into_compound_packets_that_each_start_with_a_report_and_carry_a_cname():
    reports = [rtcp.sender_report(ssrc, 0, 0, 1, 1) for ssrc in range(1, 61)]
    sdes = rtcp.sdes_cname(1, b"x" * 36)
    datagrams = rtcp.compound(reports, sdes)
    assert len(datagrams) == 2
    assert all(len(d) <= rtcp.MAX_COMPOUND for d in datagrams)
    parsed = [RtcpPacket.parse(d) for d in datagrams]
    assert all(isinstance(p[0], RtcpSrPacket) and isinstance(p[1], RtcpSdesPacket) for p in parsed)
    assert sum(isinstance(x, RtcpSrPacket) for p in parsed for x in p) == 60


def test_truncated_or_foreign_rtcp_is_skipped_not_raised():
    good = rtcp.pli(1, 2)
    assert list(rtcp.parse(good[:-2])) == []
    assert list(rtcp.parse(b"\x00" * 12)) == []
    assert list(rtcp.parse(bytes([0x80, 204, 0, 1, 0, 0, 0, 1]) + good)) == [rtcp.KeyframeRequest([2])]
