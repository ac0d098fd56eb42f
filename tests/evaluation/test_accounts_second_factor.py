"""The second factor (TOTP) for hosts, supervisors and administrators."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.personas import PASSWORD


@pytest.fixture
def second_factor_on(settings):
    settings.EVAL_DEMO = False
    settings.EVAL_REQUIRE_SECOND_FACTOR = True


def log_in(client, user: User) -> None:
    response = client.post(reverse("login"), {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def code_of(device: TOTPDevice, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0 - steps_ahead * device.step,
        digits=device.digits,
        drift=device.drift,
    )
    return f"{value:0{device.digits}d}"


def wrong_code_of(device: TOTPDevice) -> str:
    # Ten steps ahead: outside the tolerance of one step either side.
    return code_of(device, steps_ahead=10)


def confirmed_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def redirect_target(client, url: str) -> str:
    response = client.get(url)
    return response.url if response.status_code == 302 else ""


def test_a_host_without_a_device_is_sent_to_set_one_up_until_a_code_confirms_it(client, cast, second_factor_on):
    log_in(client, cast.host)
    session_page = reverse("session_detail", args=[cast.session.pk])
    assert redirect_target(client, session_page) == f"{reverse('otp_setup')}?{urlencode({'next': session_page})}"

    page = client.get(reverse("otp_setup"), {"next": session_page})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    device = TOTPDevice.objects.get(user=cast.host, confirmed=False)
    assert page.context["secret"] in html
    assert page.context["secret"] in device.config_url

    response = client.post(reverse("otp_setup"), {"code": code_of(device), "next": session_page})
    assert response.status_code == 302
    assert response.url == session_page
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(session_page).status_code == 200


def test_setting_up_again_reuses_the_unconfirmed_device(client, cast, second_factor_on):
    log_in(client, cast.host)
    first = client.get(reverse("otp_setup")).context["secret"]
    second = client.get(reverse("otp_setup")).context["secret"]
    assert first == second
    assert TOTPDevice.objects.filter(user=cast.host).count() == 1


def test_a_supervisor_with_a_device_is_sent_to_verify_until_a_valid_code(client, cast, second_factor_on):
    device = confirmed_device(cast.zheng)
    log_in(client, cast.zheng)
    home = reverse("home")
    assert redirect_target(client, home) == f"{reverse('otp_verify')}?{urlencode({'next': home})}"
    response = client.post(reverse("otp_verify"), {"code": code_of(device), "next": home})
    assert response.status_code == 302
    assert response.url == home
    assert client.get(home).status_code == 200


def test_a_wrong_code_is_refused_and_the_supervisor_stays_unverified(client, cast, second_factor_on):
    device = confirmed_device(cast.zheng)
    log_in(client, cast.zheng)
    response = client.post(reverse("otp_verify"), {"code": wrong_code_of(device)})
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert response.context["form"].errors
    assert redirect_target(client, reverse("home")).startswith(reverse("otp_verify"))
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_a_right_code_straight_after_a_wrong_one_waits_for_the_throttle(client, cast, second_factor_on):
    device = confirmed_device(cast.zheng)
    log_in(client, cast.zheng)
    client.post(reverse("otp_verify"), {"code": wrong_code_of(device)})
    response = client.post(reverse("otp_verify"), {"code": code_of(device)})
    assert response.status_code == 200
    assert "错误次数过多" in response.content.decode()
    assert redirect_target(client, reverse("home")).startswith(reverse("otp_verify"))


def test_a_code_that_is_not_six_digits_is_refused_without_counting_as_a_try(client, cast, second_factor_on):
    device = confirmed_device(cast.zheng)
    log_in(client, cast.zheng)
    response = client.post(reverse("otp_verify"), {"code": "12ab56"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_wrong_code_does_not_confirm_a_new_device(client, cast, second_factor_on):
    log_in(client, cast.host)
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=cast.host)
    response = client.post(reverse("otp_setup"), {"code": wrong_code_of(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    assert redirect_target(client, reverse("home")).startswith(reverse("otp_setup"))


def test_a_superuser_must_pass_the_second_factor_too(client, db, second_factor_on):
    admin = User.objects.create_superuser("root", password=PASSWORD)
    log_in(client, admin)
    assert redirect_target(client, reverse("home")).startswith(reverse("otp_setup"))
    assert redirect_target(client, "/admin/").startswith(reverse("otp_setup"))


def test_an_expert_is_not_asked_for_a_second_factor(client, cast, second_factor_on):
    log_in(client, cast.li)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("session_detail", args=[cast.session.pk])).status_code == 200


def test_a_user_with_a_device_cannot_enrol_another_one(client, cast, second_factor_on):
    confirmed_device(cast.zheng)
    log_in(client, cast.zheng)
    assert redirect_target(client, reverse("otp_setup")).startswith(reverse("otp_verify"))
    assert TOTPDevice.objects.filter(user=cast.zheng).count() == 1


def test_verifying_never_redirects_to_another_site(client, cast, second_factor_on):
    device = confirmed_device(cast.zheng)
    log_in(client, cast.zheng)
    response = client.post(reverse("otp_verify"), {"code": code_of(device), "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_the_second_factor_is_not_asked_in_the_demo(client, cast, settings):
    settings.EVAL_DEMO = True
    settings.EVAL_REQUIRE_SECOND_FACTOR = False
    log_in(client, cast.host)
    assert client.get(reverse("home")).status_code == 200
    log_in(client, cast.zheng)
    assert client.get(reverse("session_detail", args=[cast.session.pk])).status_code == 200
