"""Celery tasks: an import end to end on Redis, and the leftovers purge."""

import datetime
import os
import time

import pytest
from django.utils import timezone

from apps.contacts.models import Contact
from apps.imports.models import ImportJob
from apps.imports.models import StagingRow
from apps.imports.services import import_job_create
from apps.imports.services import import_job_start
from apps.imports.services import job_is_resumable
from apps.imports.tasks import purge_import_files
from apps.imports.tasks import run_import_job
from config.celery import app
from tests.imports.conftest import RECENT_ACQUISITION
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created
from tests.imports.conftest import prospecting_activity

ROWS = "".join(
    f"Personne{index};Test;personne{index}@example.com\n" for index in range(300)
)
FILE = ("Prénom;Nom;E-mail\n" + ROWS).encode()


@pytest.mark.postgres
@pytest.mark.redis
def test_worker_on_redis_runs_import_to_100(celery_worker_redis, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    with path.open("rb") as upload:
        job = import_job_create(
            upload=upload,
            file_name="liste.csv",
            vendor_name="Fichiers Exemple SARL",
            list_name="Redis",
            acquired_on=RECENT_ACQUISITION,
            processing_activity=prospecting_activity(),
        )

    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)
    # A fresh connection, because the producer pool that ``delay`` uses keeps
    # the broker of the first task sent in the session (memory:// when an
    # eager test ran before) and the fixture does not reset it.
    with app.connection_for_write() as connection:
        run_import_job.apply_async((job.pk,), connection=connection)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if not job.is_active:
            break
        time.sleep(0.2)

    assert job.status == ImportJob.Status.DONE, job.error
    assert job.progress == 100
    assert job.counts["created"] == 300
    assert Contact.objects.count() == 300


@pytest.mark.postgres
@pytest.mark.django_db
def test_purge_deletes_old_files_and_staging(settings, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file(path)
    file_path = job.source_file.path
    pending = StagingRow.objects.create(job=job, row_number=1, email="x@example.com")
    settings.IMPORT_FILE_RETENTION_HOURS = 1

    kept = purge_import_files()
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=2)
    )
    purged = purge_import_files()

    job.refresh_from_db()
    assert kept == {"source_file": 0, "staging_row": 0}
    assert purged == {"source_file": 1, "staging_row": 1}
    assert not job.source_file
    assert job.file_deleted_at is not None
    assert not StagingRow.objects.filter(pk=pending.pk).exists()
    assert not os.path.exists(file_path)
    assert job.row_results.count() == 300


@pytest.mark.postgres
@pytest.mark.django_db
def test_purge_closes_pending_jobs(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    with path.open("rb") as upload:
        job = import_job_create(
            upload=upload,
            file_name="liste.csv",
            vendor_name="V",
            list_name="L",
            acquired_on=RECENT_ACQUISITION,
            processing_activity=prospecting_activity(),
        )

    from apps.imports.services import import_leftovers_purge

    import_leftovers_purge(older_than=timezone.now())

    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert not job.source_file


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(("minutes_ago", "purged"), [(1, False), (60, True)])
def test_purge_spares_only_reporting_jobs(upload_root, tmp_path, minutes_ago, purged):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )
    StagingRow.objects.create(job=job, row_number=1, email="x@example.com")

    from apps.imports.services import import_leftovers_purge

    import_leftovers_purge(older_than=timezone.now())

    job.refresh_from_db()
    assert bool(job.source_file) is not purged
    assert StagingRow.objects.filter(job=job).exists() is not purged
    expected = ImportJob.Status.CANCELLED if purged else ImportJob.Status.RUNNING
    assert job.status == expected


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.django_db
def test_lost_worker_stops_job_at_once(upload_root, write_file, dry_run):
    """GIVEN a job whose worker process was killed (Celery's WorkerLostError)
    WHEN Celery reports the failure from the worker's main process
    THEN the job leaves its running state, so it can be resumed at once.
    """
    from billiard.exceptions import WorkerLostError
    from celery.signals import task_failure

    job = import_file_created(
        write_file("liste.csv", "E-mail;Société\na@example.com;Acme\n")
    )
    running = ImportJob.Status.CHECKING if dry_run else ImportJob.Status.RUNNING
    ImportJob.objects.filter(pk=job.pk).update(status=running)

    task_failure.send(
        sender=run_import_job._get_current_object(),
        task_id="lost",
        exception=WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL)."),
        args=[job.pk],
        kwargs={"dry_run": dry_run},
    )

    job.refresh_from_db()
    if dry_run:
        assert job.status == ImportJob.Status.PENDING
        assert "Start the dry run again" in job.dry_run_summary["error"]
    else:
        assert job.status == ImportJob.Status.FAILED
        assert "Resume the import" in job.error
        assert job_is_resumable(job)
