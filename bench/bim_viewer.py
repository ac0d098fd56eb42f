"""The BIM viewer in Chromium with software WebGL (SwiftShader): one JSON line.

In one run, against the seeded demo served by daphne (as ``make run`` serves it), models converted
beforehand (so the page opens a cached model):

- ``first_picture_ms``: the viewer page of each sample, from navigation to the first frame with the
  model drawn (``performance.now()`` at that frame), with the browser's cache cold and warm;
- ``render``: draw calls, mean frame time (``ms``, each frame waited for with readPixels) and the
  page's own time in ``render()`` per frame (``submitMs``: the JavaScript side, what a GPU would leave
  of a frame) of FZK-Haus drawn three ways with the same renderer: ``instanced`` (the viewer's: an
  InstancedMesh per repeated geometry, the rest merged per kind of material), ``batched`` (one
  BatchedMesh per kind of material) and ``naive`` (the loader's scene, one mesh per element and
  material), antialiasing forced on; the same for FZK-Haus repeated 8 × 8 (5,312 placed elements);
  and that large model without antialiasing (``_noaa``, what the viewer does on software GL),
  instanced against naive; ``ratio_ms*`` = naive / other (above 1: faster than naive);
- ``follow_delay_ms``: the reviewer presents, the host follows; for each of N camera moves the time
  from the presenter's send (``sent_at``) to the follower's apply (both pages share the clock).

Targets: first picture under 1 s; presenter → follower under 200 ms. Run under ``flock -x``:

    flock -x /tmp/cpu.lock .venv/bin/python -m bench.bim_viewer
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django

# The browser suite's Chromium and its arguments: its conftest needs Django's settings loaded.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("EVAL_DEMO", "1")
django.setup()

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD  # noqa: E402
from tests.servers import ROOT, embedded_env, free_port, spawn, stop, wait_until_answers  # noqa: E402

# --quick: a smoke run of the script itself, its figures meaningless.
QUICK = "--quick" in sys.argv
FRAMES = 3 if QUICK else 40
MOVES = 3 if QUICK else 40
COPIES = 8
MESHES = "(() => { let n = 0; window.bimViewer.view.root.traverse((o) => { n += o.isMesh ? 1 : 0; }); return n; })()"
DAPHNE = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p"]
SAMPLE_OF_BID = {"A": "AC20-FZK-Haus.ifc", "B": "duplex.ifc", "C": "IfcOpenHouse_IFC4.ifc"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(data: Path) -> dict[str, str]:
    env = embedded_env(str(data))
    env["EVAL_DEMO"] = "1"
    env["EVAL_BIM_RUNNER"] = "worker"  # converted here, before the server starts: the page finds them cached
    for step in (["migrate", "--noinput"], ["seed_demo"], ["bim_worker", "--once"]):
        subprocess.run([sys.executable, "manage.py", *step], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def ids(env: dict[str, str]) -> dict[str, Any]:
    script = (
        "import json; from bim_review.models import BimModel; from evaluation.models import EvaluationSession;"
        "s = EvaluationSession.objects.get(lot__code='BD01');"
        "print(json.dumps({'session': s.pk, 'models': {m.bid.anonymous_label: m.pk for m in"
        " BimModel.objects.filter(bid__lot=s.lot, status='ready')}}))"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def signed_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    return page


def open_model(page: Any, url: str) -> float:
    page.goto(url)
    page.wait_for_selector("#bim[data-state=ready]", timeout=60_000)
    page.wait_for_function("window.bimViewer && window.bimViewer.view.firstPictureAt !== null")
    return round(page.evaluate("window.bimViewer.view.firstPictureAt"), 1)


def render_figures(page: Any) -> dict[str, Any]:
    figures = page.evaluate(f"window.bimViewer.view.measureFrames({FRAMES})")
    figures["elements"] = page.evaluate("window.bimViewer.view.items.size")
    figures["objects"] = page.evaluate(MESHES)
    figures["ms"] = round(figures["ms"], 2)
    figures["submitMs"] = round(figures["submitMs"], 2)
    return figures


def follow_delays(presenter: Any, follower: Any, viewer_url: str) -> dict[str, Any]:
    for page in (presenter, follower):
        page.goto(viewer_url)
        page.wait_for_selector("#bim[data-state=ready]", timeout=60_000)
        page.wait_for_selector("#share-status[data-connection=connected]")
    presenter.click("#present")
    presenter.wait_for_selector("#share-status[data-mode=presenting]")
    for i in range(MOVES):
        # One orbit step, then a pause longer than the send interval: each move is sent at once.
        presenter.evaluate(
            """(i) => { const v = window.bimViewer.view;
               v.camera.position.applyAxisAngle(window.bimViewer.toGl([0, 0, 1]), 0.05);
               v.controls.update(); }""",
            i,
        )
        presenter.wait_for_timeout(250)
    follower.wait_for_function(f"window.bimViewer.sharing.delays.length >= {MOVES}", timeout=20_000)
    delays = sorted(follower.evaluate("window.bimViewer.sharing.delays"))
    return {
        "moves": len(delays),
        "p50": statistics.median(delays),
        "p95": delays[int(len(delays) * 0.95) - 1],
        "max": delays[-1],
    }


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-bim-viewer-") as tmp:
        data = Path(tmp)
        started = time.monotonic()
        env = prepare(data)
        log(f"seeded and converted in {time.monotonic() - started:.1f} s")
        found = ids(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_log = data / "server.log"
        with server_log.open("wb") as out:
            proc = spawn([*DAPHNE, str(port), "config.asgi:application"], env, out)
            try:
                wait_until_answers(proc, port, 60, lambda: server_log.read_text(errors="replace"))
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                    result = run(browser, base, found)
                    browser.close()
            finally:
                stop(proc)
    result["cpus"] = os.cpu_count()
    result["chromium"] = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    print(json.dumps(result, ensure_ascii=False))


def run(browser: Any, base: str, found: dict[str, Any]) -> dict[str, Any]:
    viewer = f"{base}/sessions/{found['session']}/bim/"
    page = signed_in(browser, base, "reviewer_wu")
    first: dict[str, Any] = {}
    for label, model in sorted(found["models"].items()):
        name = SAMPLE_OF_BID.get(label[:1], label)
        cold = open_model(page, f"{viewer}?model={model}")
        warm = [open_model(page, f"{viewer}?model={model}") for _ in range(1 if QUICK else 3)]
        first[name] = {"cold": cold, "warm_median": statistics.median(warm)}
        log(f"{name}: first picture cold {cold} ms, warm {warm}")
    fzk = found["models"][next(k for k in found["models"] if k.startswith("A"))]
    render: dict[str, Any] = {}
    large = f"_{COPIES}x{COPIES}"
    variants = [(f"{mode}{size}", mode, size) for size in ("", large) for mode in ("instanced", "batched", "naive")]
    variants += [(f"{mode}{large}_noaa", mode, f"{large}_noaa") for mode in ("instanced", "naive")]
    for key, mode, size in variants:
        query = f"&render={mode}" + (f"&copies={COPIES}" if size else "")
        query += "&antialias=0" if "noaa" in size else "&antialias=1"
        open_model(page, f"{viewer}?model={fzk}{query}")
        render[key] = render_figures(page)
        log(f"{key}: {render[key]}")
    for size in ("", large, f"{large}_noaa"):
        naive = render[f"naive{size}"]
        for mode in ("instanced", "batched"):
            if f"{mode}{size}" in render:
                other = render[f"{mode}{size}"]
                render[f"ratio_calls_{mode}{size}"] = round(naive["calls"] / other["calls"], 1)
                render[f"ratio_ms_{mode}{size}"] = round(naive["ms"] / other["ms"], 2)
                render[f"ratio_submit_{mode}{size}"] = round(naive["submitMs"] / other["submitMs"], 2)
    host = signed_in(browser, base, "host_wang")
    delay = follow_delays(page, host, f"{viewer}?model={fzk}")
    log(f"follow: {delay}")
    return {
        "bench": "bim_viewer",
        "first_picture_ms": first,
        "render": render,
        "follow_delay_ms": delay,
        "frames": FRAMES,
    }


if __name__ == "__main__":
    main()
