"""Logging in and out with a password, and the demo's notice on the login page."""

from __future__ import annotations

from django.urls import reverse

from tests.personas import PASSWORD


def test_the_login_page_asks_for_user_name_and_password(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert 'name="password"' in response.content.decode()


def test_an_expert_logs_in_with_the_right_password_and_lands_on_the_home_page(client, cast):
    response = client.post(reverse("login"), {"username": "li", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, cast):
    response = client.post(reverse("login"), {"username": "li", "password": "not-the-password"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_the_home_page_sends_an_anonymous_visitor_to_the_login_page(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_logout_is_a_post_and_ends_the_session(client, cast):
    client.force_login(cast.li)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_the_login_page_of_the_demo_says_that_the_second_factor_is_off(client, db, settings):
    settings.EVAL_DEMO = True
    settings.EVAL_REQUIRE_SECOND_FACTOR = False
    page = client.get(reverse("login")).content.decode()
    assert "这是演示系统" in page
    assert "双因素认证" in page
    assert "已关闭" in page


def test_the_login_page_of_production_shows_no_demo_notice(client, db, settings):
    settings.EVAL_DEMO = False
    settings.EVAL_REQUIRE_SECOND_FACTOR = True
    page = client.get(reverse("login")).content.decode()
    assert "这是演示系统" not in page
    assert "已关闭" not in page
