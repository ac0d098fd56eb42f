"""The idle timeout: a login lasts SESSION_COOKIE_AGE seconds after the last request.

Real time passes in these tests (a few seconds), with the age set small.
"""

from __future__ import annotations

import time

from django.urls import reverse

from tests.personas import PASSWORD


def test_an_idle_session_expires_and_the_next_page_asks_for_the_password_again(client, cast, settings):
    settings.SESSION_COOKIE_AGE = 1
    assert client.post(reverse("login"), {"username": "li", "password": PASSWORD}).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    time.sleep(1.5)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_each_request_renews_the_idle_timeout(client, cast, settings):
    settings.SESSION_COOKIE_AGE = 2
    assert client.post(reverse("login"), {"username": "li", "password": PASSWORD}).status_code == 302
    # Three requests over 3.6 s, more than the age, each within 2 s of the one before.
    for _ in range(3):
        time.sleep(1.2)
        assert client.get(reverse("home")).status_code == 200
