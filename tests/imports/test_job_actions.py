"""Every action posted for a job in the wrong status gets a message, not a 500.

A second tab, a double click or the back button posts an action for a job
that has moved on. The message names the job's status and what to do next.
"""

import datetime
import os

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.contacts.models import Contact
from apps.imports import services
from apps.imports.models import ImportJob
from apps.imports.models import RowResult
from apps.imports.services import ImportInputError
from apps.imports.services import import_job_cancel
from apps.imports.services import import_job_resume
from apps.imports.services import import_job_start
from apps.imports.tasks import run_import_job
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILE = b"Courriel;Nom\njean.dupont@example.com;Dupont\n"
ACTIONS = ["mapping", "sheet", "check", "start", "resume", "cancel"]
REJECTIONS = {
    "mapping": "The mapping of job #{id} cannot change, because its status is",
    "sheet": "The sheet of job #{id} cannot change, because its status is",
    "check": "A dry run of job #{id} cannot start, because its status is",
    "start": "Job #{id} cannot start, because its status is",
    "resume": "Job #{id} cannot be resumed, because its status is",
    "cancel": "Job #{id} cannot be cancelled, because its status is",
}
DONE_STEP = (
    "The import has ended and its page shows the report. To import the file "
    "again, upload it as a new import."
)
CANCELLED_STEP = (
    "Its uploaded file was deleted and none of its contacts were imported. To "
    "import the file, upload it again."
)
IN_PROGRESS_STEP = (
    "Wait for the import to end. Its page shows the progress and then the report."
)
CHECKING_STEP = (
    "Wait for the dry run to end. Its page then shows the counts and the actions."
)
QUEUED_STEP = (
    "It waits for a background worker. Wait for the import to end, or cancel "
    "it from its page until a worker starts it."
)


