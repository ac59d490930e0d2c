"""Concurrent writes on the SQLite database of the README's first command."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Three threads each run transactions that read, then write, as a page that
# saves a form does. SQLite fails such a transaction at once with "database is
# locked" when another one writes, unless transactions take the write lock
# when they begin.
RACE = """
import threading, time
import django
django.setup()
from django.db import connection, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE race (n integer)")
errors = []

def work():
    try:
        for _ in range(20):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM race")
                time.sleep(0.005)
                cursor.execute("INSERT INTO race VALUES (1)")
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=work) for _ in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM race")
    print(errors, cursor.fetchone()[0])
"""


def test_concurrent_read_then_write_waits(tmp_path):
    environment = {
        key: value for key, value in os.environ.items() if key != "DATABASE_URL"
    }
    environment.update(
        REGISTRE_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )

    result = subprocess.run(
        [sys.executable, "-c", RACE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "60"
    assert result.stdout.startswith("[]")
