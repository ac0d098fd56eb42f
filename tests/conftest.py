"""Shared fixtures: the personas, and the rule that in CI a missing service fails instead of skipping."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from tests.personas import Cast, build_cast

hypothesis_settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
hypothesis_settings.register_profile("dev", max_examples=50, deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


def require_service(name: str, available: bool, why: str = "") -> None:
    """Skip locally when a real service is missing; in CI (CI=true) fail instead."""
    if available:
        return
    message = f"{name} is not available{': ' + why if why else ''}"
    if settings.CI:
        pytest.fail(f"{message} (CI needs it: a test may not skip for a missing service)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The personas are many; PBKDF2's deliberate slowness would dominate the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _core_reasons_in_english():
    # The core's refusal reasons are written in English and translated for Chinese pages; tests that
    # call the core directly read them as written. Pages and sockets still pick their own language.
    with translation.override("en"):
        yield


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


@pytest.fixture
def procurement_cast(db) -> Cast:
    return build_cast(category="gov_procurement")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI=true) a skipped test is a failed one: every service it could need is there."""
    report = yield
    if settings.CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"
    return report
