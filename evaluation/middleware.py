"""Second factor: hosts, supervisors and administrators must pass TOTP before anything else."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp.models import Device

from evaluation.permissions import user_groups

SECOND_FACTOR_GROUPS = frozenset({"host", "supervisor"})
# Pages a user who still owes the second factor may reach.
EXEMPT_URL_NAMES = frozenset({"logout", "otp_verify", "otp_setup", "set_language"})


def needs_second_factor(user: object) -> bool:
    if not settings.EVAL_REQUIRE_SECOND_FACTOR or not getattr(user, "is_authenticated", False):
        return False
    return bool(
        getattr(user, "is_superuser", False)
        or getattr(user, "is_staff", False)
        or user_groups(user) & SECOND_FACTOR_GROUPS  # type: ignore[arg-type]
    )


def second_factor_passed(user: object, session: Mapping[str, object] | None) -> bool:
    """For a WebSocket, whose scope has no ``is_verified``: did this login session pass the TOTP step?"""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not isinstance(persistent_id, str):
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == getattr(user, "pk", None)


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        owes = needs_second_factor(user) and not user.is_verified()  # type: ignore[union-attr]
        if owes and not _exempt(request.path_info):
            target = "otp_verify" if any(devices_for_user(user, confirmed=True)) else "otp_setup"
            return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def _exempt(path: str) -> bool:
    if path.startswith(settings.STATIC_URL):
        return True
    try:
        return resolve(path).url_name in EXEMPT_URL_NAMES
    except Resolver404:
        return False
