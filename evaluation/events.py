"""Session events for the live room, sent on the channel layer only after the change commits.

The core names the groups and sends; it never imports ``rooms/``. Until the room consumers
exist, a send reaches an empty group, which the channel layer drops.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from evaluation.audit import canonical_value

log = logging.getLogger(__name__)


def session_group(session_id: int) -> str:
    return f"session.{session_id}"


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The change is committed; a lost broadcast is repaired by the clients' resync on the
        # version in the next ping, so it is logged, not raised into the committed action.
        log.exception("broadcast to %s failed", group)


def broadcast(session_id: int, event_type: str, data: dict[str, Any], *, version: int) -> None:
    """Send ``event_type`` to the session's group once the current transaction commits.

    ``event_type`` is the protocol name ("phase.changed"); a consumer handles it in the method with
    the dots turned into underscores. ``version`` is the audit sequence the change produced.
    """
    message = {"type": event_type, "version": version, "data": canonical_value(data)}
    group = session_group(session_id)
    transaction.on_commit(lambda: _send(group, message))
