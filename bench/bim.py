"""BIM conversion against web-ifc: one JSON line per sample model (issue 6's benchmark).

For each sample of ``$EVAL_SHARED_DIR/ifc``, in one run:

- ``by_shape``: a cold conversion child (``python -m bim_review.ifc``) as the server runs it first:
  each element with the kernel its shape suits (manifold for closed solids, the CGAL hybrid for the
  rest, OpenCASCADE for surface models with openings; what comes out empty goes to OpenCASCADE): wall
  time, stage timings (``geometry_cpu``: CPU seconds of the geometry stage), peak RSS of the child;
- ``by_shape_2_threads``: the same with two geometry threads (Limits.threads / EVAL_BIM_THREADS=2);
- ``fast`` / ``default``: the fallbacks alone: the CGAL hybrid (hybrid-cgal-simple-opencascade) for
  everything, and the default kernel (OpenCASCADE) for everything;
- ``full``: the server's whole conversion (bim_review.convert.convert_file: child + meshopt);
- ``cached``: opening a converted model from the cache (the check and reading every output), median;
- ``sizes``: IFC, raw GLB, meshopt GLB, gzipped JSON outputs;
- ``web_ifc``: web-ifc (npm) in Node parsing the same file and streaming all meshes
  (bench/webifc_stream.mjs), the anchor (single-threaded; Node's CPU figure includes its GC threads);
  ``ratio_geometry`` = our geometry stage / web-ifc's, by wall time; ``ratio_geometry_cpu`` by CPU
  time; ``_2_threads``, ``_fast``, ``_default_kernel`` the same for the other children (wall).

Target: ``ratio_geometry`` <= 2 for every sample. Run under ``flock -x /tmp/cpu.lock``:

    flock -x /tmp/cpu.lock .venv/bin/python -m bench.bim
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

from bim_review import outputs
from bim_review.convert import BY_SHAPE, DEFAULT_KERNEL, FAST_KERNEL, ROOT, Limits, convert_file, run_child

SAMPLES = ("AC20-FZK-Haus.ifc", "duplex.ifc", "IfcOpenHouse_IFC4.ifc")


def shared_ifc() -> Path:
    return Path(os.environ.get("EVAL_SHARED_DIR", ROOT.parent / "shared")) / "ifc"


def child(src: Path, kernel: str, threads: int, work: Path) -> dict[str, Any]:
    out = work / f"{kernel}-{threads}"
    run = run_child([str(src), str(out), "--kernel", kernel, "--threads", str(threads)], Limits(), lambda s, p: None)
    if run.returncode != 0:
        return {"error": run.failure(Limits())}
    result = json.loads((out / "child.json").read_text())
    return {
        "wall_s": round(run.elapsed, 3),
        "timings": result["timings"],
        "peak_rss_mb": result["peak_rss_mb"],
        "products": sum(result["products_by_class"].values()),
        "failed": len(result["failed"]),
        "retried_with_default_kernel": result.get("retried_with_default_kernel", 0),
        "products_by_kernel": result.get("products_by_kernel", {}),
        "raw_glb_bytes": (out / "raw.glb").stat().st_size,
    }


def cached_open(folder: Path, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        assert outputs.is_complete(folder)
        for name in outputs.ALL_FILES:
            (folder / name).read_bytes()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def web_ifc(src: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(ROOT / "bench" / "webifc_stream.mjs"), str(src)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.pop("file", None)
    return result


def ratio(ours: dict[str, Any], key: str, anchor: float) -> float | None:
    value = ours.get("timings", {}).get(key)
    return round(value / anchor, 2) if value is not None and anchor else None


def measure(src: Path, work: Path) -> dict[str, Any]:
    by_shape = child(src, BY_SHAPE, 1, work)
    two = child(src, BY_SHAPE, 2, work)
    fast = child(src, FAST_KERNEL, 1, work)
    default = child(src, DEFAULT_KERNEL, 1, work)
    started = time.perf_counter()
    summary = convert_file(src, work / "full", name=src.name)
    full_wall = time.perf_counter() - started
    anchor = web_ifc(src)
    return {
        "bench": "bim",
        "model": src.name,
        "ifc_bytes": src.stat().st_size,
        "cpus": os.cpu_count(),
        "by_shape": by_shape,
        "by_shape_2_threads": two,
        "fast": fast,
        "default": default,
        "full": {"wall_s": round(full_wall, 3), "timings": summary["timings"], "compressed": summary["compressed"]},
        "cached_open_ms": cached_open(work / "full"),
        "sizes": summary["sizes"] | {"raw.glb": by_shape.get("raw_glb_bytes")},
        "web_ifc": anchor,
        "ratio_geometry": ratio(by_shape, "geometry", anchor["geometry_s"]),
        "ratio_geometry_cpu": ratio(by_shape, "geometry_cpu", anchor["geometry_cpu_s"]),
        "ratio_geometry_2_threads": ratio(two, "geometry", anchor["geometry_s"]),
        "ratio_geometry_2_threads_cpu": ratio(two, "geometry_cpu", anchor["geometry_cpu_s"]),
        "ratio_geometry_fast": ratio(fast, "geometry", anchor["geometry_s"]),
        "ratio_geometry_default_kernel": ratio(default, "geometry", anchor["geometry_s"]),
    }


def main() -> None:
    names = sys.argv[1:] or list(SAMPLES)
    for name in names:
        src = shared_ifc() / name
        with tempfile.TemporaryDirectory(prefix="bench-bim-") as work:
            print(json.dumps(measure(src, Path(work)), sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
