"""The live room in real browsers: the host moves the phase on and the experts see it without
reloading; an expert whose socket is cut sees it, reconnects by itself and catches up.

These tests drive the demo's BD02 session (BD01 stays scheduled for the other browser tests):
from scheduled through check-in to declarations, then remove and readmit an expert.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import WebSocketRoute, expect

from tests.browser.conftest import log_in

BD02 = "杭州市第一中学教学楼扩建工程 室外市政配套工程 评标"
ROOM_SOCKET = re.compile(r"/ws/sessions/\d+/$")


class SocketSwitch:
    """Stands between one page and the room socket: passes frames through until ``cut``, then closes
    the page's socket and refuses new ones until ``restore`` (as a network that went away would)."""

    def __init__(self) -> None:
        self.down = False
        self.open: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    def __call__(self, route: WebSocketRoute) -> None:
        if self.down:
            route.close(code=1012, reason="network down")
            return
        server = route.connect_to_server()  # frames flow both ways untouched
        self.open.append((route, server))

    def cut(self) -> None:
        self.down = True
        for page_side, server_side in self.open:
            page_side.close(code=1012, reason="network down")
            server_side.close()
        self.open.clear()

    def restore(self) -> None:
        self.down = False


def enter(page, base_url: str, username: str, link_id: str) -> None:
    """Log in, open BD02 from the landing page and follow its link into the room page."""
    log_in(page, base_url, username)
    page.get_by_role("link", name=BD02).first.click()
    page.locator(f"#{link_id}").click()
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")


def phase_of(page):
    return expect(page.locator("#phase"))


def presence_of_lin(host):
    """林涛's presence as the host console shows it."""
    return expect(host.locator('#members tr[data-member]:has-text("林涛") .presence'))


def test_experts_follow_the_host_s_phase_changes_and_a_cut_socket_catches_up(new_page, demo_server):
    host, qian, lin = new_page(), new_page(), new_page()
    switch = SocketSwitch()
    lin.route_web_socket(ROOM_SOCKET, switch)
    enter(host, demo_server, "host_wang", "link-console")
    enter(qian, demo_server, "expert_qian", "link-room")
    enter(lin, demo_server, "expert_lin", "link-room")
    for page in (host, qian, lin):
        phase_of(page).to_have_attribute("data-phase", "scheduled")
        # Marks this page load: a reload would lose it.
        page.evaluate("window.roomTestMark = 'same page'")
    presence_of_lin(host).to_have_attribute("data-presence", "active")

    host.locator('[data-transition="open_check_in"]').click()
    for page in (qian, lin):
        phase_of(page).to_have_attribute("data-phase", "check_in")
        expect(page.locator("#phase-label")).to_have_text("签到核验")
        expect(page.locator("#check-in-status")).to_have_attribute("data-checked-in", "no")

    # Declarations wait for every member's identity check: the button says why it is disabled.
    advance = host.locator('[data-transition="open_declarations"]')
    expect(advance).to_be_disabled()
    expect(host.locator('[data-blocked-for="open_declarations"]')).to_contain_text("尚未核验")
    rows = host.locator("#members tr[data-member]")
    expect(rows).to_have_count(5)
    for row in rows.all():
        row.locator('[data-control="verify"] input').fill("身份证与人脸视频核验一致")
        row.locator('[data-action="verify"]').click()
    expect(host.locator('#members tr[data-checked-in="yes"]')).to_have_count(5)
    expect(host.locator('#roll-body [data-col="checked_in"]')).to_have_text(["2", "1", "2"])
    expect(qian.locator("#check-in-status")).to_have_attribute("data-checked-in", "yes")
    expect(advance).to_be_enabled()

    # The network between 林涛 and the server goes away.
    switch.cut()
    expect(lin.locator("#connection-state")).to_have_attribute("data-state", "reconnecting")
    expect(lin.locator("#connection-state")).to_have_text("连接已断开，正在重连…")
    presence_of_lin(host).to_have_attribute("data-presence", "disconnected")

    advance.click()
    phase_of(qian).to_have_attribute("data-phase", "declarations")
    phase_of(lin).to_have_attribute("data-phase", "check_in")  # still cut off

    switch.restore()
    expect(lin.locator("#connection-state")).to_have_attribute("data-state", "connected")
    phase_of(lin).to_have_attribute("data-phase", "declarations")
    expect(lin.locator("#declarations")).to_be_visible()
    presence_of_lin(host).to_have_attribute("data-presence", "active")
    for page in (host, qian, lin):
        assert page.evaluate("window.roomTestMark") == "same page"


