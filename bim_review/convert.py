"""The conversion's supervisor: runs ``bim_review/ifc.py`` in a child process per attempt and falls back.

1. each element with the kernel its shape suits (``by-shape``: manifold for solids, the CGAL hybrid
   for surface models, OpenCASCADE for surface models with openings); elements left empty are retried
   with the default kernel in the same child;
2. if that child crashes, hangs past the timeout or runs out of memory: the fast kernel
   (``hybrid-cgal-simple-opencascade``) for everything, the same retry of empty elements;
3. if that fails too: the default kernel alone;
4. if that fails too: isolation, element by element, each announced before it is tried; the element a
   crash or hang happens on is left out and reported, and the child starts again without it.

Then gltf-transform (npm) compresses the GLB with meshopt, keeping node names. Outputs are written in a
temporary folder beside the cache folder and renamed into place at the end, so nothing half-written is
ever served. No Django here: the caller passes the limits (``Limits``) and gets progress callbacks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from bim_review import outputs

# Bumped when the outputs' format changes, so the cache key changes with it.
FORMAT_VERSION = 1
BY_SHAPE = "by-shape"
SOLID_KERNEL = "hybrid-manifold-opencascade"
FAST_KERNEL = "hybrid-cgal-simple-opencascade"
DEFAULT_KERNEL = "opencascade"
# The children's kernels in order: the next one runs when a child crashes, hangs or runs out of memory.
KERNEL_CHAIN = (BY_SHAPE, FAST_KERNEL, DEFAULT_KERNEL)
EXIT_UNREADABLE = 3
# Isolation gives up after this many elements that crash or hang the kernel.
MAX_QUARANTINED = 8
ROOT = Path(__file__).resolve().parent.parent

Progress = Callable[[str, int], None]


class ConversionFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    timeout: float = 600.0  # seconds per child process
    memory_mb: int = 4096  # address-space limit of the child
    threads: int = 1
    gltf_transform: str = str(ROOT / "node_modules" / ".bin" / "gltf-transform")


@dataclass
class ChildRun:
    returncode: int | None = None
    timed_out: bool = False
    last_try: str | None = None
    error: str = ""
    stderr: str = ""
    elapsed: float = 0.0

    def failure(self, limits: Limits) -> str:
        if self.timed_out:
            return f"timed out after {limits.timeout:g} s"
        if self.error:
            return self.error
        text = self.stderr.strip().splitlines()[-1:] if self.stderr.strip() else []
        if "MemoryError" in self.stderr or "bad_alloc" in self.stderr:
            return f"ran out of memory (limit {limits.memory_mb} MiB)"
        if self.returncode is not None and self.returncode < 0:
            name = signal.Signals(-self.returncode).name
            if name in ("SIGSEGV", "SIGABRT", "SIGBUS"):
                # A kernel that crashes and one that cannot allocate under RLIMIT_AS look the same.
                return (
                    f"the conversion process was killed by {name} (a crash of the geometry kernel, "
                    f"or the memory limit of {limits.memory_mb} MiB)"
                )
            return f"the conversion process was killed by {name}" + (f": {text[0]}" if text else "")
        return f"the conversion process exited with status {self.returncode}" + (f": {text[0]}" if text else "")


@dataclass
class Attempts:
    fallbacks: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)


# What shapes the outputs; the limits (time, memory, threads) do not, so they stay out of the key.
SETTINGS_FINGERPRINT: dict[str, Any] = {
    "format": FORMAT_VERSION,
    "kernels": [*KERNEL_CHAIN, SOLID_KERNEL],
    "meshopt": True,
}


@functools.cache
def _ifcopenshell_version() -> str:
    return package_version("ifcopenshell")


def cache_key(sha256: str) -> str:
    """The outputs' folder: (file hash, ifcopenshell version, conversion settings)."""
    material = json.dumps(
        [sha256, _ifcopenshell_version(), SETTINGS_FINGERPRINT], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(material.encode()).hexdigest()


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_child(
    args: list[str],
    limits: Limits,
    on_progress: Progress,
    on_start: Callable[[int], None] | None = None,
) -> ChildRun:
    """Run ``python -m bim_review.ifc ARGS`` with the limits; never raises for what the child does."""
    started = time.monotonic()
    run = ChildRun()
    with tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "bim_review.ifc", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        if on_start is not None:
            on_start(child.pid)
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(child.stdout, lines), daemon=True)
        reader.start()
        deadline = started + limits.timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(0.0, remaining)) if remaining > 0 else None
            except queue.Empty:
                line = None
            if line is None:
                if time.monotonic() >= deadline and child.poll() is None:
                    run.timed_out = True
                    os.killpg(child.pid, signal.SIGKILL)
                break
            _read_line(line, run, on_progress)
        run.returncode = child.wait()
        reader.join(timeout=5)
        stderr.seek(0)
        run.stderr = stderr.read()[-4000:].decode(errors="replace")
    run.elapsed = time.monotonic() - started
    return run


