"""docs/PROTOCOL.md and rooms/protocol.py name the same messages."""

from __future__ import annotations

import re

from rooms.protocol import CLIENT_TYPES, EPHEMERAL_EVENTS, MEDIA_EVENTS, VERSIONED_EVENTS
from tests.servers import ROOT


def test_protocol_page_documents_every_message_type_of_the_code():
    documented = set(re.findall(r"^\| `([a-z_.]+)`", (ROOT / "docs" / "PROTOCOL.md").read_text(), re.MULTILINE))
    # Server frames documented in rows that name two types at once ("`hand.raised` / `hand.lowered`").
    documented |= set(re.findall(r"`([a-z_.]+)` / `([a-z_.]+)`", (ROOT / "docs" / "PROTOCOL.md").read_text())[0])
    server = VERSIONED_EVENTS | EPHEMERAL_EVENTS | MEDIA_EVENTS | {"snapshot", "ping", "ack", "error", "hidden"}
    assert set(CLIENT_TYPES) - documented == set()
    assert server - documented == set()