def test_a_removed_expert_is_told_why_and_not_reconnected(new_page, demo_server):
    host, lin = new_page(), new_page()
    enter(host, demo_server, "host_wang", "link-console")
    enter(lin, demo_server, "expert_lin", "link-room")
    sockets = []
    lin.on("websocket", lambda socket: sockets.append(socket))

    row = host.locator('#members tr[data-member]:has-text("林涛")')
    remove = row.locator('[data-control="remove"]')
    remove.locator("button").click()
    expect(row.locator(".error")).to_have_text("请填写原因。")  # a reason is required, checked before sending
    remove.locator("input").fill("网络故障，长时间未能连线")
    remove.locator("button").click()

    state = lin.locator("#connection-state")
    expect(state).to_have_attribute("data-state", "closed")
    expect(state).to_have_attribute("data-code", "4409")
    expect(state).to_have_text("您已被主持人移出评标室。")
    expect(row).to_have_attribute("data-seated", "no")
    lin.wait_for_timeout(1200)  # longer than the first retry would wait
    assert sockets == []

    readmit = row.locator('[data-control="readmit"]')
    readmit.locator("input").fill("网络已恢复，经核实身份后重新准入")
    readmit.locator("button").click()
    expect(row).to_have_attribute("data-seated", "yes")
    lin.reload()
    expect(lin.locator("#connection-state")).to_have_attribute("data-state", "connected")


def test_the_attendant_sees_only_the_seats_of_their_venue(new_page, demo_server):
    sun = new_page()
    enter(sun, demo_server, "attendant_sun", "link-venue")
    expect(sun.locator("#members tr[data-member]")).to_have_count(1)
    expect(sun.locator("#members")).to_contain_text("钱进")
    expect(sun.locator("#roll-body tr")).to_have_count(1)
    expect(sun.locator("#roll-body")).to_contain_text("宁波")


class Reorderer:
    """Stands between one page and the room socket and tampers with the host's notices on their way
    to the page: one marked HOLD is held back until the next versioned frame has passed (they arrive
    out of order), one marked DROP never arrives (a gap only a new snapshot fills)."""

    def __init__(self) -> None:
        self.sent_by_page: list[dict] = []
        self.held: str | None = None

    def __call__(self, route: WebSocketRoute) -> None:
        server = route.connect_to_server()

        def from_page(message: str | bytes) -> None:
            self.sent_by_page.append(json.loads(message))
            server.send(message)

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "ping" and self.held is not None:
                return  # a ping would reveal the held version: on a slow machine, a resync too early
            text = frame.get("data", {}).get("text", "") if frame["type"] == "host.notice" else ""
            if "HOLD" in text:
                self.held = str(message)
                return
            if "DROP" in text:
                return
            route.send(message)
            # Released behind the next versioned frame, whatever it is (a media event may come
            # between the two notices): the page sees them out of order, never a gap it waits on.
            if isinstance(frame.get("version"), int) and self.held is not None:
                route.send(self.held)
                self.held = None

        route.on_message(from_page)
        server.on_message(from_server)

    def resyncs(self) -> int:
        return sum(1 for frame in self.sent_by_page if frame.get("type") == "resync")


def post_notice(host, text: str) -> None:
    host.locator("#notice-text").fill(text)
    host.locator("#notice-form button[type=submit]").click()
    expect(host.locator("#notices")).to_contain_text(text)


def test_events_out_of_order_are_applied_in_order_and_a_lost_one_is_fetched_again(new_page, demo_server):
    host, qian = new_page(), new_page()
    tamper = Reorderer()
    qian.route_web_socket(ROOM_SOCKET, tamper)
    enter(host, demo_server, "host_wang", "link-console")
    enter(qian, demo_server, "expert_qian", "link-room")
    notices = qian.locator("#notices li")
    before = notices.count()

    post_notice(host, "第一条 HOLD")
    post_notice(host, "第二条")
    # The second arrived first and waited for the first: both are shown, newest first, no resync.
    expect(notices).to_have_count(before + 2)
    expect(notices.nth(0)).to_contain_text("第二条")
    expect(notices.nth(1)).to_contain_text("第一条")
    assert tamper.resyncs() == 0

    post_notice(host, "第三条 DROP")
    post_notice(host, "第四条")
    # The third never came: after a second's wait the page asks for a snapshot, which has both.
    expect(notices).to_have_count(before + 4)
    expect(notices.nth(0)).to_contain_text("第四条")
    expect(notices.nth(1)).to_contain_text("第三条")
    assert tamper.resyncs() == 1
