import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
STRONG = "x" * 50
# A production configuration that passes every check.
PRODUCTION = {
    "REGISTRE_ENV": "production",
    "SECRET_KEY": "k3y-" + STRONG,
    "IDENTIFIER_HASH_KEY": "h4sh-" + STRONG,
    "ALLOWED_HOSTS": "registre.example.test",
    "SITE_URL": "https://registre.example.test",
}


def _run_check(tmp_path, **environment):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REGISTRE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_rejects_development_secret(tmp_path):
    result = _run_check(tmp_path, REGISTRE_ENV="production")

    assert result.returncode != 0
    assert "SECRET_KEY is a development value" in result.stderr


def test_production_rejects_debug(tmp_path):
    result = _run_check(
        tmp_path,
        REGISTRE_ENV="production",
        SECRET_KEY=STRONG,
        IDENTIFIER_HASH_KEY=STRONG + "y",
        DEBUG="true",
    )

    assert result.returncode != 0
    assert "DEBUG is on" in result.stderr


def test_production_rejects_development_hash_key(tmp_path):
    result = _run_check(tmp_path, REGISTRE_ENV="production", SECRET_KEY=STRONG)

    assert result.returncode != 0
    assert "IDENTIFIER_HASH_KEY" in result.stderr


def test_production_check_deploy_is_clean(tmp_path):
    result = _run_check(tmp_path, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("site_url", ["", "http://registre.example.test"])
def test_production_requires_https_site_url(tmp_path, site_url):
    result = _run_check(tmp_path, **{**PRODUCTION, "SITE_URL": site_url})

    assert result.returncode != 0
    assert "SITE_URL=" in result.stderr
    assert "is not an https:// address" in result.stderr


def _wsgi_import(tmp_path, **environment) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "REGISTRE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", "import config.wsgi; print('loaded')"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_wsgi_server_defaults_to_production(tmp_path):
    """A gunicorn started on config.wsgi without REGISTRE_ENV runs the
    production checks, so the repository's development keys stop it."""
    result = _wsgi_import(tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY is a development value" in result.stderr


def test_wsgi_server_with_empty_environment_name(tmp_path):
    result = _wsgi_import(tmp_path, REGISTRE_ENV="")

    assert result.returncode != 0
    assert "the default of a server started on config.wsgi" in result.stderr


def test_wsgi_server_in_development_when_asked(tmp_path):
    result = _wsgi_import(tmp_path, REGISTRE_ENV="development")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded"


@pytest.mark.parametrize("value", ["staging", "prod"])
def test_unknown_environment_name_rejected(tmp_path, value):
    result = _run_check(tmp_path, REGISTRE_ENV=value)

    assert result.returncode != 0
    assert f"REGISTRE_ENV={value!r} is invalid" in result.stderr


SQLITE_ERASURE_SCRIPT = """
from django.conf import settings
from django.db import connection

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE erasure_probe (value TEXT)")
    cursor.execute("INSERT INTO erasure_probe VALUES (?)", ["erased-" + "x" * 40])
    cursor.execute("DELETE FROM erasure_probe")
connection.close()
database = settings.DATABASES["default"]
print(database["OPTIONS"].get("init_command", ""))
print(b"erased-" in open(database["NAME"], "rb").read())
"""


def _shell(tmp_path, script: str, **environment) -> subprocess.CompletedProcess:
    """Run ``script`` in ``manage.py shell`` on a SQLite database of its own."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REGISTRE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sqlite_overwrites_deleted_rows(tmp_path):
    result = _shell(tmp_path, SQLITE_ERASURE_SCRIPT)

    assert result.returncode == 0, result.stderr
    init_command, found = result.stdout.strip().splitlines()
    # Some builds, Debian's among them, overwrite by default, so the test
    # checks the setting as well as its effect.
    assert "secure_delete = ON" in init_command
    assert found == "False"


def test_celery_queue_comes_from_the_environment(tmp_path):
    script = "from config.celery import app; print(app.conf.task_default_queue)"

    result = _shell(tmp_path, script, CELERY_QUEUE="registre-staging")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "registre-staging"


def test_empty_variables_take_defaults(tmp_path):
    """GIVEN the variables that .env.example leaves empty,
    WHEN the settings load, THEN each takes its default."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REGISTRE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "CELERY_BROKER_URL": "",
        "SECRET_KEY": "",
        "MEDIA_ROOT": "",
    }
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE']); "
        "print(settings.CELERY_BROKER_URL); print(settings.MEDIA_ROOT)"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        str(tmp_path / "media"),
    ]


