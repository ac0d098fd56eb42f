"""Done-when of the foundation, in a real browser: the demo host logs in and sees the demo sessions."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import log_in

BD01 = "杭州市第一中学教学楼扩建工程 教学楼土建及安装工程 评标"
BD02 = "杭州市第一中学教学楼扩建工程 室外市政配套工程 评标"


def test_the_demo_login_page_says_the_second_factor_is_off(page, demo_server):
    page.goto(f"{demo_server}/accounts/login/")
    expect(page.get_by_role("note")).to_contain_text("双因素认证")


def test_the_demo_host_logs_in_and_sees_the_demo_sessions(page, demo_server):
    log_in(page, demo_server, "host_wang")
    expect(page).to_have_url(f"{demo_server}/")
    hosted = page.locator("#role-host")
    expect(hosted.get_by_role("link", name=BD01)).to_be_visible()
    expect(hosted.get_by_role("link", name=BD02)).to_be_visible()

    hosted.get_by_role("link", name=BD01).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/$"))
    expect(page.locator("body")).to_contain_text("待开始")
    expect(page.locator("body")).to_contain_text("李明")
    expect(page.locator("body")).to_contain_text("session.created")


def test_an_expert_sees_only_the_sessions_of_their_committee(page, demo_server):
    log_in(page, demo_server, "expert_zhang")
    committee = page.locator("#role-committee")
    expect(committee.get_by_role("link", name=BD01)).to_be_visible()
    expect(page.get_by_role("link", name=BD02)).to_have_count(0)
    expect(page.locator("#role-host")).to_have_count(0)


def test_the_interface_switches_to_english(page, demo_server):
    log_in(page, demo_server, "host_wang")
    page.locator("#language").select_option("en")
    page.get_by_role("button", name="切换语言").click()
    expect(page.get_by_role("heading", name="My sessions")).to_be_visible()
    expect(page.locator("#role-host")).to_contain_text("Scheduled")


def test_a_wrong_password_keeps_the_user_on_the_login_page_with_a_reason(page, demo_server):
    log_in(page, demo_server, "expert_li", "not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator(".error")).to_contain_text("用户名或密码不正确")
