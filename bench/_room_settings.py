"""Settings of the room benchmark's servers: the project's own, with the bench's Redis key prefix.

Redis is shared on this machine, and pub/sub channel names ignore the database number, so the
benchmark keeps its channel-layer traffic apart with a prefix (``BENCH_ROOM_PREFIX``). Everything
else, including the layer chosen by ``EVAL_CHANNEL_LAYER``, is read by ``config.settings``.
"""

from __future__ import annotations

import os
from typing import Any

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS

_prefix = os.environ.get("BENCH_ROOM_PREFIX", "")
_layer: dict[str, Any] = dict(CHANNEL_LAYERS["default"])
if _prefix and "redis" in str(_layer["BACKEND"]):
    _layer["CONFIG"] = {**dict(_layer.get("CONFIG") or {}), "prefix": _prefix}
    CHANNEL_LAYERS = {"default": _layer}
