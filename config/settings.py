"""Django settings for Registre, read from the environment with django-environ.

Every variable is listed with its meaning in `.env.example`. The defaults suit a
developer's machine (SQLite, a filesystem Celery broker, DEBUG off). Setting
``REGISTRE_ENV=production`` turns on the production checks: start-up stops with an
``ImproperlyConfigured`` error naming the variable when a value is unsafe.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# An empty variable means its default, as in .env.example, which leaves most of
# them empty: DATABASE_URL= would otherwise be an unreadable database URL.
env.ENVIRON = {key: value for key, value in os.environ.items() if value != ""}


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Return the whole number in variable ``name``, or raise a message naming it."""
    try:
        value = env.int(name, default=default)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ImproperlyConfigured(
            f"{name}={env.str(name)!r} is invalid: write a whole number of at "
            f"least {minimum}, or leave it empty for {default}."
        )
    return value


REGISTRE_ENV = env.str("REGISTRE_ENV", default="development")
if REGISTRE_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"REGISTRE_ENV={REGISTRE_ENV!r} is invalid: use 'development' or 'production'."
    )
PRODUCTION = REGISTRE_ENV == "production"

DATA_DIR = Path(env.str("REGISTRE_DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEVELOPMENT_SECRET_PREFIX = "dev-insecure-"
SECRET_KEY = env.str(
    "SECRET_KEY", default=DEVELOPMENT_SECRET_PREFIX + "change-me-for-production"
)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Key of the HMAC-SHA256 that turns a normalised e-mail or phone number into the
# suppression-list hash. Changing it makes every stored hash unmatchable.
IDENTIFIER_HASH_KEY = env.str(
    "IDENTIFIER_HASH_KEY", default=DEVELOPMENT_SECRET_PREFIX + "identifier-hash-key"
)

# Spaces after the commas and empty entries are left out, because the API
# compares a request's token stripped.
API_TOKENS = [
    token.strip() for token in env.list("API_TOKENS", default=[]) if token.strip()
]

if PRODUCTION:
    for number, token in enumerate(API_TOKENS, start=1):
        if len(token) < 32:
            raise ImproperlyConfigured(
                f"API_TOKENS: token {number} is shorter than 32 characters; "
                "give each tool a long random token in production."
            )
    for name, value in (
        ("SECRET_KEY", SECRET_KEY),
        ("IDENTIFIER_HASH_KEY", IDENTIFIER_HASH_KEY),
    ):
        if value.startswith(DEVELOPMENT_SECRET_PREFIX) or len(value) < 32:
            raise ImproperlyConfigured(
                f"{name} is a development value or shorter than 32 characters; "
                "set a long random value in the environment for production. "
                "REGISTRE_ENV is production, the default of a server started "
                "on config.wsgi such as gunicorn: set REGISTRE_ENV=development "
                "to run one on a workstation."
            )
    if DEBUG:
        raise ImproperlyConfigured(
            "DEBUG is on while REGISTRE_ENV=production; set DEBUG=false."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles, whose runserver command apps.core's replaces.
    "apps.core",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "simple_history",
    "import_export",
    "apps.register",
    "apps.contacts",
    "apps.imports",
    "apps.subject_requests",
    "apps.breaches",
    "apps.retention",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.DatabaseBusyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]
if PRODUCTION:
    # gunicorn serves the collected static files itself (STATIC_ROOT), so
    # the pages keep their styles and scripts behind any reverse proxy.
    # runserver serves them from the apps in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"


def database_from_env() -> dict:
    """Return the database that DATABASE_URL names, or raise a message naming it."""
    try:
        database = env.db(
            "DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'registre.sqlite3'}"
        )
    except (ValueError, KeyError) as error:
        database = {"error": error}
    if not database.get("ENGINE"):
        raise ImproperlyConfigured(
            "DATABASE_URL is not a database URL Registre can read "
            f"({database.get('error', 'no known scheme')}). Write it as "
            "postgres://USER:PASSWORD@HOST:5432/NAME, with any / : @ or % in the "
            "password percent-encoded (/ as %2F), or leave it empty for SQLite."
        )
    return database


DATABASES = {"default": database_from_env()}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("DB_CONN_MAX_AGE", 60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Page queries are short; PostgreSQL's JIT compilation added about a second
    # to list pages over millions of contacts without making them faster.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    sqlite_options = DATABASES["default"].setdefault("OPTIONS", {})
    # secure_delete overwrites deleted rows with zeros, so an erased person's
    # data does not stay readable in the file's free pages. In WAL mode, pages
    # keep reading while an import writes; without it they fail with "database
    # is locked".
    sqlite_options.setdefault(
        "init_command", "PRAGMA secure_delete = ON; PRAGMA journal_mode = WAL;"
    )
    # A writer waits this many seconds for the running one instead of failing
    # at once. SQLite cannot make a transaction that has read wait for the
    # write lock (it fails at once to avoid a deadlock), so transactions take
    # the write lock when they begin.
    sqlite_options.setdefault("timeout", env_int("SQLITE_TIMEOUT", 30))
    sqlite_options.setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username and address pair after
# AXES_FAILURE_LIMIT failures for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
if PRODUCTION and not AXES_ENABLED:
    raise ImproperlyConfigured(
        "AXES_ENABLED=false turns off the login lock, which production needs "
        "against password guessing; remove the variable."
    )
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
# Day-first numeric dates in English too (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))

# Uploaded vendor files can be large; Django streams anything above
# FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file.
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE_MB", 200, minimum=1) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
IMPORT_FILE_RETENTION_HOURS = env_int("IMPORT_FILE_RETENTION_HOURS", 72)
FORM_SUBMISSION_RETENTION_DAYS = env_int("FORM_SUBMISSION_RETENTION_DAYS", 7)
# Uploaded vendor files contain personal data: they stay outside MEDIA_ROOT,
# which development serves, and are never reachable by URL.
IMPORT_UPLOAD_ROOT = Path(
    env.str("IMPORT_UPLOAD_ROOT", default=str(DATA_DIR / "private" / "imports"))
)
# Campaign export files contain names, e-mail addresses and unsubscribe links,
# so they stay in the private folder too. Users get them only through the
# campaign download view, which checks the export permission.
CAMPAIGN_EXPORT_ROOT = Path(
    env.str("CAMPAIGN_EXPORT_ROOT", default=str(DATA_DIR / "private" / "campaigns"))
)
# Register files uploaded for an import preview wait here until the import is
# confirmed or cancelled, and are deleted after a day at the latest.
REGISTER_IMPORT_ROOT = Path(
    env.str(
        "REGISTER_IMPORT_ROOT", default=str(DATA_DIR / "private" / "register_imports")
    )
)

PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="FR")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
if PRODUCTION and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured(
        f"SITE_URL={SITE_URL!r} is not an https:// address. In production the "
        "links of campaign files and mails start with it: set it to the "
        "site's public address, such as https://registre.example.com."
    )

# Without EMAIL_URL, mails are written as files in DATA_DIR/mail, which keeps
# them out of the JSON that management commands print on stdout.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="registre@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
DPO_ALERT_EMAILS = env.list("DPO_ALERT_EMAILS", default=[])

# Celery. With CELERY_BROKER_URL unset, Celery uses kombu's filesystem transport
# in DATA_DIR/celery, so a machine with only Python still runs a real worker and
# beat (started together by `scripts/dev.py run`). Production sets a Redis URL.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _celery_queue = DATA_DIR / "celery" / "queue"
    _celery_queue.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    (DATA_DIR / "celery" / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_queue),
        "data_folder_out": str(_celery_queue),
        "processed_folder": str(DATA_DIR / "celery" / "processed"),
        "control_folder": str(DATA_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# The queue that the app's tasks go to and its workers read. Two instances
# sharing one Redis database, such as staging and production, each need
# their own, or each one's workers take and drop the other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Security baseline. The production values are what `check --deploy` expects
# behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto.
SECURE_CONTENT_TYPE_NOSNIFF = True
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "strip_query_string": {"()": "apps.core.logging.StripQueryString"},
        "strip_personal_data": {"()": "apps.core.logging.StripPersonalData"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["strip_personal_data"],
        },
        "requests": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["strip_query_string", "strip_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {
            "handlers": ["requests"],
            "level": "INFO",
            "propagate": False,
        },
        # 403 and 404 responses are expected, so only server errors are logged.
        "django.request": {
            "handlers": ["requests"],
            "level": "ERROR",
            "propagate": False,
        },
        "gunicorn.access": {
            "handlers": ["requests"],
            "level": "INFO",
            "propagate": False,
        },
    },
}
