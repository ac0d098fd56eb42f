"""The browser suite: one daphne and one Chromium, shared by every browser test.

The server is the embedded demo as ``make run`` serves it (SQLite in its own folder, the in-memory
channel layer, ``seed_demo``'s data), started once as a child process: pytest-django's live server
speaks WSGI only. Chromium is Debian's, driven by Playwright for Python; it is never downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
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
# Media: a fake camera and microphone allowed without a prompt, sound without a gesture, and ICE on
# loopback with real addresses (no mDNS names), which the media worker gathers on too (rtc/).
MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
# The fake camera's picture: small and slow, so three pages' encoders stay light on two shared cores.
CAMERA_SIZE, CAMERA_FPS, CAMERA_FRAMES = (320, 240), 15, 30
DEMO_PASSWORD = "pingbiao-demo-2026"


def fake_camera_clip(path: Path) -> Path:
    """A Y4M clip (a bright bar sweeping across grey) that Chromium's fake camera loops."""
    width, height = CAMERA_SIZE
    chroma = bytes([128]) * (width // 2 * height // 2 * 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{CAMERA_FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(CAMERA_FRAMES):
            bar = range(n * width // CAMERA_FRAMES, n * width // CAMERA_FRAMES + width // 8)
            row = bytes(235 if x in bar else 90 for x in range(width))
            out.write(b"FRAME\n" + row * height + chroma)
    return path


TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"
TURN_SECRET = "browser-suite-turn-secret"


@dataclass(frozen=True)
class Turn:
    url: str
    process: subprocess.Popen[bytes] | None


@pytest.fixture(scope="session")
def turn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Turn | None]:
    """coturn from Debian on loopback (relays to loopback peers too), for the demo server's pages;
    None where coturn is not installed (the TURN test then asks for it)."""
    if not Path(TURNSERVER).exists():
        yield None
        return
    folder = tmp_path_factory.mktemp("turn")
    port = free_port()
    relay = 40000 + (port % 200) * 100  # a relay port range of its own, away from the other servers
    args = [TURNSERVER, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}"]
    args += [f"--min-port={relay}", f"--max-port={relay + 99}", "--allow-loopback-peers", "--realm=pingbiao.test"]
    args += ["--use-auth-secret", f"--static-auth-secret={TURN_SECRET}", "--no-cli", "--no-tls", "--no-dtls"]
    args += [f"--userdb={folder / 'turndb'}", f"--pidfile={folder / 'turn.pid'}", "--simple-log"]
    args += [f"--log-file={folder / 'turn.log'}", "--no-software-attribute", "--fingerprint"]
    with (folder / "out.log").open("wb") as out:
        proc = spawn(args, dict(os.environ), out)
        try:
            wait_until_answers(proc, port, 20, lambda: (folder / "out.log").read_text(errors="replace"))
            yield Turn(url=f"turn:127.0.0.1:{port}?transport=udp", process=proc)
        finally:
            stop(proc)


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the demo server: its data folder (SQLite, media) and demo mode. A test
    runs ``manage.py`` or a script in it to prepare data the browser then works on."""
    env = embedded_env(str(tmp_path_factory.mktemp("demo-server")))
    env["EVAL_DEMO"] = "1"
    return env


@pytest.fixture(scope="session")
def demo_data_dir(demo_env: dict[str, str]) -> Path:
    """The demo server's DATA_DIR (its database, and the recordings of its rooms' media)."""
    return Path(demo_env["DATA_DIR"])


@pytest.fixture(scope="session")
def demo_server(demo_env: dict[str, str], turn_server: Turn | None) -> Iterator[str]:
    env = dict(demo_env)
    data = Path(env["DATA_DIR"])
    if turn_server is not None:
        env["RTC_TURN_URLS"] = turn_server.url
        env["RTC_TURN_SECRET"] = TURN_SECRET
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
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    require_service("Chromium", Path(CHROMIUM).exists(), "install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    clip = fake_camera_clip(tmp_path_factory.mktemp("camera") / "camera.y4m")
    args = [*CHROMIUM_ARGS, *MEDIA_ARGS, f"--use-file-for-fake-video-capture={clip}"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
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
