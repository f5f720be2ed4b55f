"""DiploHub settings: every value comes from the environment (see .env.example).

The embedded default (no variables set) is a SQLite database under var/, an
in-process task runner and mail printed to the console, so `make run` needs nothing
else. Production sets DATABASE_URL to PostgreSQL, SECRET_KEY, EMAIL_URL and
DIPLOHUB_HTTPS=1.
"""

import hashlib
import hmac
import os
import re
import tempfile
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from diplohub.lib.env import (
    env_bool,
    env_database,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    load_env_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
if env_str("DIPLOHUB_ENV_FILE"):
    load_env_file(env_str("DIPLOHUB_ENV_FILE"))
VAR_DIR = Path(env_str("DIPLOHUB_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and not env_bool("DIPLOHUB_INSECURE_DEMO", False):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it (or SECRET_KEY_FILE) in production; "
            "`make run` uses demo.env, which sets DIPLOHUB_INSECURE_DEMO=1 for the local demo."
        )
    SECRET_KEY = "insecure-demo-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The hub itself: nothing city-specific lives in code.
HUB_NAME = env_str("DIPLOHUB_HUB_NAME", "Science & Technology Diplomacy Hub")
HUB_CITY = env_str("DIPLOHUB_CITY", "")
HUB_COUNTRY = env_str("DIPLOHUB_COUNTRY", "")
HUB_CONTACT_EMAIL = env_str("DIPLOHUB_CONTACT_EMAIL", "hub@example.org")
HUB_CIRCLE_NAME = env_str("DIPLOHUB_CIRCLE_NAME", "SciTech Diplomatic Circle")

INSTALLED_APPS = [
    "modeltranslation",  # must precede django.contrib.admin
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_countries",
    "django_htmx",
    "template_partials",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "import_export",
    "simple_history",
    "ninja",
    "diplohub.accounts",
    "diplohub.directory",
    "diplohub.events",
    "diplohub.mailing",
    "diplohub.knowledge",
    "diplohub.web",
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
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "diplohub.urls"
WSGI_APPLICATION = "diplohub.wsgi.application"
ASGI_APPLICATION = "diplohub.asgi.application"

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
                "django.template.context_processors.i18n",
                "diplohub.web.context_processors.hub",
            ],
        },
    }
]

