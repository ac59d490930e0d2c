"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

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
