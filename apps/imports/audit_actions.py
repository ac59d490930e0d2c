"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "imports.job.cancelled": _("Import cancelled"),
    "imports.job.completed": _("Import completed"),
    "imports.job.created": _("Import file uploaded"),
    "imports.job.resumed": _("Import resumed"),
    "imports.job.started": _("Import started"),
    "imports.leftovers.purged": _("Import leftovers purged"),
    "imports.rejected_rows.exported": _("Rejected rows downloaded"),
}
