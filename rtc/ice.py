"""The ICE servers a browser is given: STUN, and TURN with credentials (``config/settings.py``).

With ``RTC_TURN_SECRET`` the credentials are minted per user and expire, as coturn's
``use-auth-secret`` expects (the "TURN REST API" scheme): the user name is ``<expiry>:<user id>``,
the password the base64 HMAC-SHA1 of that name under the shared secret. Otherwise the fixed
``RTC_TURN_USERNAME``/``RTC_TURN_PASSWORD`` are served.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings


def turn_credentials(user_id: int, *, now: float | None = None) -> tuple[str, str]:
    if settings.RTC_TURN_SECRET:
        expiry = int(now if now is not None else time.time()) + settings.RTC_TURN_CREDENTIAL_SECONDS
        username = f"{expiry}:{user_id}"
        digest = hmac.new(settings.RTC_TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
        return username, base64.b64encode(digest).decode()
    return settings.RTC_TURN_USERNAME, settings.RTC_TURN_PASSWORD


def browser_ice_servers(user_id: int) -> list[dict[str, Any]]:
    """``RTCPeerConnection``'s ``iceServers`` for this user (empty by default: loopback/LAN only)."""
    servers: list[dict[str, Any]] = []
    if settings.RTC_STUN_URLS:
        servers.append({"urls": list(settings.RTC_STUN_URLS)})
    if settings.RTC_TURN_URLS:
        username, credential = turn_credentials(user_id)
        servers.append({"urls": list(settings.RTC_TURN_URLS), "username": username, "credential": credential})
    return servers
