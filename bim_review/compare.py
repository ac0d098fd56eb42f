"""Compare two BIM models of a lot (two bids' models, or two revisions of one), cached by their hashes.

The compare itself runs in a child process (``python -m bim_review.ifc compare``, started through the
conversion's ``run_child``) with a timeout and a memory limit, as everything that opens an IFC file
does. Its result names elements by GlobalId and is scrubbed of the names that would reveal a bidder;
the bids are named here, when the result is shown, by their anonymous labels only (``labelled``).
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bim_review.convert import Limits, run_child
from bim_review.models import BimModel, ModelComparison

# Bumped when the result's shape or the compare's rules change, so cached results are not reused.
FORMAT = 2
LIMITS = Limits(timeout=300.0, memory_mb=4096)


class CompareFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compare_version() -> str:
    """Part of the cache key: another ifcopenshell or ifcdiff may find other differences."""
    return f"ifcopenshell {version('ifcopenshell')}; ifcdiff {version('ifcdiff')}; format {FORMAT}"


def compare_models(old: BimModel, new: BimModel, *, limits: Limits = LIMITS) -> dict[str, Any]:
    """The compare's result (``bim_review.ifc.compare_files``), from the cache or computed once."""
    key = {"old_sha256": old.sha256, "new_sha256": new.sha256, "version": compare_version()}
    cached = ModelComparison.objects.filter(**key).first()
    if cached is not None:
        return dict(cached.result)
    with tempfile.TemporaryDirectory(prefix="bim-compare-") as folder:
        out = Path(folder) / "compare.json"
        args = ["compare", old.document.file.path, new.document.file.path, str(out)]
        args += ["--old-name", old.original_name, "--new-name", new.original_name]
        args += ["--memory-mb", str(limits.memory_mb)]
        run = run_child(args, limits, lambda stage, percent: None)
        if run.returncode != 0 or not out.is_file():
            raise CompareFailed(f"the compare failed: {run.failure(limits)}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    ModelComparison.objects.get_or_create(**key, defaults={"result": result, "seconds": Decimal(f"{run.elapsed:.3f}")})
    return result


def labelled(result: dict[str, Any], old: BimModel, new: BimModel) -> dict[str, Any]:
    """The result with each side named by its bid's anonymous label, and counts for the list's heading."""
    return {
        "old": {"model": old.pk, "bid": old.bid.anonymous_label},
        "new": {"model": new.pk, "bid": new.bid.anonymous_label},
        "counts": {k: len(result.get(k, [])) for k in ("added", "removed", "changed")},
        **result,
    }
