"""The pages are in Chinese by default and in English after switching the language."""

from __future__ import annotations

from django.urls import reverse

from evaluation.models import Phase
from tests.personas import advance_to, login_verified


def switch_to(client, language: str, back_to: str):
    return client.post(reverse("set_language"), {"language": language, "next": back_to})


def test_the_pages_are_in_chinese_by_default(client, cast):
    login_verified(client, cast.li)
    page = client.get(reverse("home")).content.decode()
    assert "我的评标会" in page
    assert "退出登录" in page


def test_switching_to_english_shows_the_pages_in_english(client, cast):
    login_verified(client, cast.li)
    response = switch_to(client, "en", reverse("home"))
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert "My sessions" in page
    assert "Log out" in page
    assert "Scheduled" in page  # the phase, a model choice
    assert "我的评标会" not in page


def test_model_names_and_choices_are_translated_on_the_session_page(client, cast):
    advance_to(cast, Phase.CHECK_IN)
    login_verified(client, cast.host)
    switch_to(client, "en", "/")
    page = client.get(reverse("session_detail", args=[cast.session.pk])).content.decode()
    for english in (
        "Check-in",
        "Main venue",
        "Sub-venue",
        "Tenderer&#x27;s representative",
        "Venue attendant",
        "Evaluation committee",
        "Audit log",
    ):
        assert english in page, english


def test_the_login_page_can_be_switched_back_to_chinese(client, db):
    switch_to(client, "en", reverse("login"))
    assert "Log in" in client.get(reverse("login")).content.decode()
    switch_to(client, "zh-hans", reverse("login"))
    assert "登录" in client.get(reverse("login")).content.decode()


def test_the_header_offers_both_languages(client, db):
    page = client.get(reverse("login")).content.decode()
    assert 'value="zh-hans"' in page
    assert 'value="en"' in page
    assert f'action="{reverse("set_language")}"' in page
