"""Settings, read from environment variables only.

With nothing set, the project runs on the embedded default: SQLite in ``DATA_DIR`` and the
in-memory channel layer. ``DATABASE_URL`` switches to PostgreSQL (psycopg 3), ``REDIS_URL`` to
channels-redis. ``EVAL_DEMO=1`` marks the demo (``make run``): it allows a development secret key
and turns the second factor off, and the login page says so.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
EVAL_DEMO = env_bool("EVAL_DEMO", False)
# CI=true turns "skip when a service is missing" into a failure (see tests/conftest.py).
CI = env_bool("CI", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or EVAL_DEMO):
        raise ImproperlyConfigured("SECRET_KEY must be set (only DEBUG or EVAL_DEMO allow a dev key)")
    SECRET_KEY = "insecure-development-key-for-the-embedded-demo-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media"))).resolve()
MEDIA_URL = "/media/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static"))).resolve()
STATIC_URL = "/static/"
# Browser libraries come from npm (package.json; `make run` runs `npm install`), served as they are:
# the viewer's import map points at three's ES modules here. Only the folders pages import from.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/three/build", NODE_MODULES / "three" / "build"),
    ("vendor/three/addons", NODE_MODULES / "three" / "examples" / "jsm"),
]
# Uploaded bid documents and models larger than this are refused (bytes; 200 MiB by default).
EVAL_MAX_DOCUMENT_BYTES = env_int("EVAL_MAX_DOCUMENT_BYTES", 200 * 1024 * 1024)
# ../shared beside the project's root holds the sample IFC models used by seed_demo and tests.
EVAL_SHARED_DIR = Path(env_str("EVAL_SHARED_DIR", str(BASE_DIR.parent / "shared"))).resolve()

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "evaluation",
    "rooms",
    "rtc",
    "scoring",
    "bim_review",
    "overnight",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "evaluation.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns lockouts into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "evaluation.context_processors.demo",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// (or sqlite://) URL")
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "db.sqlite3"),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # Tests use a file too, not shared-cache memory, whose table locks ignore the timeout:
            # concurrent writers then behave as they do under daphne.
            "TEST": {"NAME": str(DATA_DIR / "test-db.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Which channels-redis layer carries room events: "pubsub" publishes each group message once per
# process; "default" queues one copy per member channel. docs/PERFORMANCE.md compares the two.
_LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "default": "channels_redis.core.RedisChannelLayer",
}
EVAL_CHANNEL_LAYER = env_str("EVAL_CHANNEL_LAYER", "pubsub")
if EVAL_CHANNEL_LAYER not in _LAYERS:
    raise ImproperlyConfigured(f"EVAL_CHANNEL_LAYER must be one of {sorted(_LAYERS)}, not {EVAL_CHANNEL_LAYER!r}")
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": _LAYERS[EVAL_CHANNEL_LAYER], "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The live room (rooms/): a member whose heartbeat stops is shown disconnected after the timeout;
# frames over the size limit or above the rate are answered with an error frame, and a client that
# keeps abusing the limits is disconnected.
ROOM_HEARTBEAT_TIMEOUT_SECONDS = env_int("ROOM_HEARTBEAT_TIMEOUT_SECONDS", 10)
ROOM_PING_SECONDS = env_int("ROOM_PING_SECONDS", 5)
ROOM_MAX_FRAME_BYTES = env_int("ROOM_MAX_FRAME_BYTES", 8 * 1024)
ROOM_RATE_PER_SECOND = env_int("ROOM_RATE_PER_SECOND", 10)
ROOM_RATE_BURST = env_int("ROOM_RATE_BURST", 30)
ROOM_ABUSE_LIMIT = env_int("ROOM_ABUSE_LIMIT", 20)

# Media (rtc/): rooms are placed on media workers (``manage.py run_media_worker``) through a registry
# in Redis; on the embedded default (no REDIS_URL) the one worker runs inside the web process.
RTC_EMBEDDED_WORKER = env_bool("RTC_EMBEDDED_WORKER", not REDIS_URL)
RTC_WORKER_HEARTBEAT_SECONDS = env_int("RTC_WORKER_HEARTBEAT_SECONDS", 2)
RTC_WORKER_TTL_SECONDS = env_int("RTC_WORKER_TTL_SECONDS", 6)
if RTC_WORKER_TTL_SECONDS <= RTC_WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("RTC_WORKER_TTL_SECONDS must be longer than RTC_WORKER_HEARTBEAT_SECONDS")
# A signalling request not answered in time is sent again (same id) up to this many times.
RTC_REQUEST_TIMEOUT_SECONDS = env_int("RTC_REQUEST_TIMEOUT_SECONDS", 4)
RTC_REQUEST_ATTEMPTS = env_int("RTC_REQUEST_ATTEMPTS", 3)
# A page whose socket closed and did not come back within this many seconds leaves the media.
RTC_LEAVE_GRACE_SECONDS = env_int("RTC_LEAVE_GRACE_SECONDS", 10)
# The addresses the media worker gathers ICE host candidates on (empty: every interface but
# loopback, aioice's own choice); loopback on the embedded default.
RTC_ICE_HOST_ADDRESSES = env_list("RTC_ICE_HOST_ADDRESSES", [] if REDIS_URL else ["127.0.0.1"])
# ICE servers for browsers and workers. TURN credentials are either fixed (USERNAME/PASSWORD) or
# minted per page from a secret shared with coturn (``use-auth-secret``/``static-auth-secret``).
RTC_STUN_URLS = env_list("RTC_STUN_URLS", [])
RTC_TURN_URLS = env_list("RTC_TURN_URLS", [])
RTC_TURN_USERNAME = env_str("RTC_TURN_USERNAME")
RTC_TURN_PASSWORD = env_str("RTC_TURN_PASSWORD")
RTC_TURN_SECRET = env_str("RTC_TURN_SECRET")
RTC_TURN_CREDENTIAL_SECONDS = env_int("RTC_TURN_CREDENTIAL_SECONDS", 12 * 3600)
if RTC_TURN_URLS and not (RTC_TURN_SECRET or (RTC_TURN_USERNAME and RTC_TURN_PASSWORD)):
    raise ImproperlyConfigured("RTC_TURN_URLS needs RTC_TURN_SECRET, or RTC_TURN_USERNAME and RTC_TURN_PASSWORD")
# "all" or "relay" (only through TURN) for the browsers; a page's ?ice=relay forces relay to check a path.
RTC_ICE_TRANSPORT_POLICY = env_str("RTC_ICE_TRANSPORT_POLICY", "all")
if RTC_ICE_TRANSPORT_POLICY not in {"all", "relay"}:
    raise ImproperlyConfigured("RTC_ICE_TRANSPORT_POLICY must be all or relay")
# Last-N: each participant receives the video of the N most recent speakers (plus a pinned tile).
RTC_LAST_N = env_int("RTC_LAST_N", 6)
# Audio receive slots a page offers at first (the server asks for more when there are more speakers).
RTC_AUDIO_SLOTS = env_int("RTC_AUDIO_SLOTS", 15)
RTC_RECORDING_DIR = Path(env_str("RTC_RECORDING_DIR", str(DATA_DIR / "recordings"))).resolve()
RTC_RECORDING_SEGMENT_SECONDS = env_int("RTC_RECORDING_SEGMENT_SECONDS", 30)

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out account is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout: after EVAL_LOGIN_FAILURE_LIMIT failed logins an account is locked for the cool-off.
# Locked by user name, not address: the experts of one city share their center's address.
AXES_FAILURE_LIMIT = env_int("EVAL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("EVAL_LOGIN_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# axes warns when the address is not part of the lockout key: here that is the point (see above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Idle timeout: the session cookie is renewed on every request and expires after this many idle
# seconds, and at browser close.
SESSION_COOKIE_AGE = env_int("EVAL_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Second factor (TOTP) for hosts, supervisors and administrators: on unless the demo turns it off.
EVAL_REQUIRE_SECOND_FACTOR = env_bool("EVAL_REQUIRE_SECOND_FACTOR", not EVAL_DEMO)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "远程异地评标")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Without collectstatic (tests, the demo) whitenoise serves straight from the apps' folders.
WHITENOISE_USE_FINDERS = DEBUG or EVAL_DEMO or env_bool("WHITENOISE_USE_FINDERS", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# The OCDS ocid prefix of the publisher (``ocds-`` and the six characters the OCDS data support
# team assigns); every exported release's ocid is this prefix, a dash and the project's code.
EVAL_OCDS_PREFIX = env_str("EVAL_OCDS_PREFIX", "ocds-pbdemo")
if not re.fullmatch(r"ocds-[a-z0-9]{6}", EVAL_OCDS_PREFIX):
    raise ImproperlyConfigured(
        f"EVAL_OCDS_PREFIX must be 'ocds-' and six lower-case letters or digits, not {EVAL_OCDS_PREFIX!r}"
    )

# BIM models (bim_review): the upload limit, the conversion child's limits, where conversions run.
EVAL_BIM_MAX_BYTES = env_int("EVAL_BIM_MAX_BYTES", EVAL_MAX_DOCUMENT_BYTES)
EVAL_BIM_TIMEOUT = env_int("EVAL_BIM_TIMEOUT", 600)  # seconds, per child process
EVAL_BIM_MEMORY_MB = env_int("EVAL_BIM_MEMORY_MB", 4096)  # address-space limit of the child
EVAL_BIM_THREADS = env_int("EVAL_BIM_THREADS", 1)  # geometry threads of the child
# "thread": the web process converts in a background thread at upload (the embedded default);
# "worker": uploads only queue, `manage.py bim_worker` converts.
EVAL_BIM_RUNNER = env_str("EVAL_BIM_RUNNER", "thread")
# The conversions' outputs, one folder per cache key (bim_review/outputs.py).
EVAL_BIM_DIR = Path(env_str("EVAL_BIM_DIR", str(MEDIA_ROOT / "bim"))).resolve()
