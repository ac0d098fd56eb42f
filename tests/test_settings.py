"""Settings come from the environment; with nothing set, the embedded default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json
from django.conf import settings
import django
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db": str(settings.DATABASES["default"]["NAME"]),
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "tz": settings.TIME_ZONE, "lang": settings.LANGUAGE_CODE, "langs": [c for c, _ in settings.LANGUAGES],
    "second_factor": settings.EVAL_REQUIRE_SECOND_FACTOR, "hosts": settings.ALLOWED_HOSTS,
    "media": str(settings.MEDIA_ROOT),
}))
"""


def probe(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EVAL_DEMO"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def settings_for(tmp_path, **env: str) -> dict:
    result = probe(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_nothing_set_the_embedded_default_is_sqlite_and_the_in_memory_layer(tmp_path):
    s = settings_for(tmp_path, SECRET_KEY="k")
    assert s["engine"] == "django.db.backends.sqlite3" and s["db"] == str(tmp_path / "db.sqlite3")
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["tz"] == "Asia/Shanghai" and s["lang"] == "zh-hans" and "en" in s["langs"]
    assert s["second_factor"] is True
    assert s["media"] == str(tmp_path / "media")


def test_database_url_switches_to_postgresql_through_psycopg_3(tmp_path):
    s = settings_for(tmp_path, SECRET_KEY="k", DATABASE_URL="postgres://eval@db.internal:5432/evaluation")
    assert s["engine"] == "django.db.backends.postgresql" and s["db"] == "evaluation"
    import psycopg

    assert psycopg.__version__.startswith("3.")
    with pytest.raises(ImportError):
        import psycopg2  # type: ignore[import-untyped]  # noqa: F401  (Django would prefer psycopg2)


def test_redis_url_switches_to_the_channels_redis_pubsub_layer(tmp_path):
    s = settings_for(tmp_path, SECRET_KEY="k", REDIS_URL="redis://127.0.0.1:6379/3")
    assert s["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"


def test_the_default_channels_redis_layer_can_be_chosen(tmp_path):
    s = settings_for(tmp_path, SECRET_KEY="k", REDIS_URL="redis://127.0.0.1:6379/3", EVAL_CHANNEL_LAYER="default")
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"


def test_the_demo_turns_the_second_factor_off_and_may_run_without_a_secret_key(tmp_path):
    s = settings_for(tmp_path, EVAL_DEMO="1")
    assert s["second_factor"] is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "k", "EVAL_DEMO": "perhaps"}, "EVAL_DEMO must be a boolean"),
        ({"SECRET_KEY": "k", "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must be a postgres"),
        ({"SECRET_KEY": "k", "EVAL_SESSION_IDLE_SECONDS": "soon"}, "must be an integer"),
        ({"SECRET_KEY": "k", "EVAL_CHANNEL_LAYER": "kafka"}, "EVAL_CHANNEL_LAYER must be one of"),
        ({"SECRET_KEY": "k", "EVAL_OCDS_PREFIX": "ocds-pingbiao"}, "EVAL_OCDS_PREFIX must be 'ocds-' and six"),
    ],
)
def test_misconfiguration_fails_at_start_with_the_reason(tmp_path, env, message):
    result = probe(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
