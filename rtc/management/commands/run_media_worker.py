"""``manage.py run_media_worker``: a media worker process (see ``rtc/worker.py``).

The first SIGTERM or SIGINT drains the worker (its rooms stay until they empty, no new room comes),
a second one stops it at once. ``--drain WORKER_ID`` asks a running worker to drain through the
registry; ``--list`` prints the live workers.
"""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rtc.registry import make_registry
from rtc.worker import MediaWorker


class Command(BaseCommand):
    help = "Run a media worker: it owns the peer connections of the rooms the registry places on it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", dest="worker_id", help="the worker's id in the registry (default: random)")
        parser.add_argument("--drain", metavar="WORKER_ID", help="ask a running worker to drain, then exit")
        parser.add_argument("--list", action="store_true", help="print the live workers as JSON lines, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["drain"]:
            asyncio.run(self._drain(options["drain"]))
            return
        if options["list"]:
            asyncio.run(self._list())
            return
        asyncio.run(self._run(options["worker_id"]))

    async def _run(self, worker_id: str | None) -> None:
        worker = MediaWorker(worker_id=worker_id)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        self.stderr.write(f"media worker {worker.id} starting")
        await worker.run(stop)
        self.stderr.write(f"media worker {worker.id} stopped")

    async def _drain(self, worker_id: str) -> None:
        registry = make_registry()
        try:
            await registry.request_drain(worker_id)
        finally:
            await registry.close()
        self.stdout.write(f"asked media worker {worker_id} to drain")

    async def _list(self) -> None:
        registry = make_registry()
        try:
            for info in await registry.workers():
                self.stdout.write(json.dumps(asdict(info)))
        finally:
            await registry.close()
