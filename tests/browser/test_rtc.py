"""The room's audio and video in real browsers (fake camera and microphone), through the demo's own
pages and its in-process media worker: experts see and hear each other, a supervisor watches unseen,
a page whose connection is cut comes back with its tiles, and TURN relays when nothing else may.

These tests use the demo's BD01 session (its committee: 李明, 刘洋 in 杭州, 张华 in 宁波, 陈静 in
温州); media does not depend on the session's phase.
"""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_room import ROOM_SOCKET, SocketSwitch
from tests.conftest import require_service

BD01 = "杭州市第一中学教学楼扩建工程 教学楼土建及安装工程 评标"


def enter_media(page, base_url: str, username: str, *, query: str = "") -> str:
    """Log in, open BD01's room page, wait until its media is connected; the page's participant."""
    log_in(page, base_url, username)
    page.get_by_role("link", name=BD01).first.click()
    link = page.locator("#link-room")
    href = link.get_attribute("href")
    page.goto(f"{base_url}{href}{query}")
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
    expect(page.locator("#media-status")).to_have_attribute("data-state", "connected", timeout=20_000)
    return page.evaluate("window.roomMedia.participant")


def leave_media(*pages) -> None:
    """Hang up as a closing page does (pagehide sends rtc.leave; closing a test's context does not)."""
    for page in pages:
        page.evaluate("window.roomMedia && window.roomMedia.leave()")


def stats(page) -> dict:
    return page.evaluate("window.roomMedia.stats()")


def rising(page, kind: str, participants: list[str], *, timeout: float = 20) -> dict:
    """Wait until ``kind`` counters (video: framesDecoded, audio: totalSamplesReceived) of every
    participant have risen between two readings; the last reading."""
    deadline = time.monotonic() + timeout
    before = stats(page)[kind]
    while True:
        time.sleep(1)
        now = stats(page)[kind]
        if all(now.get(p, 0) > before.get(p, 0) > 0 for p in participants):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"{kind} did not rise for all of {participants}: {before} → {now}")
        before = now


def test_experts_see_and_hear_each_other_and_the_supervisor_receives_both_and_sends_nothing(new_page, demo_server):
    li, zhang, zheng = new_page(), new_page(), new_page()
    p_li = enter_media(li, demo_server, "expert_li")
    p_zhang = enter_media(zhang, demo_server, "expert_zhang")
    p_zheng = enter_media(zheng, demo_server, "supervisor_zheng")

    rising(li, "video", [p_zhang])
    rising(li, "audio", [p_zhang])
    rising(zhang, "video", [p_li])
    rising(zhang, "audio", [p_li])
    rising(zheng, "video", [p_li, p_zhang])
    rising(zheng, "audio", [p_li, p_zhang])
    assert stats(zheng)["sent"] == {}

    # The tiles: names and venues; the supervisor is never one.
    expect(li.locator(f'#tiles .tile[data-participant="{p_zhang}"] .who')).to_contain_text("张华 · 宁波")
    for page in (li, zhang):
        expect(page.locator(f'#tiles .tile[data-participant="{p_zheng}"]')).to_have_count(0)
    expect(zheng.locator("#tiles .tile.self")).to_have_count(0)
    expect(zheng.locator("#media-controls")).to_be_hidden()
    expect(zheng.locator("#media-note")).to_contain_text("监督")

    # Muting the microphone shows on the others' tile of that expert.
    zhang.locator("#media-mic").click()
    expect(li.locator(f'#tiles .tile[data-participant="{p_zhang}"]')).to_have_attribute("data-audio-muted", "true")
    expect(li.locator("#media-quality")).not_to_have_attribute("data-quality", "unknown")
    leave_media(li, zhang, zheng)


def test_a_page_whose_network_is_cut_rejoins_and_its_tiles_resume_with_a_gap_recorded(
    new_page, demo_server, demo_data_dir
):
    li, chen = new_page(), new_page()
    switch = SocketSwitch()
    chen.route_web_socket(ROOM_SOCKET, switch)
    p_li = enter_media(li, demo_server, "expert_li")
    p_chen = enter_media(chen, demo_server, "expert_chen")
    rising(li, "video", [p_chen])
    rising(chen, "video", [p_li])

    # The network goes: the room socket drops and the media connection with it.
    switch.cut()
    chen.evaluate("window.roomMedia.pc.close()")
    expect(li.locator(f'#tiles .tile[data-participant="{p_chen}"]')).to_have_attribute(
        "data-state", "reconnecting", timeout=20_000
    )
    switch.restore()
    expect(chen.locator("#media-status")).to_have_attribute("data-state", "connected", timeout=20_000)
    tile = li.locator(f'#tiles .tile[data-participant="{p_chen}"]')
    expect(tile).to_have_attribute("data-state", "live", timeout=15_000)
    rising(li, "video", [p_chen])
    rising(chen, "video", [p_li])

    found = re.search(r"/sessions/(\d+)/", chen.url)
    assert found is not None
    session = found.group(1)
    manifest = demo_data_dir / "recordings" / f"session-{session}" / "manifest.jsonl"
    entries = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    assert any(e["type"] == "gap" and e.get("participant") == p_chen for e in entries), entries[-10:]
    leave_media(li, chen)


def test_with_a_relay_only_policy_media_flows_through_the_turn_server(new_page, demo_server, turn_server):
    require_service("coturn", turn_server is not None, "install Debian's coturn package")
    li, zhang = new_page(), new_page()
    p_li = enter_media(li, demo_server, "expert_li")
    p_zhang = enter_media(zhang, demo_server, "expert_zhang", query="?ice=relay")
    rising(zhang, "video", [p_li])
    rising(li, "video", [p_zhang])
    assert stats(zhang)["local"] == "relay"
    leave_media(li, zhang)
