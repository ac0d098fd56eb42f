"""The ICE servers a page is given: none by default; STUN as configured; TURN with credentials that
coturn's use-auth-secret accepts (HMAC-SHA1 of "<expiry>:<user>"), or fixed ones."""

from __future__ import annotations

import base64
import hashlib
import hmac

from evaluation.permissions import Role
from rooms.media import page_config
from rtc.ice import browser_ice_servers, turn_credentials


def test_a_page_gets_no_ice_server_by_default(settings):
    settings.RTC_STUN_URLS, settings.RTC_TURN_URLS = [], []
    assert browser_ice_servers(7) == []


def test_turn_credentials_from_the_shared_secret_expire_and_verify_as_coturn_checks_them(settings):
    settings.RTC_TURN_SECRET = "s3cret"
    settings.RTC_TURN_CREDENTIAL_SECONDS = 3600
    username, password = turn_credentials(7, now=1_000_000)
    assert username == "1003600:7"
    expected = base64.b64encode(hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()).decode()
    assert password == expected


def test_stun_and_turn_servers_are_served_with_fixed_credentials_when_no_secret_is_set(settings):
    settings.RTC_STUN_URLS = ["stun:stun.example.org:3478"]
    settings.RTC_TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.RTC_TURN_SECRET = ""
    settings.RTC_TURN_USERNAME, settings.RTC_TURN_PASSWORD = "venue", "pw"
    assert browser_ice_servers(7) == [
        {"urls": ["stun:stun.example.org:3478"]},
        {"urls": ["turn:turn.example.org:3478?transport=udp"], "username": "venue", "credential": "pw"},
    ]


def test_a_supervisor_s_page_receives_only_and_an_expert_s_sends_and_a_bidder_s_takes_no_part(settings):
    supervisor = page_config(3, frozenset({Role.SUPERVISOR}))
    assert supervisor["enabled"] and not supervisor["publish"] and not supervisor["host"]
    expert = page_config(4, frozenset({Role.MEMBER}))
    assert expert["enabled"] and expert["publish"] and expert["participant"] == "u4"
    assert expert["video_slots"] == settings.RTC_LAST_N + 1
    bidder = page_config(5, frozenset({Role.BIDDER}))
    assert not bidder["enabled"] and not bidder["publish"] and bidder["ice_servers"] == []
