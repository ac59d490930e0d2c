"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "core.organisation.changed": _("Organisation profile changed"),
}

# Labels of the detail keys that this app's audit events record.
DETAIL_LABELS = {
    "fields": _("fields"),
    "format": _("format"),
    "counts": _("counts"),
    "kind": _("kind"),
    "status": _("status"),
    "reason": _("reason"),
    "error": _("error"),
    "source": _("source"),
    "closed_before": _("closed before"),
    "contact_ids": _("contacts"),
}
