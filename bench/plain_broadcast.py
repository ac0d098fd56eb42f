"""The ceiling for the room benchmark: a minimal broadcast server on the plain ``websockets`` library.

One process, rooms by URL path (``/ws/sessions/<id>/``), the room's wire shapes: a snapshot on
connect, a ping every few seconds, heartbeats ignored, and each ``{"type": "typing", "id": ...}``
encoded once and sent with ``websockets.broadcast`` to every connection of the room, the sender
included, as ``{"type": "typing", "ref": <id>, "data": {"member": <n>}}``. No authentication, no
database, no channel layer: what is left is the cost of WebSocket framing and the event loop.

    .venv/bin/python -m bench.plain_broadcast --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import itertools
import json
import signal
import sys
from collections import defaultdict
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

PING_SECONDS = 5.0

rooms: defaultdict[str, set[ServerConnection]] = defaultdict(set)
versions: defaultdict[str, int] = defaultdict(int)
member_numbers = itertools.count(1)


async def pinger(room: str, ws: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.sleep(PING_SECONDS)
            await ws.send(json.dumps({"type": "ping", "version": versions[room]}))


async def handler(ws: ServerConnection) -> None:
    assert ws.request is not None
    room = ws.request.path
    member = next(member_numbers)
    peers = rooms[room]
    peers.add(ws)
    ping = asyncio.create_task(pinger(room, ws))
    try:
        await ws.send(json.dumps({"type": "snapshot", "version": versions[room], "data": {"room": room}}))
        async for raw in ws:
            try:
                frame = json.loads(raw)
            except ValueError:
                continue
            if frame.get("type") == "typing":
                out = json.dumps({"type": "typing", "ref": str(frame.get("id", ""))[:64], "data": {"member": member}})
                broadcast(peers, out)
    except ConnectionClosed:
        pass
    finally:
        ping.cancel()
        peers.discard(ws)
        if not peers:
            del rooms[room]


async def amain(host: str, port: int, compression: bool) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    deflate = "deflate" if compression else None
    async with serve(handler, host, port, compression=deflate, ping_interval=None, max_queue=None):
        print(f"plain_broadcast listening on {host}:{port}", file=sys.stderr, flush=True)
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--compression", action="store_true", help="accept permessage-deflate (default: off)")
    args = parser.parse_args()
    try:
        uvloop: Any = importlib.import_module("uvloop")
    except ImportError:
        asyncio.run(amain(args.host, args.port, args.compression))
    else:
        uvloop.run(amain(args.host, args.port, args.compression))


if __name__ == "__main__":
    main()
