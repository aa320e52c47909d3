"""Lejek settings: one file, driven by the environment.

Local use needs no configuration at all: SQLite in ./var, DEBUG on, a development secret.
Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and usually DATABASE_URL (see README).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LEJEK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "lejek-development-only-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "django_tasks_db",
    "lejek.core",
    "lejek.users",
    "lejek.contacts",
    "lejek.leads",
    "lejek.pipeline",
    "lejek.activities",
    "lejek.sales",
    "lejek.imports",
    "lejek.scoring",
    "lejek.analytics",
    "lejek.api",
    "lejek.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lejek.users.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if not DEBUG:
    # In production the application serves its own static files; in development runserver does.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "lejek.urls"
WSGI_APPLICATION = "lejek.wsgi.application"
ASGI_APPLICATION = "lejek.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lejek.core.context_processors.shell",
            ],
        },
    },
]

# Database: SQLite by default (WAL, immediate transactions), anything else via DATABASE_URL.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "lejek.sqlite3",
            # Kept open between requests: when the last connection closes, SQLite checkpoints
            # the WAL file, which made every request about 11 ms slower.
            "CONN_MAX_AGE": 60,
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # Reports read a large database through memory-mapped pages (mmap_size) and a
            # 32 MB page cache instead of a read() call per 4 KB page into SQLite's default
            # 2 MB cache: the dashboard's figures at a million leads ran about twice as fast.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; "
                "PRAGMA mmap_size=4294967296; PRAGMA cache_size=-32768;"
            ),
        }
    )
    DATABASES["default"].setdefault("TEST", {})["NAME"] = None
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: its planner estimate for the forecast's query (a subquery per open
    # deal) crosses jit_above_cost, and compiling took 0.3 s of a query that runs in less.
    # Random page reads priced at 2 instead of the default 4, which models a spinning disk:
    # at 4 the reports joined a few ten thousand won deals to their leads by reading all the
    # leads (a million of them, for customer value by campaign: 0.88 s against 0.45 s). At
    # SSD's usual 1.1, the forecast walked half the deals through an index instead of
    # reading their pages once (0.71 s against 0.57 s). A DATABASE_URL with its own
    # ?options= keeps them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", "-c jit=off -c random_page_cost=2"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("LEJEK_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Internationalisation: Polish and English; Polish time and money by default.
LANGUAGE_CODE = os.environ.get("LEJEK_LANGUAGE", "pl")
LANGUAGES = [("pl", _("Polish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "lejek" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Warsaw")
USE_I18N = True
USE_TZ = True
LEJEK_CURRENCY = os.environ.get("LEJEK_CURRENCY", "PLN")

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail: SMTP in production or whenever EMAIL_HOST is set; printed to the console in local
# development (EMAIL_BACKEND overrides both).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
_email_backend = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST or not DEBUG
    else "django.core.mail.backends.console.EmailBackend",
)
_email_options = {}
if _email_backend.endswith("smtp.EmailBackend"):
    _email_options = {
        "host": EMAIL_HOST or "localhost",
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": 15,
    }
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
del EMAIL_HOST
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Lejek <lejek@localhost>")
LEJEK_BASE_URL = os.environ.get("LEJEK_BASE_URL", "http://127.0.0.1:8000")
# What reacts to every recorded Event, in the transaction that records it (see core/events.py).
LEJEK_EVENT_SUBSCRIBERS = ["lejek.scoring.services.on_event", "lejek.sales.winning.on_event"]
# Largest file one may attach to a record or an e-mail, in megabytes.
LEJEK_MAX_ATTACHMENT_MB = int(os.environ.get("LEJEK_MAX_ATTACHMENT_MB", "20"))
# The seller printed on offers: company name, address (may span lines) and tax id (NIP).
LEJEK_COMPANY_NAME = os.environ.get("LEJEK_COMPANY_NAME", "")
LEJEK_COMPANY_ADDRESS = os.environ.get("LEJEK_COMPANY_ADDRESS", "")
LEJEK_COMPANY_NIP = os.environ.get("LEJEK_COMPANY_NIP", "")
# Public web forms (/f/<key>/): submissions per client IP, e.g. "30/m" or "100/10s"; "off" = none.
LEJEK_FORM_RATE_LIMIT = os.environ.get("LEJEK_FORM_RATE_LIMIT", "30/m")
# Reverse proxies of our own that append to X-Forwarded-For; 0 believes only REMOTE_ADDR.
LEJEK_TRUSTED_PROXIES = int(os.environ.get("LEJEK_TRUSTED_PROXIES", "0"))

# Security: strict by default whenever DEBUG is off; each can be relaxed from the environment.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
