"""The error for an action that an import job's status does not allow.

A second tab, a double click or the back button can post an action for a
job that has moved on since its page was drawn. The message names the job's
status and what the user can still do with the job.
"""

import os

from django.utils.translation import gettext as _

from apps.imports.errors import ImportInputError
from apps.imports.models import ImportJob
from apps.imports.selectors import job_status_mark

Status = ImportJob.Status

# The actions of a job's page, named as in the URL names.
MAP = "mapping"
SHEET = "sheet"
CHECK = "check"
START = "start"
RESUME = "resume"
CANCEL = "cancel"
REJECTED_DOWNLOAD = "rejected"
NOTES_DOWNLOAD = "notes"


def _rejection_message(action: str) -> str:
    messages = {
        MAP: _(
            "The mapping of job #%(id)s cannot change, because its status is "
            "“%(status)s”."
        ),
        SHEET: _(
            "The sheet of job #%(id)s cannot change, because its status is "
            "“%(status)s”."
        ),
        CHECK: _(
            "A dry run of job #%(id)s cannot start, because its status is “%(status)s”."
        ),
        START: _("Job #%(id)s cannot start, because its status is “%(status)s”."),
        RESUME: _("Job #%(id)s cannot be resumed, because its status is “%(status)s”."),
        CANCEL: _(
            "Job #%(id)s cannot be cancelled, because its status is “%(status)s”."
        ),
        REJECTED_DOWNLOAD: _(
            "The rejected rows of job #%(id)s cannot be downloaded, because its "
            "status is “%(status)s”."
        ),
        NOTES_DOWNLOAD: _(
            "The noted rows of job #%(id)s cannot be downloaded, because its "
            "status is “%(status)s”."
        ),
    }
    return messages[action]


def _next_step(job: ImportJob) -> str:
    """Return what the user can do with ``job`` in its current status."""
    file_kept = bool(job.source_file) and os.path.exists(job.source_file.path)
    resumable = file_kept and job.status != Status.CHECKING
    if (job.stalled or job.status == Status.FAILED) and not resumable:
        return _("Roll it back from its page, then upload the file again.")
    if job.stalled or job.status == Status.FAILED:
        return _("Resume it or roll it back from its page.")
    steps = {
        Status.PENDING: _(
            "It has not run yet. Start the import or cancel it from its page."
        ),
        Status.CHECKING: _(
            "Wait for the dry run to end. Its page then shows the counts and the "
            "actions."
        ),
        Status.QUEUED: _(
            "It waits for a background worker. Wait for the import to end, or "
            "cancel it from its page until a worker starts it."
        ),
        Status.RUNNING: _(
            "Wait for the import to end. Its page shows the progress and then the "
            "report."
        ),
        Status.DONE: _(
            "The import has ended and its page shows the report. To import the "
            "file again, upload it as a new import."
        ),
        Status.CANCELLED: _(
            "Its uploaded file was deleted and none of its contacts were imported. "
            "To import the file, upload it again."
        ),
    }
    return steps[job.status]


def job_action_rejected(job: ImportJob, *, action: str) -> ImportInputError:
    """Return the error for ``action`` on ``job``, whose status does not allow it.

    The caller raises it, so that a traceback points at the rejected call.
    """
    job_status_mark(job)
    message = _rejection_message(action) % {"id": job.pk, "status": job.status_label}
    return ImportInputError(f"{message} {_next_step(job)}")


def job_pending_check(job: ImportJob, *, action: str) -> None:
    """Raise ``ImportInputError`` unless ``job`` is pending.

    Mapping, choosing a sheet, a dry run and the start need a pending job.
    Callers check this before reading the job's file, which a finished or
    cancelled job may no longer have.
    """
    if job.status != Status.PENDING:
        raise job_action_rejected(job, action=action)
