"""Creating a job leaves no file behind on error; starting one resets progress."""

import os
from datetime import timedelta
from unittest import mock

import pytest
import tablib
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.core.models import AuditEvent
from apps.imports import services
from apps.imports.models import ImportJob
from apps.imports.selectors import STALE_AFTER
from apps.imports.services import ImportInputError
from apps.imports.services import import_job_check
from apps.imports.services import import_job_resume
from apps.imports.services import import_job_run
from apps.imports.services import import_job_start
from apps.imports.services import job_is_resumable
from tests.imports.conftest import import_file_created

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILE = "Courriel;Nom\njean.dupont@example.com;Dupont\nzoe.petit@example.com;Petit\n"


def _stored_files(root):
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    ("name_field", "label"), [("vendor_name", "vendor"), ("list_name", "list")]
)
def test_long_name_rejected_with_limit(
    name_field,
    label,
    upload_root,
    write_file,
):
    path = write_file("liste.csv", FILE)

    with pytest.raises(ImportInputError) as raised:
        import_file_created(path, **{name_field: "N" * 201})

    message = str(raised.value)
    assert f"The {label} name “{'N' * 50}…”" in message
    assert "201 characters long" in message
    assert "limit of 200 characters" in message
    assert raised.value.field == name_field
    assert not ImportJob.objects.exists()
    assert _stored_files(upload_root) == []


def test_name_at_limit_accepted(upload_root, write_file):
    path = write_file("liste.csv", FILE)

    job = import_file_created(path, vendor_name="V" * 200)

    assert job.vendor_name == "V" * 200


def test_invalid_value_from_file_leaves_no_file(upload_root, write_file):
    """GIVEN an ODS workbook whose only sheet has a 150-character name
    WHEN a job is created for it
    THEN the error names the field and its limit, and no copy is kept."""
    content = tablib.Dataset(
        ["jean.dupont@example.com", "Dupont"],
        headers=["Courriel", "Nom"],
        title="S" * 150,
    ).export("ods")
    path = write_file("long.ods", content)

    with pytest.raises(ImportInputError) as raised:
        import_file_created(path)

    assert str(raised.value).startswith("Sheet: ")
    assert "at most 100 characters" in str(raised.value)
    assert not ImportJob.objects.exists()
    assert _stored_files(upload_root) == []


def test_failed_save_leaves_no_file(monkeypatch, upload_root, write_file):
    def audit_fails(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(services, "audit_record", audit_fails)
    path = write_file("liste.csv", FILE)

    with pytest.raises(RuntimeError):
        import_file_created(path)

    assert not ImportJob.objects.exists()
    assert _stored_files(upload_root) == []


def test_created_job_keeps_its_file(upload_root, write_file):
    job = import_file_created(write_file("liste.csv", FILE))

    assert _stored_files(upload_root) == [upload_root / job.source_file.name]


def test_start_after_dry_run_resets_progress(upload_root, write_file):
    job = import_file_created(write_file("liste.csv", FILE))
    import_job_check(job=job, enqueue=False)
    job = import_job_run(job_id=job.pk, dry_run=True)
    assert job.progress == 100

    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
    assert job.progress == 0
    assert job.rows_read == 0
    assert job.dry_run_summary["counts"]["created"] == 2


def test_resume_of_stalled_job_restarts_progress(upload_root, write_file):
    """GIVEN a job whose worker died at 79 % after reading 40,000 rows."""
    job = import_file_created(write_file("liste.csv", FILE))
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        progress=79,
        rows_read=40_000,
        heartbeat_at=timezone.now() - STALE_AFTER - timedelta(minutes=1),
    )
    job.refresh_from_db()

    import_job_resume(job=job, enqueue=False)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
    assert job.progress == 0
    assert job.rows_read == 0


def test_start_of_started_job_rejected(upload_root, write_file):
    job = import_file_created(write_file("liste.csv", FILE))
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)
    ImportJob.objects.filter(pk=job.pk).update(progress=40)

    with pytest.raises(
        ImportInputError, match="cannot start, because its status is “queued”"
    ):
        import_job_start(job=job, enqueue=False, professional_use_confirmed=True)

    job.refresh_from_db()
    assert job.progress == 40


def test_run_without_file_fails_with_message(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(b"Courriel\njean.dupont@example.com\n")
    job = import_file_created(path)
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)
    os.remove(job.source_file.path)

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJob.Status.FAILED
    assert "can no longer be read" in job.error
    assert not job_is_resumable(job)
    failure = AuditEvent.objects.get(action="imports.job.failed")
    assert failure.target_id == str(job.pk)
    assert failure.details == {"cause": "run"}
    with pytest.raises(ImportInputError, match="Upload the file again"):
        import_job_resume(job=job, enqueue=False)


@pytest.mark.parametrize(
    ("action", "status", "advice"),
    [
        (import_job_start, ImportJob.Status.FAILED, "Resume it"),
        (import_job_check, ImportJob.Status.PENDING, "Check the file again"),
    ],
    ids=["import", "dry run"],
)
def test_unreachable_queue_leaves_job_actionable(
    upload_root,
    write_file,
    django_capture_on_commit_callbacks,
    sales_user,
    action,
    status,
    advice,
):
    """The broker is down: Celery cannot send the task (no shared Redis is stopped)."""
    job = import_file_created(
        write_file("liste.csv", "E-mail;Société\na@example.com;Acme\n")
    )

    with (
        mock.patch(
            "apps.imports.tasks.run_import_job.delay",
            side_effect=OperationalError("Error 111 connecting to 127.0.0.1:6399."),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        action(job=job, actor=sales_user)

    job.refresh_from_db()
    assert job.status == status
    assert "task queue could not be reached" in job.error
    assert advice in job.error
    failures = AuditEvent.objects.filter(
        action="imports.job.failed", target_id=str(job.pk)
    )
    if status == ImportJob.Status.FAILED:
        assert job_is_resumable(job)
        failure = failures.get()
        assert failure.details == {"cause": "queue_unreachable"}
        assert failure.actor == sales_user
    else:
        assert not failures.exists()


def test_no_business_column_needs_statement(upload_root, write_file, sales_user):
    """GIVEN a B2B list with names and addresses but no company or job column
    WHEN sales starts the import without stating that the people are
    reached in their profession
    THEN the import is rejected and nothing is queued.
    """
    job = import_file_created(write_file("liste.csv", "E-mail;Nom\na@example.com;A\n"))

    with pytest.raises(ImportInputError, match="reached in their profession"):
        import_job_start(job=job, enqueue=False, actor=sales_user)
    job.refresh_from_db()

    assert job.status == ImportJob.Status.PENDING


def test_statement_recorded_in_audit_event(upload_root, write_file, sales_user):
    job = import_file_created(write_file("liste.csv", "E-mail;Nom\na@example.com;A\n"))

    import_job_start(
        job=job, enqueue=False, actor=sales_user, professional_use_confirmed=True
    )

    started = AuditEvent.objects.get(action="imports.job.started")
    assert started.details == {"professional_use_confirmed": True}


def test_list_with_company_needs_no_statement(upload_root, write_file):
    job = import_file_created(
        write_file("liste.csv", "E-mail;Société\na@example.com;Acme\n")
    )

    import_job_start(job=job, enqueue=False)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED


def test_empty_company_column_needs_statement(upload_root, write_file):
    job = import_file_created(
        write_file("liste.csv", "E-mail;Société\na@example.com;\nb@example.com;\n")
    )

    with pytest.raises(ImportInputError, match="reached in their profession"):
        import_job_start(job=job, enqueue=False)
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
