"""One load process of the room benchmark: many light asyncio WebSocket clients, as room members.

Run by ``bench.room_fanout`` as ``python -m bench._room_load``; not meant to be run by hand.

Protocol with the parent, one JSON object a line:

1. stdin: ``{"clients": [{"gid", "room", "url", "origin", "cookie"}...], "rate": events/s/client,
   "compression": offer permessage-deflate}``
2. stdout: ``{"ready": connected, "failed": [reasons]}`` once every client has tried to connect
3. stdin: ``{"start": ns, "measure_from": ns, "stop": ns, "drain_until": ns}`` (``time.time_ns()``)
4. stdout: the results (below), then the process exits.

Each client sends ``{"type": "typing", "id": "<gid>.<seq>.<send time ns>"}`` ``rate`` times a second
from ``start`` to ``stop`` (random phase), and ``{"type": "heartbeat"}`` every 3 s while connected.
An event is *counted* if it was sent in ``[measure_from, stop)``: each client expects every counted
event of every member of its room, its own included. Deliveries received in that wall-clock window
are reported apart, to pair with the servers' CPU time over the same window.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

HEARTBEAT_SECONDS = 3.0
CONNECT_CONCURRENCY = 16


@dataclass
class Client:
    gid: int
    room: int
    url: str
    origin: str
    cookie: str | None
    ws: ClientConnection | None = None
    failure: str = ""
    sent_counted: int = 0
    send_failures: int = 0
    got: Counter[int] = field(default_factory=Counter)  # counted events received, by sender
    seen: set[tuple[int, int]] = field(default_factory=set)
    duplicates: int = 0
    snapshots: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    closed: bool = False
    close_reason: str = ""
    other_frames: Counter[str] = field(default_factory=Counter)


@dataclass
class Window:
    start: int = 0
    measure_from: int = 0
    stop: int = 0
    drain_until: int = 0


class Load:
    def __init__(self, clients: list[Client], rate: float, compression: bool) -> None:
        self.clients = clients
        self.rate = rate
        self.compression = compression
        self.window = Window()
        self.latencies_us: list[int] = []
        self.window_deliveries = 0  # typing frames received in [measure_from, stop), counted or not
        self.late = 0  # counted events received after drain_until

    async def open(self, client: Client, gate: asyncio.Semaphore) -> None:
        headers = {"Cookie": f"sessionid={client.cookie}"} if client.cookie else {}
        async with gate:
            try:
                client.ws = await connect(
                    client.url,
                    origin=client.origin,  # type: ignore[arg-type]
                    additional_headers=headers,
                    compression="deflate" if self.compression else None,
                    ping_interval=None,
                    open_timeout=60,
                    max_queue=None,
                )
            except Exception as exc:
                client.failure = f"{type(exc).__name__}: {exc}"[:200]

    def on_frame(self, client: Client, raw: str | bytes) -> None:
        now = time.time_ns()
        try:
            frame = json.loads(raw)
            kind = frame.get("type")
        except (ValueError, AttributeError):
            client.other_frames["unparsable"] += 1
            return
        if kind == "typing":
            w = self.window
            if w.measure_from <= now < w.stop:
                self.window_deliveries += 1
            try:
                sender_s, seq_s, sent_s = str(frame["ref"]).split(".")
                sender, seq, sent = int(sender_s), int(seq_s), int(sent_s)
            except (KeyError, ValueError):
                client.other_frames["typing-without-ref"] += 1
                return
            if not (w.measure_from <= sent < w.stop):
                return
            if (sender, seq) in client.seen:
                client.duplicates += 1
                return
            client.seen.add((sender, seq))
            if now > w.drain_until:
                self.late += 1
                return
            client.got[sender] += 1
            self.latencies_us.append((now - sent) // 1000)
        elif kind == "snapshot":
            client.snapshots += 1
        elif kind == "error":
            client.errors += 1
            if len(client.error_samples) < 3:
                client.error_samples.append(str(raw)[:300])
        else:
            client.other_frames[str(kind)] += 1

    async def reader(self, client: Client) -> None:
        assert client.ws is not None
        try:
            async for raw in client.ws:
                self.on_frame(client, raw)
        except ConnectionClosed as exc:
            client.close_reason = str(exc)[:200]
        client.closed = True
        if not client.close_reason:
            client.close_reason = f"closed {client.ws.close_code} {client.ws.close_reason}"[:200]

    async def heartbeat(self, client: Client) -> None:
        assert client.ws is not None
        await asyncio.sleep(random.uniform(0, HEARTBEAT_SECONDS))
        with contextlib.suppress(ConnectionClosed):
            while True:
                await client.ws.send('{"type":"heartbeat"}')
                await asyncio.sleep(HEARTBEAT_SECONDS)

    async def sender(self, client: Client) -> None:
        assert client.ws is not None
        w = self.window
        period_ns = int(1e9 / self.rate)
        due = w.start + random.randrange(period_ns)
        seq = 0
        while due < w.stop:
            delay = (due - time.time_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.time_ns()
            if sent >= w.stop:
                break
            try:
                await client.ws.send(f'{{"type":"typing","id":"{client.gid}.{seq}.{sent}"}}')
                if sent >= w.measure_from:
                    client.sent_counted += 1
            except ConnectionClosed:
                client.send_failures += 1
            seq += 1
            due += period_ns

    async def run(self, stdin: asyncio.StreamReader) -> dict[str, Any]:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        await asyncio.gather(*(self.open(c, gate) for c in self.clients))
        live = [c for c in self.clients if c.ws is not None]
        background = [asyncio.create_task(self.reader(c)) for c in live]
        background += [asyncio.create_task(self.heartbeat(c)) for c in live]
        failed = [f"{c.gid}: {c.failure}" for c in self.clients if c.ws is None]
        print(json.dumps({"ready": len(live), "failed": failed[:5], "failed_count": len(failed)}), flush=True)

        plan = json.loads(await stdin.readline())
        self.window = Window(plan["start"], plan["measure_from"], plan["stop"], plan["drain_until"])
        await asyncio.gather(*(self.sender(c) for c in live))
        await asyncio.sleep(max(0.0, (self.window.drain_until - time.time_ns()) / 1e9))
        # Late deliveries still arriving right now are counted as late, not lost.
        await asyncio.sleep(0.5)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await asyncio.gather(*(c.ws.close() for c in live if c.ws is not None), return_exceptions=True)
        return self.results()

    def results(self) -> dict[str, Any]:
        other: Counter[str] = Counter()
        extensions: Counter[str] = Counter()
        for c in self.clients:
            other.update(c.other_frames)
            if c.ws is not None and c.ws.response is not None:
                extensions[c.ws.response.headers.get("Sec-WebSocket-Extensions") or "none"] += 1
        return {
            "clients": [
                {
                    "gid": c.gid,
                    "room": c.room,
                    "connected": c.ws is not None,
                    "sent_counted": c.sent_counted,
                    "send_failures": c.send_failures,
                    "got": {str(k): v for k, v in c.got.items()},
                    "duplicates": c.duplicates,
                    "snapshots": c.snapshots,
                    "errors": c.errors,
                    "error_samples": c.error_samples,
                    "closed_early": c.closed,
                    "close_reason": c.close_reason,
                }
                for c in self.clients
            ],
            "latencies_us": self.latencies_us,
            "window_deliveries": self.window_deliveries,
            "late": self.late,
            "other_frames": dict(other),
            "extensions": dict(extensions),
        }


async def amain() -> None:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    config = json.loads(await stdin.readline())
    clients = [Client(c["gid"], c["room"], c["url"], c["origin"], c.get("cookie")) for c in config["clients"]]
    results = await Load(clients, float(config["rate"]), bool(config.get("compression"))).run(stdin)
    print(json.dumps(results), flush=True)


def main() -> None:
    try:
        uvloop: Any = importlib.import_module("uvloop")
    except ImportError:
        asyncio.run(amain())
    else:
        uvloop.run(amain())


if __name__ == "__main__":
    main()
