"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

from apps.core.audit import TargetPage
from apps.retention.services import ACTOR_LABEL

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

# Labels of the jobs that record events without a user
# (``apps.core.audit.audit_actor_name``).
ACTOR_LABELS = {ACTOR_LABEL: _("retention job")}

# The page of each target type, for the audit list's links.
TARGET_PAGES = {
    "retention.retentionrun": TargetPage(
        "retention:run-detail", "retention.view_retentionrun"
    ),
}

# Labels of the detail keys that this app's audit events record.
DETAIL_LABELS = {
    "as_of": _("as of"),
    "dry_run": _("dry run"),
    "found_by_run_id": _("found by run"),
    "run_id": _("run"),
    "steps": _("steps"),
    "key": _("step"),
    "removed": _("removed"),
    "would_remove": _("would remove"),
    "due": _("due"),
    "batches": _("batches"),
    "max_transaction_ms": _("longest transaction (ms)"),
    "batches_cancelled": _("batches cancelled by the time limit and retried"),
    "objectors": _("objectors"),
    "restricted_kept": _("restricted contacts kept"),
}
