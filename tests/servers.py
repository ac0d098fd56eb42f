"""Child servers for tests: a free loopback port, waiting for it to answer, ending a process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent

# Variables that would take a child server off the embedded default or tie it to an outer make.
NOT_EMBEDDED = ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "STATIC_ROOT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")


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


def embedded_env(data_dir: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_EMBEDDED}
    env["DATA_DIR"] = data_dir
    return env


def spawn(args: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start a server from the project's root as the leader of its own process group (see stop)."""
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_answers(proc: subprocess.Popen[bytes], port: int, timeout: float, log: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not answers(port):
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"port {port} did not answer within {timeout}s:\n{log()}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End the process and everything it started (it leads its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
    # The leader may be gone while a child lingers in the group: make sure none survives.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
