"""Settings for the test suite.

PostgreSQL and Redis are used when they accept connections on 127.0.0.1.
Otherwise the suite falls back to SQLite and skips the tests marked
`postgres` or `redis`. With ``CI=true`` an unreachable PostgreSQL or Redis
stops the run instead.
"""

import os
import socket

from django.core.exceptions import ImproperlyConfigured


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_REACHABLE = _reachable("127.0.0.1", 5432)
REDIS_REACHABLE = _reachable("127.0.0.1", 6379)

if IN_CI and not (POSTGRES_REACHABLE and REDIS_REACHABLE):
    raise ImproperlyConfigured(
        "CI=true but PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not "
        "reachable; start them before running the suite."
    )

if "DATABASE_URL" not in os.environ and POSTGRES_REACHABLE:
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/registre"
os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("REGISTRE_ENV", "development")

from config.settings import *  # noqa: E402,F403
from config.settings import BASE_DIR  # noqa: E402

TEST_REDIS_URL = os.environ["TEST_REDIS_URL"]
DATA_DIR = BASE_DIR / "data" / "test"
MEDIA_ROOT = DATA_DIR / "media"
CAMPAIGN_EXPORT_ROOT = DATA_DIR / "private" / "campaigns"
REGISTER_IMPORT_ROOT = DATA_DIR / "private" / "register_imports"
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
