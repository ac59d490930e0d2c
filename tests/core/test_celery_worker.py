import time

import pytest

from apps.core.models import Organisation
from config.celery import app


@app.task(name="tests.core.rename_organisation")
def rename_organisation(name):
    organisation = Organisation.current()
    organisation.name = name
    organisation.save()


def _wait_for(condition, *, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.redis
def test_worker_on_redis_writes_to_database(celery_worker_redis):
    Organisation.current()

    rename_organisation.delay("Renamed by the worker")

    assert _wait_for(lambda: Organisation.current().name == "Renamed by the worker")
