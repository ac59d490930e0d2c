"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "retention.breaches.applied": _("Retention applied to breach records"),
    "retention.contacts.applied": _("Retention applied to contacts"),
    "retention.import_leftovers.applied": _("Import leftovers removed"),
    "retention.rented_lists.applied": _("Ended rented lists removed"),
    "retention.run.failed": _("Retention run failed"),
    "retention.run.finished": _("Retention run finished"),
    "retention.run.interrupted": _("Retention run interrupted"),
    "retention.run.requested": _("Retention run requested"),
    "retention.run.skipped": _("Retention run skipped: plan changed since its preview"),
    "retention.subject_requests.applied": _("Retention applied to closed requests"),
}