def _settings_value(tmp_path, name, **environment):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REGISTRE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **environment,
    }
    script = f"from django.conf import settings; print(repr(settings.{name}))"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_api_tokens_lose_spaces_and_blanks(tmp_path):
    result = _settings_value(tmp_path, "API_TOKENS", API_TOKENS="tok1111, tok2222 , ,")

    assert result.stdout.strip() == "['tok1111', 'tok2222']"


def test_production_rejects_short_api_token(tmp_path):
    result = _run_check(
        tmp_path,
        REGISTRE_ENV="production",
        SECRET_KEY=STRONG,
        IDENTIFIER_HASH_KEY=STRONG + "y",
        API_TOKENS=STRONG + ",x",
    )

    assert result.returncode != 0
    assert "API_TOKENS: token 2 is shorter than 32 characters" in result.stderr


def test_production_rejects_login_lock_off(tmp_path):
    result = _run_check(tmp_path, **PRODUCTION, AXES_ENABLED="false")

    assert result.returncode != 0
    assert "AXES_ENABLED=false turns off the login lock" in result.stderr


@pytest.mark.parametrize(
    "url", ["not-a-url", "postgres//localhost/x", "postgres://u:a/b@localhost/x"]
)
def test_unreadable_database_url_named(tmp_path, url):
    result = _run_check(tmp_path, DATABASE_URL=url)

    assert result.returncode != 0
    assert "DATABASE_URL is not a database URL Registre can read" in result.stderr
    assert "percent-encoded" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_UPLOAD_SIZE_MB", "abc"),
        ("MAX_UPLOAD_SIZE_MB", "-1"),
        ("SQLITE_TIMEOUT", "soon"),
    ],
)
def test_invalid_number_variable_named(tmp_path, name, value):
    result = _run_check(tmp_path, **{name: value})

    assert result.returncode != 0
    assert f"{name}={value!r} is invalid: write a whole number" in result.stderr


STATIC_REQUEST_SCRIPT = """
import io
import sys

from config.wsgi import application

environ = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/static/css/registre.css",
    "QUERY_STRING": "",
    "SERVER_NAME": "registre.example.test",
    "SERVER_PORT": "443",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_HOST": "registre.example.test",
    "HTTP_X_FORWARDED_PROTO": "https",
    "wsgi.url_scheme": "https",
    "wsgi.input": io.BytesIO(),
    "wsgi.errors": sys.stderr,
    "wsgi.version": (1, 0),
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}
statuses = []


def start_response(status, headers, exc_info=None):
    statuses.append(status)


body = b"".join(application(environ, start_response))
print(statuses[0])
print(body.decode())
"""


def test_production_server_serves_static_files(tmp_path):
    """GIVEN collected static files, WHEN gunicorn's WSGI application gets a
    request for one in production, THEN it returns the file."""
    static_root = tmp_path / "static"
    (static_root / "css").mkdir(parents=True)
    (static_root / "css" / "registre.css").write_text("body { margin: 0 }")
    env = {
        "PATH": os.environ["PATH"],
        "REGISTRE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(static_root),
        **{name: value for name, value in PRODUCTION.items() if name != "REGISTRE_ENV"},
    }

    result = subprocess.run(
        [sys.executable, "-c", STATIC_REQUEST_SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "200 OK"
    assert "body { margin: 0 }" in result.stdout
