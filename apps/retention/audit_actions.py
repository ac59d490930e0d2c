"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

from apps.core.audit import TargetPage
from apps.register.models import RetentionRule
from apps.retention.selectors import StepKind
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
    "action": _("action"),
    "kind": _("step kind"),
    "status": _("status"),
    "activity_id": _("processing activity"),
    "activity_reference": _("activity reference"),
    "rule_id": _("retention rule"),
    "cutoff": _("limit"),
    "ended_list_ids": _("ended rented lists"),
    "deleted": _("contacts deleted"),
    "anonymised": _("contacts anonymised"),
    "provenances_removed": _("provenance rows removed"),
    "consents_removed": _("consent records removed"),
    "would_remove_provenances": _("provenance rows that would be removed"),
    "erased": _("records erased in other apps"),
    "campaign_export_file": _("campaign files deleted"),
    "suppressed": _("new suppression entries"),
    "purged_source_file": _("uploaded files deleted"),
    "purged_staging_row": _("staged rows deleted"),
    "would_purge_source_file": _("uploaded files that would be deleted"),
    "would_purge_staging_row": _("staged rows that would be deleted"),
}

# Choices of the coded values that this app's audit events record.
DETAIL_VALUE_LABELS = {
    "action": [
        *RetentionRule.Action.choices,
        ("purge", _("purge")),
    ],
    "kind": [
        (StepKind.CONTACTS, _("contacts")),
        (StepKind.RENTED_LISTS, _("rented lists")),
        (StepKind.SUBJECT_REQUESTS, _("closed requests")),
        (StepKind.BREACHES, _("breach records")),
        (StepKind.IMPORT_LEFTOVERS, _("import leftovers")),
    ],
    "status": [
        ("running", _("running")),
        ("done", _("done")),
        ("not_applied", _("not applied")),
        ("unavailable", _("unavailable")),
        ("not_previewed", _("not previewed")),
    ],
}
