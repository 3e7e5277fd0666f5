"""Settings for the Hotmart Webhook Dispatcher Simulator.

Everything comes from environment variables; with nothing set, `make run` works: sandbox mode, SQLite under
``data/`` and the embedded Redis that `manage.py sandbox` starts. ``docs/settings.md`` lists every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from dispatcher.embedded_redis import default_socket_path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DISPATCHER_DATA_DIR", BASE_DIR / "data")).resolve()


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    return float(env_str(name, str(default)))


def env_int(name: str, default: int) -> int:
    return int(env_str(name, str(default)))


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# --- Mode -------------------------------------------------------------------------------------------------
DISPATCHER_MODE = env_str("DISPATCHER_MODE", "sandbox").lower()
SANDBOX = DISPATCHER_MODE == "sandbox"

SECRET_KEY = env_str("SECRET_KEY", "sandbox-insecure-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", SANDBOX)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if SANDBOX else [])

# --- Apps -------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "dispatcher.apps.DispatcherConfig",
    "configurations.apps.ConfigurationsConfig",
    "history.apps.HistoryConfig",
    "sales.apps.SalesConfig",
    "inbox.apps.InboxConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dispatcher.urls"
WSGI_APPLICATION = "dispatcher.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # Several processes (web, worker threads, beat, CLI) share the file: WAL lets readers go on while
        # one writes, IMMEDIATE takes the write lock up front so two writers queue instead of deadlocking.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The test database must be a file: the Celery worker of the integration tests is another process.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery -------------------------------------------------------------------------------------
EMBEDDED_REDIS_SOCKET = default_socket_path(DATA_DIR)
REDIS_URL = env_str("REDIS_URL", f"unix://{EMBEDDED_REDIS_SOCKET}")


def kombu_url(redis_url: str) -> str:
    """redis-py spells a socket ``unix:///path``; kombu's Redis transport wants ``redis+socket:///path``."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url[len("unix://") :]
    return redis_url


CELERY_BROKER_URL = kombu_url(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than any delivery can take, so a message is redelivered only when its worker died.
    "visibility_timeout": 3600,
    # kombu's default pool of 10 connections failed acks under load with many threads (VERIFIED.md).
    "max_connections": 128,
    "socket_connect_timeout": 5,
    "socket_timeout": 10,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Publishing must not hang the request or the CLI when Redis is down: the row is saved, the sweep sends it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TASK_ROUTES = {
    "dispatcher.deliver": {"queue": "deliveries"},
    "dispatcher.sweep": {"queue": "maintenance"},
    "dispatcher.purge_history": {"queue": "maintenance"},
    "inbox.purge": {"queue": "maintenance"},
}
CELERY_TASK_DEFAULT_QUEUE = "maintenance"

# --- The product's own settings (read through dispatcher.conf; checked by dispatcher.checks) -------------
_SANDBOX_SCHEDULE = "2,4,8,16"
_PRODUCTION_SCHEDULE = "900,1800,3600,7200"

DISPATCHER = {
    "MODE": DISPATCHER_MODE,
    "MAX_ATTEMPTS": env_int("DISPATCHER_MAX_ATTEMPTS", 5),
    "RETRY_SCHEDULE": env_list(
        "DISPATCHER_RETRY_SCHEDULE", (_SANDBOX_SCHEDULE if SANDBOX else _PRODUCTION_SCHEDULE).split(",")
    ),
    "RETRY_JITTER": env_float("DISPATCHER_RETRY_JITTER", 0.1),
    "RETRY_AFTER_MAX": env_float("DISPATCHER_RETRY_AFTER_MAX", 60 if SANDBOX else 86400),
    "CONNECT_TIMEOUT": env_float("DISPATCHER_CONNECT_TIMEOUT", 5),
    "READ_TIMEOUT": env_float("DISPATCHER_READ_TIMEOUT", 15),
    "TOTAL_TIMEOUT": env_float("DISPATCHER_TOTAL_TIMEOUT", 30),
    "RESPONSE_MAX_BYTES": env_int("DISPATCHER_RESPONSE_MAX_BYTES", 64 * 1024),
    "SWEEP_INTERVAL": env_float("DISPATCHER_SWEEP_INTERVAL", 1 if SANDBOX else 5),
    "STUCK_GRACE": env_float("DISPATCHER_STUCK_GRACE", 10 if SANDBOX else 120),
    "SWEEP_BATCH": env_int("DISPATCHER_SWEEP_BATCH", 1000),
    "COUNTDOWN_MAX": env_float("DISPATCHER_COUNTDOWN_MAX", 300),
    "HISTORY_RETENTION_DAYS": env_int("DISPATCHER_HISTORY_RETENTION_DAYS", 60),
    "PURGE_BATCH": env_int("DISPATCHER_PURGE_BATCH", 5000),
}

# --- The built-in inbox (request catcher; read through inbox.conf, checked by inbox.checks) ----------------
# Where `make run` serves the web app; inbox URLs (and the demo's configuration) point at it.
SANDBOX_ADDRPORT = env_str("SANDBOX_ADDRPORT", "127.0.0.1:8000")


def _base_url(addrport: str) -> str:
    """``127.0.0.1:8000`` -> ``http://127.0.0.1:8000``; a wildcard address is reached through loopback."""
    host, _, port = addrport.rpartition(":")
    if not host:
        host, port = "127.0.0.1", addrport
    if host in ("0.0.0.0", "", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


INBOX = {
    "ENABLED": env_bool("INBOX_ENABLED", SANDBOX),
    "BASE_URL": env_str("INBOX_BASE_URL", _base_url(SANDBOX_ADDRPORT)).rstrip("/"),
    "RATE_LIMIT": env_int("INBOX_RATE_LIMIT", 120),
    "RATE_WINDOW": env_float("INBOX_RATE_WINDOW", 60),
    "MAX_REQUESTS": env_int("INBOX_MAX_REQUESTS", 500),
    "RETENTION_HOURS": env_float("INBOX_RETENTION_HOURS", 72),
    "MAX_BODY_BYTES": env_int("INBOX_MAX_BODY_BYTES", 256 * 1024),
    "MAX_DELAY": env_float("INBOX_MAX_DELAY", 60),
}

# --- Auth, i18n, static -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# --- Logging ----------------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "console").lower()
LOGGING_CONFIG = None  # dispatcher.logging configures stdlib logging and structlog together

from dispatcher.logging import configure_logging  # noqa: E402

configure_logging(level=LOG_LEVEL, fmt=LOG_FORMAT)
