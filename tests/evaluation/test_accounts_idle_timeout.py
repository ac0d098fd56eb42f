"""The idle timeout: a login lasts SESSION_COOKIE_AGE seconds after the last request.

The clock is moved with time-machine rather than waited for, so the tests are exact on a busy machine.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.personas import PASSWORD


def test_an_idle_session_expires_and_the_next_page_asks_for_the_password_again(client, cast, settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert client.post(reverse("login"), {"username": "li", "password": PASSWORD}).status_code == 302
        assert client.get(reverse("home")).status_code == 200
        clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE + 1))
        response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_each_request_renews_the_idle_timeout(client, cast, settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert client.post(reverse("login"), {"username": "li", "password": PASSWORD}).status_code == 302
        # Three requests, together longer than the age, each within it of the one before.
        for _ in range(3):
            clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE - 60))
            assert client.get(reverse("home")).status_code == 200


def test_the_default_idle_timeout_is_thirty_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
