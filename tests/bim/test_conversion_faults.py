"""A conversion that crashes, hangs or is killed fails alone, with a reason; the server goes on (B1).

The child processes are real: killed with SIGKILL, or stopped by the timeout. The element crash uses
the child's test hook (EVAL_BIM_FAULT), which aborts the child when it reaches the named element.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.files.uploadedfile import SimpleUploadedFile

from bim_review import jobs, outputs
from bim_review.model_actions import attach_model
from bim_review.models import BimModel, ConversionStatus
from evaluation.events import session_group
from evaluation.models import Bid
from evaluation.opening import import_opening_record
from tests.personas import Cast, opening_json


@pytest.fixture
def queued(cast: Cast, fresh_bim_dir, house) -> BimModel:
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    bid = Bid.objects.get(lot=cast.lot, bidder=cast.bidder_a)
    return attach_model(cast.host, bid, SimpleUploadedFile("m.ifc", house.path.read_bytes()), convert=False)


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def test_a_killed_conversion_is_failed_with_a_reason_and_a_retry_converts_it(queued, cast):
    started: list[int] = []

    def kill_each(pid: int) -> None:
        started.append(pid)
        kill(pid)

    jobs.convert_model(queued.pk, on_start=kill_each)
    queued.refresh_from_db()
    assert queued.status == ConversionStatus.FAILED
    assert "killed by SIGKILL" in queued.failure_reason
    # By shape, fast kernel, default kernel, then isolation: four children, each killed; this process
    # goes on.
    assert len(started) == 4
    assert not outputs.output_dir(queued.cache_key).exists()
    assert cast.session.__class__.objects.filter(pk=cast.session.pk).exists()

    assert jobs.retry(queued)
    jobs.convert_model(queued.pk)
    queued.refresh_from_db()
    assert queued.status == ConversionStatus.READY, queued.failure_reason
    assert outputs.is_complete(outputs.output_dir(queued.cache_key))


def test_a_conversion_past_its_timeout_is_failed_with_the_timeout_as_reason(queued, settings):
    settings.EVAL_BIM_TIMEOUT = 0.2
    jobs.convert_model(queued.pk)
    queued.refresh_from_db()
    assert queued.status == ConversionStatus.FAILED
    assert "timed out after 0.2 s" in queued.failure_reason
    assert not any(p.name.startswith(".") for p in outputs.bim_root().iterdir()), "no half-written folder left"


def test_an_element_that_crashes_every_kernel_is_left_out_and_reported_not_fatal(queued, house, monkeypatch):
    monkeypatch.setenv("EVAL_BIM_FAULT", f"crash:{house.walls[1]}")
    jobs.convert_model(queued.pk)
    queued.refresh_from_db()
    assert queued.status == ConversionStatus.READY, queued.failure_reason
    assert [(f["id"], f["class"]) for f in queued.failed_elements] == [(house.walls[1], "IfcWall")]
    assert "crashed" in queued.failed_elements[0]["reason"]


def test_progress_reaches_the_sessions_room_as_ephemeral_events_up_to_ready(queued, cast):
    async def listen_while_converting() -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel("test.")
        await layer.group_add(session_group(cast.session.pk), channel)
        await sync_to_async(jobs.convert_model)(queued.pk)
        seen: list[dict] = []
        while not seen or seen[-1]["data"]["status"] != ConversionStatus.READY:
            seen.append(await asyncio.wait_for(layer.receive(channel), timeout=5))
        await layer.group_discard(session_group(cast.session.pk), channel)
        return seen

    events = async_to_sync(listen_while_converting)()
    assert {e["type"] for e in events} == {"bim.progress"}
    assert all("version" not in e for e in events)
    stages = [e["data"]["stage"] for e in events]
    assert {"open", "geometry", "compress"} <= set(stages) and stages[-1] == "done"
    percents = [e["data"]["percent"] for e in events]
    assert percents == sorted(percents) and percents[-1] == 100
    assert {e["data"]["bid"] for e in events} == {queued.bid.anonymous_label}


def test_a_conversion_over_its_memory_limit_is_failed_naming_the_limit(queued, settings):
    settings.EVAL_BIM_MEMORY_MB = 64
    jobs.convert_model(queued.pk)
    queued.refresh_from_db()
    assert queued.status == ConversionStatus.FAILED
    assert "memory limit of 64 MiB" in queued.failure_reason
