#!/usr/bin/env python3
"""Run or test Registre on a machine with only Python 3.11+.

    python3 scripts/dev.py run              # install, migrate, serve with jobs
    python3 scripts/dev.py run --no-demo    # the same, without demo data
    python3 scripts/dev.py test             # install with test tools, run the suite

Both create ``.venv`` on first use and reinstall only when pyproject.toml
changes. Extra arguments after ``test`` go to pytest. ``run`` loads the
invented demo data into a new database only, unless ``--no-demo`` is given;
later starts never load it again. Set REGISTRE_ADDRESS (default
127.0.0.1:8000) to serve on another address and REGISTRE_DATA_DIR (default
data/) to keep the database, queue, uploads and mails elsewhere.
"""

import fcntl
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_DIR = BASE_DIR / ".venv"


def dotenv_defaults(path: Path) -> None:
    """Add the variables of a .env file that the environment lacks.

    The settings read the same file with django-environ's ``read_env``, which
    this follows: ``export`` prefixes, single quotes kept raw, double quotes
    with backslash escapes, and ``#`` inside a value kept. An empty value is
    left out, because the settings read it as unset. The run's locks and
    folders then use the database, broker and folder that the settings use.
    """
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\A(?:export )?([A-Za-z_0-9]+)=(.*)\Z", line)
        if not match:
            continue
        key, value = match.groups()
        quoted = re.match(r"\A'(.*)'\Z", value)
        if quoted:
            value = quoted.group(1)
        quoted = re.match(r'\A"(.*)"\Z', value)
        if quoted:
            value = re.sub(r"\\([^rnt])", r"\1", quoted.group(1))
        if value:
            os.environ.setdefault(key, value)


dotenv_defaults(BASE_DIR / ".env")
# A relative folder is read from the project folder, where the settings of the
# server, worker and beat that this script starts read it too.
DATA_DIR = (BASE_DIR / (os.environ.get("REGISTRE_DATA_DIR") or "data")).resolve()
PASSWORD_FILE = DATA_DIR / "demo-password.txt"
ADDRESS = os.environ.get("REGISTRE_ADDRESS") or "127.0.0.1:8000"


def venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def ensure_environment(extras: str) -> None:
    """Create the virtualenv and install the project when pyproject.toml changed."""
    if not venv_python().exists():
        print(f"Creating the virtualenv in {VENV_DIR} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV_DIR)
        subprocess.run(
            [venv_python(), "-m", "pip", "install", "-q", "--upgrade", "pip"],
            check=True,
        )

    digest = hashlib.sha256((BASE_DIR / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV_DIR / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    print(f"Installing Registre and its dependencies ({target}) ...", flush=True)
    subprocess.run(
        [venv_python(), "-m", "pip", "install", "-q", "-e", target],
        cwd=BASE_DIR,
        check=True,
    )
    stamp.write_text(digest)


def manage(*arguments: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [venv_python(), "manage.py", *arguments], cwd=BASE_DIR, check=True, **kwargs
    )


def demo_password() -> str:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not PASSWORD_FILE.exists():
        PASSWORD_FILE.write_text(secrets.token_urlsafe(12))
        PASSWORD_FILE.chmod(0o600)
    return PASSWORD_FILE.read_text().strip()


def first_start(password: str, *, demo: bool) -> dict:
    """Prepare a database without users and return the database's state.

    Only a database that has no user gets the administrator and the demo
    data, so that records and accounts deleted or renamed never come back.
    """
    options = [] if demo else ["--no-demo"]
    result = manage(
        "first_start",
        f"--password={password}",
        *options,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_lock() -> list:
    """Hold locks on the data folder and the services for as long as this run lives.

    A second run on the same data would start a second Celery beat, which
    sends every scheduled job twice. With DATABASE_URL set, the data is in
    that database, so a second lock, in the system's temporary folder, is
    named after the database and the broker.
    """
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    locks = [(DATA_DIR / "run.lock", f"the data in {DATA_DIR}")]
    database = os.environ.get("DATABASE_URL", "")
    if database:
        broker = os.environ.get("CELERY_BROKER_URL", "")
        services = f"{service_key(database)}|{service_key(broker)}"
        digest = hashlib.sha256(services.encode()).hexdigest()[:16]
        lock_path = Path(tempfile.gettempdir()) / f"registre-run-{digest}.lock"
        locks.append((lock_path, "this DATABASE_URL and CELERY_BROKER_URL"))
    lock_files = []
    for path, description in locks:
        lock_file = open(path, "w")  # noqa: SIM115 (held until exit)
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.exit(
                f"Registre is already running with {description}. Stop that run "
                "first, or point this one at other data."
            )
        lock_files.append(lock_file)
    return lock_files


# Spellings of one service in a URL: scheme aliases and default ports.
_SCHEMES = {"postgresql": "postgres", "pgsql": "postgres", "rediss": "redis"}
_DEFAULT_PORTS = {"postgres": 5432, "redis": 6379}


def service_key(url: str) -> str:
    """Return ``url`` reduced to the service and database it names.

    Two spellings of one database, such as ``postgresql://localhost/db`` and
    ``postgres://user@127.0.0.1:5432/db``, give the same key, so that the run
    lock stops a second run on it. The user and password are left out.
    """
    if not url:
        return ""
    parts = urlsplit(url)
    scheme = _SCHEMES.get(parts.scheme, parts.scheme)
    host = (parts.hostname or "").lower()
    if host in ("localhost", "::1"):
        host = "127.0.0.1"
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, "")
    except ValueError:
        port = ""
    return f"{scheme}://{host}:{port}{parts.path or '/'}"


def address_free_check() -> None:
    host, _, port = ADDRESS.rpartition(":")
    if not port.isdigit() or host.startswith("["):
        return  # runserver reports an address it cannot read
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host or "127.0.0.1", int(port)))
        except OSError as error:
            sys.exit(
                f"Cannot serve on {ADDRESS}: {error.strerror}. Another program "
                "uses it; set REGISTRE_ADDRESS to another port, for example "
                "REGISTRE_ADDRESS=127.0.0.1:8080."
            )


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def run(*, demo: bool) -> None:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    # The data folder contains every contact, request and breach, and the
    # mails, so the files this run and its processes create are for this user
    # only.
    os.umask(0o077)
    os.environ["REGISTRE_DATA_DIR"] = str(DATA_DIR)
    _locks = run_lock()
    address_free_check()
    os.environ.setdefault("SITE_URL", f"http://{ADDRESS}")
    ensure_environment("")
    manage("migrate", "--no-input", "-v", "0")
    password = demo_password()
    state = first_start(password, demo=demo)
    roles = {
        "admin": "admin (all rights)",
        "conformite": "conformite (compliance officer)",
        "commercial": "commercial (sales)",
        "dpo": "dpo (DPO)",
    }
    if state["users"]:
        users = ", ".join(roles[name] for name in state["users"])
        if state["users"] == ["admin"]:
            users += (
                ", then create each user in /admin/ with the group of their "
                "role (compliance_officer, sales or dpo)"
            )
    else:
        users = "your own account"

    processes = [
        subprocess.Popen(
            # --insecure serves static files with DEBUG off, as a
            # development run needs; production serves them from the proxy.
            [
                venv_python(),
                "manage.py",
                "runserver",
                ADDRESS,
                "--noreload",
                "--insecure",
            ],
            cwd=BASE_DIR,
        ),
        subprocess.Popen(
            [
                venv_python(),
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
            ],
            cwd=BASE_DIR,
        ),
        subprocess.Popen(
            [
                venv_python(),
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
            ],
            cwd=BASE_DIR,
        ),
    ]
    lines = [f"\nRegistre is starting on http://{ADDRESS}/", f"Log in as {users}"]
    if state["password_valid"]:
        lines.append(f"with the password: {password}   (stored in {PASSWORD_FILE})")
    elif state["users"]:
        lines.append(
            f"with the password you gave them: the one in {PASSWORD_FILE} "
            "no longer opens these accounts"
        )
    lines.append(
        "A Celery worker and Celery beat run the scheduled jobs. "
        "Press Ctrl+C to stop.\n"
    )
    print("\n".join(lines), flush=True)
    stopped_by_user = False
    exited = []
    try:
        while not exited:
            time.sleep(1)
            exited = [process for process in processes if process.poll() is not None]
    except KeyboardInterrupt:
        stopped_by_user = True
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    if stopped_by_user:
        return
    # Only the processes that exited on their own are named: the others were
    # stopped here, which gives them a non-zero code too.
    names = ("web server", "Celery worker", "Celery beat")
    failed = [
        f"{name} (exit code {process.returncode})"
        for name, process in zip(names, processes, strict=True)
        if process in exited
    ]
    sys.exit(f"Stopped because a process exited: {', '.join(failed)}")


def test(arguments: list[str]) -> None:
    ensure_environment("dev")
    result = subprocess.run([venv_python(), "-m", "pytest", *arguments], cwd=BASE_DIR)
    sys.exit(result.returncode)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        sys.exit(__doc__)
    if sys.argv[1] == "run":
        if sys.argv[2:] in (["-h"], ["--help"]):
            print(__doc__)
            return
        options = sys.argv[2:]
        if options not in ([], ["--no-demo"]):
            extra = " ".join(options)
            sys.exit(f"run takes only --no-demo, not {extra!r}.\n{__doc__}")
        run(demo=not options)
    else:
        test(sys.argv[2:])


if __name__ == "__main__":
    main()