def _job_in(status: str, path) -> ImportJob:
    """Return a job of ``path`` brought to ``status`` the way the app gets there."""
    if status == "done":
        return import_file(path)
    job = import_file_created(path)
    if status == "cancelled":
        return import_job_cancel(job=job)
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, heartbeat_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _post(client, action, job):
    return client.post(
        reverse(f"imports:job-{action}", args=[job.pk]),
        {
            "column_0": "email",
            "column_1": "last_name",
            "sheet": "Feuil1",
            "professional_use_confirmed": "on",
        },
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


STATUS_CASES = [
    ("done", "done", DONE_STEP),
    ("cancelled", "cancelled", CANCELLED_STEP),
    ("running", "running", IN_PROGRESS_STEP),
    ("queued", "queued", QUEUED_STEP),
    ("checking", "dry run in progress", CHECKING_STEP),
]
# Every action against every status, but cancel on a queued job, which is allowed.
REFUSED_ACTIONS = [
    (action, *case)
    for action in ACTIONS
    for case in STATUS_CASES
    if (case[0], action) != ("queued", "cancel")
]


@pytest.mark.parametrize(("action", "status", "label", "next_step"), REFUSED_ACTIONS)
def test_action_names_status_and_next_step(
    action, status, label, next_step, sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in(status, path)

    response = _post(client_for(sales_user), action, job)

    assert response.status_code == 200
    assert response.redirect_chain == [
        (reverse("imports:job-detail", args=[job.pk]), 302)
    ]
    rejection = REJECTIONS[action].format(id=job.pk)
    assert _messages(response) == [f"{rejection} “{label}”. {next_step}"]
    assert ImportJob.objects.get(pk=job.pk).status == status


@pytest.mark.parametrize("action", ["mapping", "sheet", "check", "start"])
def test_failed_job_offers_resume(
    action, sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in("failed", path)

    response = _post(client_for(sales_user), action, job)

    rejection = REJECTIONS[action].format(id=job.pk)
    assert _messages(response) == [
        f"{rejection} “failed”. Resume it or roll it back from its page."
    ]


@pytest.mark.parametrize("action", ["mapping", "sheet", "check", "start"])
def test_failed_job_without_file_offers_roll_back(
    action, sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in("failed", path)
    os.remove(job.source_file.path)

    response = _post(client_for(sales_user), action, job)

    assert response.status_code == 200
    rejection = REJECTIONS[action].format(id=job.pk)
    assert _messages(response) == [
        f"{rejection} “failed”. Roll it back from its page, then upload the file again."
    ]


def test_pending_job_cannot_resume(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in("pending", path)

    response = _post(client_for(sales_user), "resume", job)

    assert _messages(response) == [
        f"Job #{job.pk} cannot be resumed, because its status is “waiting for "
        "confirmation”. It has not run yet. Start the import or cancel it from "
        "its page."
    ]


def test_stalled_run_cannot_start(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in("running", path)
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1)
    )

    response = _post(client_for(sales_user), "start", job)

    assert _messages(response) == [
        f"Job #{job.pk} cannot start, because its status is “stalled”. Resume it "
        "or roll it back from its page."
    ]


@pytest.mark.parametrize("action", ["mapping", "check", "start"])
def test_pending_job_with_lost_file_has_message(
    action, sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in("pending", path)
    os.remove(job.source_file.path)

    response = _post(client_for(sales_user), action, job)

    assert response.status_code == 200
    assert _messages(response) == [
        "The uploaded file of this job cannot be read any more (it was moved or "
        "deleted). Cancel this job and upload the file again."
    ]


def test_second_start_says_job_is_queued(sales_user, client_for, upload_root, tmp_path):
    """GIVEN a pending job WHEN its start is posted twice (a double click)
    THEN the second post gets a message that the job is already queued."""
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in("pending", path)
    client = client_for(sales_user)
    # The first start only queues the job: no worker runs in this test.
    client.post(
        reverse("imports:job-start", args=[job.pk]),
        {"professional_use_confirmed": "on"},
    )

    response = _post(client, "start", job)

    assert _messages(response) == [
        f"Job #{job.pk} cannot start, because its status is “queued”. {QUEUED_STEP}"
    ]


@pytest.mark.parametrize(
    ("url_name", "extra_args", "rows"),
    [("imports:job-rejected", ["csv"], "rejected"), ("imports:job-notes", [], "noted")],
)
def test_rows_of_running_job(
    url_name, extra_args, rows, sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in("running", path)

    response = client_for(sales_user).get(
        reverse(url_name, args=[job.pk, *extra_args]),
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    assert response.status_code == 200
    assert _messages(response) == [
        f"The {rows} rows of job #{job.pk} cannot be downloaded, because its "
        f"status is “running”. {IN_PROGRESS_STEP}"
    ]


@pytest.mark.parametrize("action", ["resume", "cancel"])
def test_job_without_heartbeat_is_stalled(action, upload_root, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, heartbeat_at=None
    )
    job.refresh_from_db()

    if action == "resume":
        job = import_job_resume(job=job, enqueue=False)
        expected = ImportJob.Status.QUEUED
    else:
        job = import_job_cancel(job=job)
        expected = ImportJob.Status.CANCELLED

    assert job.status == expected


def _queued(path) -> ImportJob:
    job = import_file_created(path)
    return import_job_start(job=job, enqueue=False, professional_use_confirmed=True)


def test_queued_job_cancelled_from_page(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _queued(path)
    client = client_for(sales_user)
    page = client.get(
        reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert 'id="cancel-queued"' in page.content.decode()

    response = _post(client, "cancel", job)

    assert _messages(response) == ["Import cancelled; its file was deleted."]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert not job.source_file


def test_worker_skips_cancelled_queued_job(upload_root, tmp_path):
    """GIVEN a queued job WHEN it is cancelled before a worker takes it
    THEN the task that the start enqueued finds it cancelled and imports
    nothing."""
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _queued(path)
    import_job_cancel(job=job)

    status = run_import_job(job.pk)

    assert status == ImportJob.Status.CANCELLED
    assert not Contact.objects.exists()
    assert not RowResult.objects.filter(job=job).exists()


def test_cancel_between_read_and_claim_wins(upload_root, tmp_path, monkeypatch):
    """GIVEN a worker that has read the queued job
    WHEN the job is cancelled before the worker's claim
    THEN the claim changes nothing and the worker imports nothing."""
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _queued(path)
    claim = services._claim

    def cancel_then_claim(claimed_job, **kwargs):
        import_job_cancel(job=ImportJob.objects.get(pk=claimed_job.pk))
        return claim(claimed_job, **kwargs)

    monkeypatch.setattr(services, "_claim", cancel_then_claim)

    status = run_import_job(job.pk)

    assert status == ImportJob.Status.CANCELLED
    assert not Contact.objects.exists()
    assert not RowResult.objects.filter(job=job).exists()


def test_cancel_after_claim_is_rejected(upload_root, tmp_path, monkeypatch):
    """GIVEN a worker that has claimed the queued job
    WHEN a cancel arrives before the import ends
    THEN the cancel is rejected and the import runs to the end."""
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _queued(path)
    claim = services._claim
    rejections = []

    def claim_then_cancel(claimed_job, **kwargs):
        claimed = claim(claimed_job, **kwargs)
        try:
            import_job_cancel(job=ImportJob.objects.get(pk=claimed_job.pk))
        except ImportInputError as error:
            rejections.append(str(error))
        return claimed

    monkeypatch.setattr(services, "_claim", claim_then_cancel)

    status = run_import_job(job.pk)

    assert status == ImportJob.Status.DONE
    assert len(rejections) == 1
    assert "cannot be cancelled, because its status is “running”" in rejections[0]
    assert Contact.objects.count() == 1


def test_sheet_choice_on_csv_says_it_has_none(sales_user, client_for, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = _job_in("pending", path)

    response = _post(client_for(sales_user), "sheet", job)

    assert _messages(response) == [
        "This file has no sheets to choose from: only a workbook has."
    ]
