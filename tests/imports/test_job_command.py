"""The import_job command resumes or rolls back a job whose worker died."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.core.management import call_command
from django.utils import timezone

from apps.contacts.models import Contact
from apps.imports.models import ImportJob
from apps.imports.selectors import STALE_AFTER
from apps.imports.services import import_job_start
from tests.imports.conftest import import_file_created

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILE = "Email;Nom\njean.dupont@example.com;Dupont\nmarie.martin@example.com;Martin\n"


def _stalled_job(write_file) -> ImportJob:
    """A job whose worker died while it ran: it stays "running", silent."""
    job = import_file_created(write_file("liste.csv", FILE))
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        heartbeat_at=timezone.now() - STALE_AFTER - timedelta(minutes=1),
    )
    return job


def _import_job(*args) -> dict:
    stdout = io.StringIO()
    call_command("import_job", *args, stdout=stdout)
    return json.loads(stdout.getvalue())


def test_resume_finishes_stalled_job(upload_root, write_file):
    job = _stalled_job(write_file)

    summary = _import_job("resume", str(job.pk))

    assert summary["status"] == "done"
    assert Contact.objects.count() == 2


def test_roll_back_drops_stalled_job(upload_root, write_file):
    job = _stalled_job(write_file)

    summary = _import_job("roll-back", str(job.pk))

    job.refresh_from_db()
    assert summary["status"] == "cancelled"
    assert not job.source_file
    assert not Contact.objects.exists()


def test_unknown_job_names_the_number(db):
    with pytest.raises(CommandError, match="No import job has the number 999"):
        _import_job("resume", "999")


def test_running_job_cannot_be_resumed(upload_root, write_file):
    job = import_file_created(write_file("liste.csv", FILE))
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)

    with pytest.raises(CommandError, match="running"):
        _import_job("resume", str(job.pk))
