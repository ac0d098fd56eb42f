"""``make run`` on the embedded default: migrate, seed, serve; the login page answers.

It runs the real Makefile target in its own process group, with a fresh DATA_DIR and without
DATABASE_URL or REDIS_URL, the way a fresh clone runs it, and ends the whole group afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 120  # seconds: migrate, seed (three IFC files hashed and copied), daphne start
# Variables that would take `make run` off its embedded default or tie it to an outer make.
DROPPED = ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "STATIC_ROOT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End make and everything it started (daphne replaced make's shell through exec)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
    # make may be gone while a child lingers in the group: make sure none survives.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def test_make_run_serves_the_login_page_on_the_embedded_default(tmp_path):
    assert shutil.which("make"), "make run needs GNU make"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in DROPPED}
    env["DATA_DIR"] = str(tmp_path / "data")
    log_path = tmp_path / "make-run.log"

    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not answers(port):
                if proc.poll() is not None:
                    pytest.fail(f"make run exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
                if time.monotonic() > deadline:
                    pytest.fail(f"port {port} did not answer within {STARTUP_TIMEOUT}s:\n{log_path.read_text()}")
                time.sleep(0.5)

            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://127.0.0.1:{port}/accounts/login/", timeout=30) as response:
                status, body = response.status, response.read().decode("utf-8")
        finally:
            stop(proc)

    output = log_path.read_text(errors="replace")
    assert status == 200
    assert 'type="password"' in body
    assert "Demo logins" in output
    assert "host_wang" in output
    assert (tmp_path / "data" / "db.sqlite3").is_file()