def _read_line(line: str, run: ChildRun, on_progress: Progress) -> None:
    try:
        message = json.loads(line)
    except ValueError:
        return
    if not isinstance(message, dict):
        return
    if "try" in message:
        run.last_try = str(message["try"])
    elif "error" in message:
        run.error = str(message["error"])
    elif "stage" in message:
        on_progress(str(message["stage"]), int(message.get("percent", 0)))


def compress(raw: Path, target: Path, limits: Limits) -> bool:
    """meshopt-compress the GLB keeping node names; False (and the raw GLB kept) if gltf-transform fails."""
    try:
        subprocess.run(
            [limits.gltf_transform, "meshopt", str(raw), str(target)],
            check=True,
            capture_output=True,
            timeout=limits.timeout,
        )
    except (OSError, subprocess.SubprocessError):
        shutil.copyfile(raw, target)
        return False
    return True


def _geometry(
    src: Path, work: Path, name: str, limits: Limits, on_progress: Progress, on_start: Callable[[int], None] | None
) -> tuple[dict[str, Any], Attempts]:
    attempts = Attempts()
    base = [str(src), str(work), "--name", name, "--threads", str(limits.threads), "--memory-mb", str(limits.memory_mb)]
    for kernel in KERNEL_CHAIN:
        run = run_child([*base, "--kernel", kernel], limits, on_progress, on_start)
        if run.returncode == 0:
            return json.loads((work / "child.json").read_text()), attempts
        if run.returncode == EXIT_UNREADABLE:
            raise ConversionFailed(run.failure(limits))
        attempts.fallbacks.append(f"{kernel}: {run.failure(limits)}")
    while len(attempts.quarantined) <= MAX_QUARANTINED:
        skip = [arg for guid in attempts.quarantined for arg in ("--skip", guid)]
        run = run_child([*base, "--isolate", *skip], limits, on_progress, on_start)
        if run.returncode == 0:
            return json.loads((work / "child.json").read_text()), attempts
        if run.last_try is None or run.last_try in attempts.quarantined:
            attempts.fallbacks.append(f"isolation: {run.failure(limits)}")
            raise ConversionFailed("; ".join(attempts.fallbacks))
        attempts.quarantined.append(run.last_try)
    raise ConversionFailed(f"more than {MAX_QUARANTINED} elements crashed the geometry kernel")


def convert_file(
    src: Path,
    target: Path,
    *,
    name: str = "",
    limits: Limits | None = None,
    on_progress: Progress | None = None,
    on_start: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Convert ``src`` into the folder ``target`` (made here, complete or not at all); the summary."""
    limits = limits or Limits()
    report: Progress = on_progress or (lambda stage, percent: None)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        started = time.perf_counter()
        summary, attempts = _geometry(src, work, name, limits, report, on_start)
        report("compress", 92)
        mark = time.perf_counter()
        compressed = compress(work / "raw.glb", work / outputs.GLB, limits)
        summary["timings"]["compress"] = round(time.perf_counter() - mark, 3)
        summary["timings"]["total"] = round(time.perf_counter() - started, 3)
        (work / "raw.glb").unlink()
        (work / "child.json").unlink()
        summary.update(
            compressed=compressed,
            fallbacks=attempts.fallbacks,
            sizes={p.name: p.stat().st_size for p in sorted(work.iterdir())},
        )
        (work / outputs.SUMMARY).write_text(json.dumps(summary, sort_keys=True, indent=1))
        if target.exists():  # converted meanwhile by another worker: same key, same content
            shutil.rmtree(work)
        else:
            work.rename(target)
        report("done", 100)
        return summary
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
