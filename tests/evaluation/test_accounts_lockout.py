"""Lockout after repeated failed logins (django-axes, by user name)."""

from __future__ import annotations

from django.urls import reverse

from tests.personas import PASSWORD


def fail_logins(client, username: str, times: int):
    response = None
    for _ in range(times):
        response = client.post(reverse("login"), {"username": username, "password": "wrong-password-123"})
    return response


def test_an_expert_is_locked_out_after_the_failure_limit(client, cast, settings):
    assert fail_logins(client, "li", settings.AXES_FAILURE_LIMIT - 1).status_code == 200
    response = fail_logins(client, "li", 1)
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]


def test_a_locked_out_expert_cannot_log_in_even_with_the_right_password(client, cast, settings):
    fail_logins(client, "li", settings.AXES_FAILURE_LIMIT)
    response = client.post(reverse("login"), {"username": "li", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


def test_the_lockout_page_says_the_account_is_locked_and_for_how_long(client, cast, settings):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    page = fail_logins(client, "li", settings.AXES_FAILURE_LIMIT).content.decode()
    assert "账号已锁定" in page
    assert f"请在 {minutes} 分钟后再试" in page


def test_a_lockout_is_per_account_so_a_colleague_at_the_same_center_still_logs_in(client, cast, settings):
    fail_logins(client, "li", settings.AXES_FAILURE_LIMIT)
    response = client.post(reverse("login"), {"username": "liu", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_a_successful_login_before_the_limit_clears_the_failures(client, cast, settings):
    fail_logins(client, "li", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post(reverse("login"), {"username": "li", "password": PASSWORD}).status_code == 302
    client.post(reverse("logout"))
    assert fail_logins(client, "li", settings.AXES_FAILURE_LIMIT - 1).status_code == 200
