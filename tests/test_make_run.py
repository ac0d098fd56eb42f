"""``make run`` on the embedded default: migrate, seed, serve; the login page answers.

It runs the real Makefile target in its own process group, with a fresh DATA_DIR and without
DATABASE_URL or REDIS_URL, the way a fresh clone runs it, and ends the whole group afterwards.
"""

from __future__ import annotations

import shutil
import urllib.request

import pytest

from tests.servers import embedded_env, free_port, spawn, stop, wait_until_answers

STARTUP_TIMEOUT = 120  # seconds: migrate, seed (three IFC files hashed and copied), daphne start

pytestmark = pytest.mark.slow


def test_make_run_serves_the_login_page_on_the_embedded_default(tmp_path):
    assert shutil.which("make"), "make run needs GNU make"
    port = free_port()
    env = embedded_env(str(tmp_path / "data"))
    log_path = tmp_path / "make-run.log"

    with log_path.open("wb") as log:
        proc = spawn(["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"], env, log)
        try:
            try:
                wait_until_answers(proc, port, STARTUP_TIMEOUT, lambda: log_path.read_text(errors="replace"))
            except RuntimeError as exc:
                pytest.fail(f"make run did not serve: {exc}")

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