DATABASES = {
    "default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'diplohub.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests get a file, not SQLite's in-memory default, so that the concurrency tests'
    # threads share one database; one file per test process, so parallel runs don't clash.
    _test_file = Path(tempfile.gettempdir()) / f"diplohub-test-{os.getpid()}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(_test_file)}
elif env_bool("DIPLOHUB_DB_PREPARED_STATEMENTS", False):
    # PostgreSQL binds the parameters itself and keeps the plan of a statement a
    # connection has run twice (psycopg's prepared statements): less work for the
    # server on every request. Behind PgBouncer in transaction mode this needs
    # PgBouncer 1.21 or later with max_prepared_statements set.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 2}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A shared cache (Redis) is needed once several app processes serve the hub, so that
# rate limits count across them; one process is fine with its local memory.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Anonymous visitors' pages are cached this long at most (see diplohub/lib/pagecache.py);
# a change to the directory reaches every app process within the version check
# interval (seconds). 0 turns the cache off.
PAGE_CACHE_SECONDS = env_int("DIPLOHUB_PAGE_CACHE_SECONDS", 300, minimum=0)
PAGE_CACHE_VERSION_CHECK = env_int("DIPLOHUB_PAGE_CACHE_VERSION_CHECK", 1, minimum=0)

# `diplohub worker` runs the periodic jobs (mail sweep, expired waitlist offers,
# security-note purge) this often.
HOUSEKEEPING_SECONDS = env_int("DIPLOHUB_HOUSEKEEPING_SECONDS", 60, minimum=0)
# People holding a seat get a reminder this many hours before the event (0: none).
EVENT_REMINDER_HOURS = env_int("DIPLOHUB_EVENT_REMINDER_HOURS", 24, minimum=0)
TASKS = {
    "default": {
        "BACKEND": env_str("DIPLOHUB_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"
# Passwords (staff: then a TOTP code if they turned it on); e-mailed links (django-sesame)
# for members and hosts only. Both load the user's groups once per request.
AUTHENTICATION_BACKENDS = [
    "diplohub.accounts.backends.PasswordBackend",
    "diplohub.accounts.backends.LinkBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESAME_MAX_AGE = env_int("DIPLOHUB_SIGN_IN_LINK_MAX_AGE", 15 * 60, minimum=60)
SESAME_ONE_TIME = True
OTP_TOTP_ISSUER = HUB_NAME
SIGN_IN_RATE = env_str("DIPLOHUB_SIGN_IN_RATE", "10/m")
RATELIMIT_ENABLE = env_bool("DIPLOHUB_RATELIMIT", True)

# Languages: interface and content. The first one is the default.
LANGUAGE_CODE = env_str("DIPLOHUB_DEFAULT_LANGUAGE", "en")
_LANGUAGE_NAMES = {"en": "English", "es": "Español", "ca": "Català"}
_languages = env_list("DIPLOHUB_LANGUAGES", "en,es,ca")
_unknown = sorted(set(_languages) - set(_LANGUAGE_NAMES))
if _unknown:
    raise ImproperlyConfigured(
        f"DIPLOHUB_LANGUAGES has {', '.join(_unknown)}; supported: {', '.join(_LANGUAGE_NAMES)}"
    )
if LANGUAGE_CODE not in _languages:
    raise ImproperlyConfigured(
        f"DIPLOHUB_DEFAULT_LANGUAGE={LANGUAGE_CODE!r} is not in DIPLOHUB_LANGUAGES"
    )
LANGUAGES = [(code, _LANGUAGE_NAMES[code]) for code in _languages]
MODELTRANSLATION_DEFAULT_LANGUAGE = LANGUAGE_CODE
MODELTRANSLATION_LANGUAGES = tuple(code for code, _name in LANGUAGES)
MODELTRANSLATION_FALLBACK_LANGUAGES = (LANGUAGE_CODE,)
LOCALE_PATHS = [BASE_DIR / "diplohub" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_time_zone("DIPLOHUB_TIME_ZONE", "UTC")
COUNTRIES_FIRST = [HUB_COUNTRY] if HUB_COUNTRY else []

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders, so no collectstatic step is needed;
# whitenoise indexes them once at start-up.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Mail: EMAIL_URL=smtp://user:pass@host:port (smtp+tls:// for STARTTLS, smtps:// for
# TLS), or console:// (the default) to print messages.
EMAIL_URL = env_str("EMAIL_URL", "console://")
_email_scheme = EMAIL_URL.partition("://")[0]
if _email_scheme == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif _email_scheme in {"smtp", "smtp+tls", "smtps"}:
    from urllib.parse import unquote, urlsplit

    _parts = urlsplit(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _parts.hostname or "localhost"
    try:
        EMAIL_PORT = _parts.port or (465 if _email_scheme == "smtps" else 25)
    except ValueError:
        raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {EMAIL_URL!r}") from None
    EMAIL_HOST_USER = unquote(_parts.username or "")
    EMAIL_HOST_PASSWORD = unquote(_parts.password or "")
    EMAIL_USE_TLS = _email_scheme == "smtp+tls"
    EMAIL_USE_SSL = _email_scheme == "smtps"
    EMAIL_TIMEOUT = 30
else:
    raise ImproperlyConfigured(
        f"EMAIL_URL={EMAIL_URL!r}: use console://, smtp://host:port, smtp+tls://… or smtps://…"
    )
# The outbox (diplohub/mailing): how long a worker may hold a message it is sending
# before another may take it over, attempts before giving up, the first retry delay
# (doubled each time), and messages per task and per SMTP connection.
MAIL_LEASE_SECONDS = env_int("DIPLOHUB_MAIL_LEASE_SECONDS", 300, minimum=1)
MAIL_MAX_ATTEMPTS = env_int("DIPLOHUB_MAIL_MAX_ATTEMPTS", 8, minimum=1)
MAIL_RETRY_SECONDS = env_int("DIPLOHUB_MAIL_RETRY_SECONDS", 60, minimum=1)
MAIL_BATCH_SIZE = env_int("DIPLOHUB_MAIL_BATCH_SIZE", 100, minimum=1)
# PostgreSQL: the outbox's records commit without waiting for the disk (see
# mailing.services._commit_without_waiting_for_disk); 0 makes every one wait.
MAIL_ASYNC_COMMIT = env_bool("DIPLOHUB_MAIL_ASYNC_COMMIT", True)
# Messages a second each worker process sends at most (0: as fast as the relay takes
# them); several workers send that many each.
MAIL_RATE = env_int("DIPLOHUB_MAIL_RATE", 0, minimum=0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{HUB_NAME} <{HUB_CONTACT_EMAIL}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Joining the network (diplohub/mailing): which of the sign-up form's fields are
# required besides the e-mail address and the consent box (always required), sign-ups
# allowed per IP address and per address (django-ratelimit syntax), and the days after
# which a sign-up whose address was never confirmed is deleted.
SIGNUP_OPTIONAL_FIELDS = (
    "first_name",
    "last_name",
    "organization",
    "country",
    "position",
    "topics",
    "language",
)
SIGNUP_REQUIRED = env_list("DIPLOHUB_SIGNUP_REQUIRED", "first_name,last_name")
_unknown_signup = sorted(set(SIGNUP_REQUIRED) - {*SIGNUP_OPTIONAL_FIELDS, "email", "consent"})
if _unknown_signup:
    raise ImproperlyConfigured(
        f"DIPLOHUB_SIGNUP_REQUIRED names {', '.join(_unknown_signup)}, which the sign-up form "
        f"does not have; use any of {', '.join(SIGNUP_OPTIONAL_FIELDS)} (comma-separated)"
    )
SIGNUP_RATE = env_str("DIPLOHUB_SIGNUP_RATE", "5/m").strip()
if not re.fullmatch(r"[1-9][0-9]*/[0-9]*[smhd]", SIGNUP_RATE):
    raise ImproperlyConfigured(
        f"DIPLOHUB_SIGNUP_RATE={SIGNUP_RATE!r} is not a rate such as 5/m, 30/h or 100/d"
    )
SIGNUP_PENDING_DAYS = env_int("DIPLOHUB_SIGNUP_PENDING_DAYS", 7, minimum=1)
# The secret that salts the hashes of IP addresses in the consent ledger and of erased
# addresses. Set it once and keep it: derived from SECRET_KEY by default, so a new
# SECRET_KEY would stop an erased address from being recognised again.
HASH_SALT = (
    env_str("DIPLOHUB_HASH_SALT")
    or hmac.new(SECRET_KEY.encode(), b"diplohub.mailing.hash-salt", hashlib.sha256).hexdigest()
)

# Security. HTTPS-only cookies and HSTS when the hub is served over HTTPS.
HTTPS = env_bool("DIPLOHUB_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("DIPLOHUB_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DIPLOHUB_HSTS_SECONDS", 31536000, minimum=0) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
if env_bool("DIPLOHUB_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Rate limits count per client, not per proxy: the address the proxy forwarded.
    RATELIMIT_IP_META_KEY = "diplohub.accounts.ratelimit.client_ip"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DIPLOHUB_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

IMPORT_EXPORT_SKIP_ADMIN_LOG = True
# Messages can carry a one-time secret (a new API token): keep them server-side.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour: a bare domain means https

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint tells each step of every PDF it makes at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

API_PAGE_SIZE = env_int("DIPLOHUB_API_PAGE_SIZE", 50, minimum=1)
