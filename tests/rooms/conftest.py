"""Room fixtures: sockets opened through the real ASGI stack (origin check, cookies, login session)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.asgi import application
from rooms import hub, presence
from tests.rooms.media_support import media_workers  # noqa: F401  (a fixture for the media tests)

ORIGIN = b"http://127.0.0.1:8000"


def login_cookie(user: User, *, second_factor: bool = True) -> str:
    """A login session for ``user`` as after the login page (and the TOTP step when ``second_factor``)."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if second_factor:
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.save()
    assert store.session_key is not None
    return store.session_key


class Socket:
    """One participant's room socket, with helpers that read frames as JSON."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.version = 0
        # Frames read while waiting for a reply, handed out first by the next receive.
        self.backlog: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.communicator.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))

    async def receive(self, timeout: float = 3) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        frame = json.loads(await self.communicator.receive_from(timeout))
        if isinstance(frame.get("version"), int) and frame["type"] != "ping":
            self.version = max(self.version, frame["version"])
        return frame

    async def expect(self, frame_type: str, timeout: float = 3, **match: Any) -> dict[str, Any]:
        """The next frame of ``frame_type`` (whose data match ``match``), skipping the others."""
        while True:
            frame = await self.receive(timeout)
            data = frame.get("data") or {}
            if frame["type"] == frame_type and all(data.get(k) == v for k, v in match.items()):
                return frame

    async def request(self, frame: dict[str, Any], timeout: float = 5) -> dict[str, Any]:
        """Send a frame with an id and return the ack or error that answers it; other frames stay unread."""
        frame = {"id": f"req-{id(frame)}", **frame}
        await self.send(frame)
        skipped: list[dict[str, Any]] = []
        while True:
            reply = json.loads(await self.communicator.receive_from(timeout))
            if reply["type"] in ("ack", "error") and reply.get("ref") == frame["id"]:
                self.backlog.extend(skipped)
                return reply
            skipped.append(reply)

    async def closed_with(self, timeout: float = 3) -> int | None:
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code")

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def join() -> AsyncIterator[Any]:
    """``await join(user, session)`` opens a room socket; the first frame (snapshot or close) is left unread."""
    opened: list[Socket] = []

    async def _join(
        user: User | None, session_id: int, *, second_factor: bool = True, origin: bytes = ORIGIN, language: str = ""
    ) -> Socket:
        headers = [(b"origin", origin)]
        cookies = [f"django_language={language}"] if language else []
        if user is not None:
            key = await database_sync_to_async(login_cookie)(user, second_factor=second_factor)
            cookies.append(f"sessionid={key}")
        if cookies:
            headers.append((b"cookie", "; ".join(cookies).encode()))
        communicator = WebsocketCommunicator(application, f"/ws/sessions/{session_id}/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected, "the origin check refused the socket"
        socket = Socket(communicator)
        opened.append(socket)
        return socket

    yield _join
    for socket in opened:
        # A socket the server closed in the test has nothing left to close.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await socket.close()
    # The consumers' database work ran in asgiref's worker thread: close its connection, or
    # PostgreSQL refuses to drop the test database at the end of the run.
    await database_sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
def _fresh_room_state():
    # Session ids repeat between tests on SQLite: no presence may carry over.
    presence._MEMORY.clear()
    hub._hubs.clear()
