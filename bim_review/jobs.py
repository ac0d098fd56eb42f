"""Running conversions of BimModel rows: the step function, its launchers, and progress to the room.

``convert_model(pk)`` is the one step: it claims a queued model, serves it from the cache if the
outputs of its cache key exist (a second request never converts again), otherwise runs the supervised
conversion (bim_review/convert.py) and records ready or failed with the reason. Progress (stage and
percent) goes to the row and, as the ephemeral room event ``bim.progress``, to every session of the
bid's lot.

Where it runs (``EVAL_BIM_RUNNER``): "thread", a background thread of the web process, started after
the upload commits or when a page lists a queued model (the embedded default); "worker", only the
``manage.py bim_worker`` command (production).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from bim_review import outputs
from bim_review.convert import ConversionFailed, Limits, convert_file
from bim_review.models import BimModel, ConversionStatus
from evaluation.events import session_group
from evaluation.models import EvaluationSession

log = logging.getLogger(__name__)

PROGRESS_STEP = 5  # percent between two progress messages of the same stage
PROGRESS_EVENT = "bim.progress"

_active: set[int] = set()
_active_lock = threading.Lock()
# At most this many conversions at once in one web process; the others wait queued.
THREAD_SLOTS = 2
_slots = threading.BoundedSemaphore(THREAD_SLOTS)


def limits() -> Limits:
    return Limits(
        timeout=float(settings.EVAL_BIM_TIMEOUT),
        memory_mb=int(settings.EVAL_BIM_MEMORY_MB),
        threads=int(settings.EVAL_BIM_THREADS),
    )


def progress_data(model: BimModel) -> dict[str, Any]:
    return {
        "model": model.pk,
        "bid": model.bid.anonymous_label,
        "status": model.status,
        "stage": model.stage,
        "percent": model.percent,
        "reason": model.failure_reason,
    }


def publish(model: BimModel) -> None:
    """The model's progress to the rooms of its lot; ephemeral, so a lost one is only a stale bar."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": PROGRESS_EVENT, "data": progress_data(model)}
    for session_id in EvaluationSession.objects.filter(lot=model.bid.lot_id).values_list("pk", flat=True):
        try:
            async_to_sync(layer.group_send)(session_group(session_id), message)
        except Exception:
            log.exception("bim.progress to session %s failed", session_id)


def _update(model: BimModel, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(model, name, value)
    BimModel.objects.filter(pk=model.pk).update(**fields)
    publish(model)


def _claim(pk: int) -> BimModel | None:
    now = timezone.now()
    claimed = BimModel.objects.filter(pk=pk, status=ConversionStatus.QUEUED).update(
        status=ConversionStatus.CONVERTING, stage="", percent=0, failure_reason="", started_at=now, finished_at=None
    )
    if not claimed:
        return None
    return BimModel.objects.select_related("bid", "document").get(pk=pk)


def convert_model(pk: int, *, on_start: Callable[[int], None] | None = None) -> BimModel | None:
    """Convert one queued model (None if it was not queued: another worker has it, or it is done)."""
    model = _claim(pk)
    if model is None:
        return None
    model.attempts += 1
    BimModel.objects.filter(pk=pk).update(attempts=model.attempts)
    target = outputs.output_dir(model.cache_key)
    if outputs.is_complete(target):
        _update(model, status=ConversionStatus.READY, stage="cached", percent=100, finished_at=timezone.now())
        return model
    last: dict[str, Any] = {"stage": "", "percent": -PROGRESS_STEP}

    def on_progress(stage: str, percent: int) -> None:
        if stage != last["stage"] or percent >= last["percent"] + PROGRESS_STEP:
            last.update(stage=stage, percent=percent)
            _update(model, stage=stage, percent=min(percent, 99))

    try:
        summary = convert_file(
            Path(model.document.file.path),
            target,
            name=model.original_name,
            limits=limits(),
            on_progress=on_progress,
            on_start=on_start,
        )
    except ConversionFailed as exc:
        _update(model, status=ConversionStatus.FAILED, failure_reason=exc.reason, finished_at=timezone.now())
        return model
    except Exception as exc:  # a fault of ours, not of the file: recorded, never raised into the server
        log.exception("conversion of BIM model %s failed", pk)
        _update(
            model, status=ConversionStatus.FAILED, failure_reason=f"internal error: {exc}", finished_at=timezone.now()
        )
        return model
    BimModel.objects.filter(pk=pk).update(failed_elements=summary["failed"])
    model.failed_elements = summary["failed"]
    _update(model, status=ConversionStatus.READY, stage="done", percent=100, finished_at=timezone.now())
    return model


def retry(model: BimModel) -> bool:
    """Queue a failed model again (True if it was failed)."""
    return bool(
        BimModel.objects.filter(pk=model.pk, status=ConversionStatus.FAILED).update(
            status=ConversionStatus.QUEUED, stage="", percent=0, failure_reason=""
        )
    )


def _run_in_thread(pk: int, loop: asyncio.AbstractEventLoop | None) -> None:
    if loop is not None:
        # Progress is sent on the server's event loop, as from a sync view: the in-memory channel
        # layer's queues belong to that loop and must not be touched from another.
        SyncToAsync.threadlocal.main_event_loop = loop
        SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()
    try:
        with _slots:
            convert_model(pk)
    finally:
        with _active_lock:
            _active.discard(pk)
        close_old_connections()


def start(pk: int) -> None:
    """Start converting a queued model in this process, if this process converts (EVAL_BIM_RUNNER)."""
    if settings.EVAL_BIM_RUNNER != "thread":
        return
    with _active_lock:
        if pk in _active:
            return
        _active.add(pk)
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    threading.Thread(target=_run_in_thread, args=(pk, loop), name=f"bim-convert-{pk}", daemon=True).start()


def requeue_stale() -> int:
    """Models left "converting" by a process that died: queued again once the timeout has long passed."""
    cutoff = timezone.now() - timedelta(seconds=3 * float(settings.EVAL_BIM_TIMEOUT) + 60)
    with _active_lock:
        mine = set(_active)
    return (
        BimModel.objects.filter(status=ConversionStatus.CONVERTING, started_at__lt=cutoff)
        .exclude(pk__in=mine)
        .update(status=ConversionStatus.QUEUED, stage="", percent=0)
    )


def ensure_started(models: list[BimModel]) -> None:
    """Start queued models nobody converts (seeded ones, or after a restart), in the thread runner."""
    if settings.EVAL_BIM_RUNNER != "thread":
        return
    requeue_stale()
    for model in models:
        if model.status == ConversionStatus.QUEUED:
            start(model.pk)


def run_worker(*, once: bool = False, idle_seconds: float = 2.0) -> int:
    """The production worker's loop: convert queued models oldest first; the number converted."""
    done = 0
    while True:
        requeue_stale()
        pk = (
            BimModel.objects.filter(status=ConversionStatus.QUEUED)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            if once:
                return done
            time.sleep(idle_seconds)
            continue
        if convert_model(pk) is not None:
            done += 1
