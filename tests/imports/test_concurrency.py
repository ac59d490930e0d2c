"""Imports and erasures that run at the same time, as separate workers run them."""

import threading

import pytest
from django.db import connection
from django.db import transaction

from apps.contacts.models import Contact
from apps.core.personal_data import personal_data_erase
from apps.imports.models import ImportJob
from apps.imports.services import import_job_run
from apps.imports.services import import_job_start
from tests.imports.conftest import import_file_created

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 300
CONTENT = "Prénom;Nom;Courriel\n" + "".join(
    f"Personne{index};Nom;personne{index}@example.com\n" for index in range(ROWS)
)


def _in_threads(*functions):
    """Run each function in its own thread and connection, and return the errors."""
    errors = []

    def run(function):
        try:
            function()
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _queued_job(path, list_name):
    job = import_file_created(path, list_name=list_name)
    import_job_start(job=job, enqueue=False)
    return job


def test_same_file_twice_at_once_creates_once(upload_root, write_file):
    path = write_file("people.csv", CONTENT)
    first = _queued_job(path, "Liste A")
    second = _queued_job(path, "Liste B")

    errors = _in_threads(
        lambda: import_job_run(job_id=first.pk),
        lambda: import_job_run(job_id=second.pk),
    )

    jobs = ImportJob.objects.filter(pk__in=[first.pk, second.pk])
    assert errors == []
    assert {job.status for job in jobs} == {ImportJob.Status.DONE}
    assert Contact.objects.count() == ROWS
    assert sorted(job.created_count for job in jobs) == [0, ROWS]
    assert sorted(job.merged_count for job in jobs) == [0, ROWS]


def _erase_in_transaction():
    with transaction.atomic():
        personal_data_erase(emails=["personne7@example.com"])


def test_erasure_during_import_waits_for_it(upload_root, write_file):
    path = write_file("people.csv", CONTENT)
    job = _queued_job(path, "Liste A")

    errors = _in_threads(
        lambda: import_job_run(job_id=job.pk),
        _erase_in_transaction,
    )

    job.refresh_from_db()
    assert errors == []
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.row_count == ROWS
    assert job.row_results.count() == ROWS
