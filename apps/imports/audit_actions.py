"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.audit import TargetPage

ACTION_LABELS = {
    "imports.job.cancelled": _("Import cancelled"),
    "imports.job.completed": _("Import completed"),
    "imports.job.created": _("Import file uploaded"),
    "imports.job.failed": _("Import failed"),
    "imports.job.resumed": _("Import resumed"),
    "imports.job.started": _("Import started"),
    "imports.leftovers.purged": _("Import leftovers purged"),
    "imports.rejected_rows.exported": _("Rejected rows downloaded"),
}

# The page of each target type, for the audit list's links.
TARGET_PAGES = {
    "imports.importjob": TargetPage("imports:job-detail", "imports.view_importjob"),
}

# Labels of the detail keys that this app's audit events record.
DETAIL_LABELS = {
    "cause": _("cause"),
    "list_id": _("contact list"),
    "size": _("size in bytes"),
    "staged_rows_deleted": _("staged rows deleted"),
    "vendor_id": _("vendor"),
    "created": pgettext_lazy("audit count", "created"),
    "merged": pgettext_lazy("audit count", "merged"),
    "duplicate": pgettext_lazy("audit count", "duplicates"),
    "suppressed": pgettext_lazy("audit count", "suppressed"),
    "rejected": pgettext_lazy("audit count", "rejected"),
    "source_file": _("uploaded files"),
    "staging_row": _("staged rows"),
    "professional_use_confirmed": _(
        "the user stated that every person is reached in their profession"
    ),
}

# Choices of the coded values that this app's audit events record.
DETAIL_VALUE_LABELS = {
    "cause": [
        ("queue_unreachable", _("the task queue could not be reached")),
        ("run", _("the run stopped")),
        ("worker_lost", _("the worker process stopped")),
    ],
}
