"""Imports and erasures that run at the same time, as separate workers run them."""

import threading
import time

import pytest
from django.db import connection
from django.db import transaction
from django.utils import timezone

from apps.contacts.locks import contacts_write_lock
from apps.contacts.models import Contact
from apps.core.personal_data import personal_data_erase
from apps.imports.models import ImportJob
from apps.imports.services import import_job_run
from apps.imports.services import import_job_start
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import request_create
from apps.subject_requests.services import request_object
from tests.contacts.factories import ContactFactory
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
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)
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


def test_objection_during_import_waits_and_reaches_its_contact():
    """GIVEN an import that holds the contacts write lock and has just created
    the person's contact, not committed yet
    WHEN the DPO grants the person's objection meanwhile
    THEN the objection waits for the import and marks the new contact objected.
    """
    request = request_create(
        kind=SubjectRequest.Kind.OBJECTION,
        channel=SubjectRequest.Channel.EMAIL,
        requester_name="Personne7 Nom",
        requester_email="personne7@example.com",
        received_at=timezone.now(),
    )
    created = threading.Event()

    def import_creating_the_person():
        with transaction.atomic():
            contacts_write_lock()
            ContactFactory(email="personne7@example.com")
            created.set()
            time.sleep(0.5)

    def objection():
        created.wait(timeout=10)
        request_object(request=request, actor=None)

    errors = _in_threads(import_creating_the_person, objection)

    assert errors == []
    contact = Contact.objects.get(email="personne7@example.com")
    assert contact.status == Contact.Status.OBJECTED


def _hold_contacts_lock(locked: threading.Event, release: threading.Event):
    """Hold the contacts write lock, as a long import or erasure does, until
    ``release`` is set."""
    with transaction.atomic():
        contacts_write_lock()
        locked.set()
        release.wait(timeout=60)


def test_run_waiting_for_lock_keeps_heartbeat(upload_root, write_file, monkeypatch):
    """GIVEN another transaction holding the contacts write lock, WHEN a job's
    run waits for it, THEN the job's heartbeat goes on, so that its page does
    not call it stalled and offer to resume it."""
    monkeypatch.setattr("apps.contacts.locks.LOCK_WAIT_REPORT_SECONDS", 0.2)
    job = _queued_job(write_file("people.csv", CONTENT), "Liste A")
    locked, release = threading.Event(), threading.Event()
    heartbeats = []

    def watch():
        locked.wait(timeout=30)
        time.sleep(0.5)
        start = ImportJob.objects.get(pk=job.pk).heartbeat_at
        time.sleep(1.0)
        heartbeats.extend([start, ImportJob.objects.get(pk=job.pk).heartbeat_at])
        release.set()

    errors = _in_threads(
        lambda: _hold_contacts_lock(locked, release),
        lambda: (locked.wait(timeout=30), import_job_run(job_id=job.pk)),
        watch,
    )

    job.refresh_from_db()
    assert errors == []
    assert heartbeats[1] > heartbeats[0]
    assert job.status == ImportJob.Status.DONE


def test_run_after_job_finished_elsewhere_changes_nothing(upload_root, write_file):
    """GIVEN a run waiting for the lock, WHEN the job is finished by another
    run meanwhile, THEN the waiting run stops without writing and leaves the
    job's status as it found it."""
    job = _queued_job(write_file("people.csv", CONTENT), "Liste A")
    locked, release = threading.Event(), threading.Event()

    def finish_elsewhere():
        locked.wait(timeout=30)
        time.sleep(0.5)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE)
        release.set()

    errors = _in_threads(
        lambda: _hold_contacts_lock(locked, release),
        lambda: (locked.wait(timeout=30), import_job_run(job_id=job.pk)),
        finish_elsewhere,
    )

    job.refresh_from_db()
    assert errors == []
    assert job.status == ImportJob.Status.DONE
    assert job.error == ""
    assert Contact.objects.count() == 0
