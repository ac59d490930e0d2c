"""The README's run command, as a new user calls it."""

import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dev.py"


def _dev(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_run_help_prints_help():
    result = _dev("run", "--help")

    assert result.returncode == 0
    assert "REGISTRE_ADDRESS" in result.stdout


def test_run_with_argument_rejected():
    result = _dev("run", "--port", "8011")

    assert result.returncode == 1
    assert "run takes only --no-demo, not '--port 8011'" in result.stderr


def test_second_run_on_the_same_data_stops(tmp_path):
    """GIVEN a run holding the data folder's lock,
    WHEN a second run starts on the same folder,
    THEN it stops at once, naming the folder, before starting a second beat."""
    lock_file = tmp_path / "run.lock"
    with open(lock_file, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "run"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "REGISTRE_DATA_DIR": str(tmp_path)},
        )

    assert result.returncode == 1
    assert f"Registre is already running with the data in {tmp_path}" in result.stderr


def test_address_in_use_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "run"],
            capture_output=True,
            text=True,
            timeout=30,
            env={
                **os.environ,
                "REGISTRE_DATA_DIR": str(tmp_path),
                "REGISTRE_ADDRESS": address,
            },
        )

    assert result.returncode == 1
    assert f"Cannot serve on {address}" in result.stderr
    assert "set REGISTRE_ADDRESS" in result.stderr


def test_second_run_on_the_same_database_stops(tmp_path):
    """GIVEN a run on a database and broker, with its own data folder,
    WHEN a second run starts on them with another data folder,
    THEN it stops at once instead of starting a second Celery beat."""
    environment = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/registre_lock_probe",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(SCRIPT)],
        env={**os.environ, **environment, "REGISTRE_DATA_DIR": str(tmp_path / "a")},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = subprocess.run(
            [sys.executable, str(SCRIPT), "run"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **environment, "REGISTRE_DATA_DIR": str(tmp_path / "b")},
        )
    finally:
        holder.kill()
        holder.wait()

    assert result.returncode == 1
    assert "already running with this DATABASE_URL and CELERY_BROKER_URL" in (
        result.stderr
    )


# Loads scripts/dev.py as a module and holds its locks until killed.
LOCK_HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("dev", sys.argv[1])
dev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dev)
locks = dev.run_lock()
print("held", flush=True)
time.sleep(60)
"""


def _dev_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("dev_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dotenv_values_added(tmp_path, monkeypatch):
    """GIVEN a .env file as the settings read it,
    WHEN the run command loads it, THEN it adds the variables not already set."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\n"
        "export DATABASE_URL=postgres://postgres@127.0.0.1:5432/registre_probe\n"
        "CELERY_BROKER_URL='redis://127.0.0.1:6379/3'\n"
        'REGISTRE_DATA_DIR="/srv/registre data"\n'
        "REGISTRE_ADDRESS=127.0.0.1:9000\n"
        "SITE_URL=\n"
    )
    # Loading the script reads the project's own .env into the environment,
    # so the test gives it a copy.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "REGISTRE_DATA_DIR", "SITE_URL"):
        os.environ.pop(key, None)
    os.environ["REGISTRE_ADDRESS"] = "127.0.0.1:8123"
    dev = _dev_module()

    dev.dotenv_defaults(env_file)

    assert os.environ["DATABASE_URL"].endswith("/registre_probe")
    assert os.environ["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert os.environ["REGISTRE_DATA_DIR"] == "/srv/registre data"
    assert os.environ["REGISTRE_ADDRESS"] == "127.0.0.1:8123"
    assert "SITE_URL" not in os.environ


def test_run_creates_private_files(tmp_path):
    """GIVEN a run that stops at once because the port is taken,
    THEN the data folder it created is for its user only."""
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        subprocess.run(
            [sys.executable, str(SCRIPT), "run"],
            capture_output=True,
            text=True,
            timeout=30,
            env={
                **os.environ,
                "REGISTRE_DATA_DIR": str(data_dir),
                "REGISTRE_ADDRESS": f"127.0.0.1:{taken.getsockname()[1]}",
            },
        )

    assert data_dir.stat().st_mode & 0o077 == 0
    assert (data_dir / "run.lock").stat().st_mode & 0o077 == 0


def test_first_start_passes_dash_password(monkeypatch):
    """A generated password may start with "-", which must not read as an option."""
    monkeypatch.setattr(os, "environ", dict(os.environ))
    dev = _dev_module()
    calls = []

    def manage(*arguments, **kwargs):
        calls.append(arguments)
        return subprocess.CompletedProcess(arguments, 0, stdout='{"users": []}\n')

    monkeypatch.setattr(dev, "manage", manage)

    dev.first_start("-b1tSRhZKIznXg10", demo=True)

    assert calls == [("first_start", "--password=-b1tSRhZKIznXg10")]


def test_service_key_joins_spellings(monkeypatch):
    monkeypatch.setattr(os, "environ", dict(os.environ))
    dev = _dev_module()

    keys = {
        dev.service_key(url)
        for url in (
            "postgres://postgres@127.0.0.1:5432/registre",
            "postgresql://localhost/registre",
            "postgresql://other:secret@LOCALHOST:5432/registre",
        )
    }

    assert keys == {"postgres://127.0.0.1:5432/registre"}
    assert dev.service_key("postgres://127.0.0.1/other") not in keys
