"""The browser suite: one daphne and one Chromium, shared by every browser test.

The server is the embedded demo as ``make run`` serves it (SQLite in its own folder, the in-memory
channel layer, ``seed_demo``'s data), started once as a child process: pytest-django's live server
speaks WSGI only. Chromium is Debian's, driven by Playwright for Python; it is never downloaded.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.servers import ROOT, embedded_env, free_port, spawn, stop, wait_until_answers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless on a closed network: no GPU, no background traffic to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL (the BIM viewer) on the CPU: since Chromium 144 --disable-gpu needs this for SwiftShader.
    "--enable-unsafe-swiftshader",
]
DEMO_PASSWORD = "pingbiao-demo-2026"


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the demo server: its data folder (SQLite, media) and demo mode. A test
    runs ``manage.py`` or a script in it to prepare data the browser then works on."""
    env = embedded_env(str(tmp_path_factory.mktemp("demo-server")))
    env["EVAL_DEMO"] = "1"
    return env


@pytest.fixture(scope="session")
def demo_server(demo_env: dict[str, str]) -> Iterator[str]:
    env = demo_env
    data = Path(env["DATA_DIR"])
    log = data / "server.log"
    python = sys.executable
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    with log.open("wb") as out:
        proc = spawn([python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"], env, out)
        try:
            wait_until_answers(proc, port, 60, lambda: log.read_text(errors="replace"))
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc)


# Package scope: one Chromium for all browser tests, closed when they are done. Playwright's sync
# API holds an event loop on the main thread while it is open, which async tests elsewhere cannot share.
@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    require_service("Chromium", Path(CHROMIUM).exists(), "install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (its own cookies) and page per test, in Chinese like the center's PCs."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


@pytest.fixture
def new_page(browser):
    """``new_page()`` opens a page in a fresh browser context (its own cookies: one participant each);
    every context it made is closed after the test."""
    contexts = []

    def _new_page():
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield _new_page
    for context in contexts:
        context.close()
