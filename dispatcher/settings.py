"""Settings for the Hotmart Webhook Dispatcher Simulator.

Everything comes from environment variables; with nothing set, `make run` works: sandbox mode, SQLite under
``data/`` and the embedded Redis that `manage.py sandbox` starts. ``docs/settings.md`` lists every variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from kombu import Queue

from core.queues import DELIVERIES, MAINTENANCE, QUEUES
from sandbox.embedded_redis import default_socket_path

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

SANDBOX_SECRET_KEY = "sandbox-insecure-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", SANDBOX_SECRET_KEY)
# Off by default, in the sandbox too: pages must never show a traceback (styled 404/500 instead). The
# sandbox serves static files with ``runserver --insecure``, as Django does in DEBUG.
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if SANDBOX else [])

# --- Security (production mode refuses to start without these right: dispatcher/checks.py) ---------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not SANDBOX)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not SANDBOX)
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)  # usually the proxy in front redirects
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if SANDBOX else 3600)
if env_bool("BEHIND_TLS_PROXY", not SANDBOX):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The reverse proxies in front of the web app (addresses or CIDR networks): their X-Forwarded-For names the
# client whose failures the token endpoint and the login lockout count (core/proxies.py). Nobody else's is read.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The largest request body accepted, dashboard and API alike (Django's default, said aloud): larger gets a 400
# page or a JSON 413, and nothing is saved. Inbox captures have their own cap (INBOX_MAX_BODY_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Content Security Policy (django-csp): scripts only from our own static files (no inline script, no eval);
# inline style attributes allowed, style sheets only ours; nothing may frame the pages.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Apps -------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "dispatcher.apps.DispatcherConfig",
    "web.apps.WebConfig",
    "configurations.apps.ConfigurationsConfig",
    "history.apps.HistoryConfig",
    "sales.apps.SalesConfig",
    "inbox.apps.InboxConfig",
    "receiver_checks.apps.ReceiverChecksConfig",
    "sandbox.apps.SandboxConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: it turns an authentication refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one client
# address (the real one behind TRUSTED_PROXIES), that pair is locked out for AXES_COOLOFF_TIME, even with the
# right password; a success resets the count. Others' failures, from other addresses, never lock a user out.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "core.proxies.client_address"

if not SANDBOX:
    # Production serves the files collected by `collectstatic` itself (gunicorn has no static handler).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

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
                "web.dashboard.context.dashboard",
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
# Shared counters (login and token throttling) live in Redis, so every web process sees the same ones.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "dispatcher",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
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
# Three lanes (docs/architecture.md): first attempts to healthy configurations; retries and everything for
# configurations that are failing, so a dead or hanging receiver only ever holds up the workers of that
# lane; and the engine's own periodic work. A worker started without -Q consumes all three.
# A noisy tenant can get its own queue (docs/deployment.md): "username=queue,username=queue".
DISPATCHER_TENANT_QUEUES = dict(item.split("=", 1) for item in env_list("DISPATCHER_TENANT_QUEUES", []) if "=" in item)
CELERY_TASK_QUEUES = tuple(Queue(name) for name in dict.fromkeys([*QUEUES, *DISPATCHER_TENANT_QUEUES.values()]))
CELERY_TASK_ROUTES = {
    "engine.doorbell": {"queue": DELIVERIES},  # rung on the lane's own queue (history/lanes.py)
    "engine.sweep": {"queue": MAINTENANCE},
    "engine.purge_history": {"queue": MAINTENANCE},
    "engine.bulk_resend": {"queue": MAINTENANCE},
    "dispatcher.clear_expired_tokens": {"queue": MAINTENANCE},
    "inbox.purge": {"queue": MAINTENANCE},
    "receiver_checks.run": {"queue": MAINTENANCE},
}
CELERY_TASK_DEFAULT_QUEUE = "maintenance"

# --- The product's own settings (read through engine.conf; checked by dispatcher.checks) -------------
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
    "HISTORY_RETENTION_DAYS": env_int("DISPATCHER_HISTORY_RETENTION_DAYS", 60),
    "PURGE_BATCH": env_int("DISPATCHER_PURGE_BATCH", 5000),
    "ALLOWED_NETWORKS": env_list("DISPATCHER_ALLOWED_NETWORKS", []),
    "LEASE_MARGIN": env_float("DISPATCHER_LEASE_MARGIN", 30),
    # Like Svix: a configuration failing for days with no success is disabled (1 day in the sandbox).
    "FAILING_DISABLE_AFTER": env_float("DISPATCHER_FAILING_DISABLE_AFTER", 86400 if SANDBOX else 5 * 86400),
    # The engine (docs/architecture.md): POSTs in flight at once in a worker process, and the fair shares of a
    # configuration and of a host; notifications claimed, and attempts saved, per statement.
    "CONCURRENCY": env_int("DISPATCHER_CONCURRENCY", 512),
    "CONFIGURATION_CONCURRENCY": env_int("DISPATCHER_CONFIGURATION_CONCURRENCY", 64),
    "HOST_CONCURRENCY": env_int("DISPATCHER_HOST_CONCURRENCY", 128),
    "CLAIM_BATCH": env_int("DISPATCHER_CLAIM_BATCH", 100),
    "RECORD_BATCH": env_int("DISPATCHER_RECORD_BATCH", 200),
    # A configuration with no place left whose oldest POST has run this long is slow: its waiting notifications
    # move from the deliveries lane to the retries lane (engine/loop.py).
    "SLOW_AFTER": env_float("DISPATCHER_SLOW_AFTER", 1),
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
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # people's passwords: Django's default
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "configurations.credentials.ClientSecretHasher",  # API client secrets (random UUIDs)
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production the files collected by `collectstatic` are served by whitenoise, compressed and cached
    # forever under hashed names; the sandbox serves them from the apps as Django does in DEBUG.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not SANDBOX
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST API (docs/api.md) -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first: a request without credentials is answered 401 with `WWW-Authenticate: Bearer`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "web.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["web.api.auth.IsProducer"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["web.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "web.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "web.api.schema.AutoSchema",
    "DEFAULT_METADATA_CLASS": "web.api.metadata.OptionsMetadata",
}

# Access tokens for the API: OAuth2 client credentials (django-oauth-toolkit), issued by the Hotmart-shaped
# endpoint POST /security/oauth/token. Hotmart's tokens live 48 hours.
API_TOKEN_EXPIRE_SECONDS = env_int("API_TOKEN_EXPIRE_SECONDS", 172800)
# Failed token requests allowed per client address within the window before it gets 429.
API_TOKEN_FAILURE_LIMIT = env_int("API_TOKEN_FAILURE_LIMIT", 20)
API_TOKEN_FAILURE_WINDOW = env_int("API_TOKEN_FAILURE_WINDOW", 300)
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": API_TOKEN_EXPIRE_SECONDS,
    "SCOPES": {"read": "Read configurations, products, notifications and the account.", "write": "Change them."},
    "DEFAULT_SCOPES": ["read", "write"],
    # Hotmart's Client IDs and Secrets are UUIDs; secrets are stored hashed, so they are shown once.
    "CLIENT_ID_GENERATOR_CLASS": "configurations.credentials.UUIDGenerator",
    "CLIENT_SECRET_GENERATOR_CLASS": "configurations.credentials.UUIDGenerator",
    "CLIENT_SECRET_HASHER": "pbkdf2_sha256_client_secret",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hotmart Webhook Dispatcher Simulator API",
    "DESCRIPTION": (
        "Everything the dashboard does, over HTTP: configurations, products, simulated events, purchases driven "
        "through their lifecycle, subscriptions, carts, the members area, affiliates, inboxes, notifications "
        "and their attempts, resends, receiver checks, the account's hottok, and REST hooks for automation tools. "
        "Authenticate with an OAuth2 client-credentials token from `POST /security/oauth/token` (Hotmart's shape; "
        "create credentials on the Credentials page) sent as `Authorization: Bearer <token>`. Errors are JSON: "
        "`{code, message, field, errors}`. Guide with curl examples: docs/api.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],  # the contract is public; a stale token must not hide it
    # Swagger UI's files come from the drf-spectacular-sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "OAUTH2_FLOWS": ["clientCredentials"],
    "OAUTH2_TOKEN_URL": "/security/oauth/token",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "web.api.schema.document_token_endpoint",
    ],
    "ENUM_NAME_OVERRIDES": {
        "EventTypeEnum": "catalogue.events.EventType",
        "NotificationStatusEnum": "history.choices.NotificationStatus",
        "ConfigurationStatusEnum": "configurations.models.Configuration.Status",
        "BulkResendStatusEnum": "history.choices.BulkResendStatus",
        "AttemptTriggerEnum": "history.choices.AttemptTrigger",
        "ErrorKindEnum": "history.choices.ErrorKind",
        "PurchaseStatusEnum": "sales.lifecycle.PurchaseStatus",
        "SubscriptionStatusEnum": "sales.lifecycle.SubscriptionStatus",
        "PaymentTypeEnum": "sales.lifecycle.PaymentType",
        "CancelledByEnum": ["customer", "seller", "admin"],
        "ReceiverCheckStatusEnum": "receiver_checks.choices.RunStatus",
        "GradeEnum": "receiver_checks.choices.Grade",
    },
}

# Prometheus: /metrics is open unless METRICS_TOKEN is set (then: Authorization: Bearer <token>).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# --- Logging ----------------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "console").lower()
LOGGING_CONFIG = None  # dispatcher.logging configures stdlib logging and structlog together

from dispatcher.logging import configure_logging  # noqa: E402

configure_logging(level=LOG_LEVEL, fmt=LOG_FORMAT)
