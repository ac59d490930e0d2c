"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    "removed": _("deleted or anonymised"),
    "would_remove": _("would delete or anonymise"),
    "due": _("due"),
    "batches": _("batches"),
    "max_transaction_ms": _("longest transaction (ms)"),
    "batches_cancelled": _("batches cancelled by the time limit and retried"),
    "objectors": _("objectors"),
    "restricted_kept": _("restricted contacts kept"),
    # A context keeps these words from taking another app's translation of
    # the same English, such as the register's "retention rule".
    "action": pgettext_lazy("retention audit", "action"),
    "activity_id": pgettext_lazy("retention audit", "processing activity"),
    "activity_reference": pgettext_lazy("retention audit", "activity reference"),
    "rule_id": pgettext_lazy("retention audit", "retention rule"),
    "cutoff": pgettext_lazy("retention audit", "limit"),
    "ended_list_ids": pgettext_lazy("retention audit", "ended rented lists"),
    "deleted": pgettext_lazy("retention audit", "contacts deleted"),
    "anonymised": pgettext_lazy("retention audit", "contacts anonymised"),
    "provenances_removed": pgettext_lazy("retention audit", "provenance rows removed"),
    "consents_removed": pgettext_lazy("retention audit", "consent records removed"),
    "would_remove_provenances": pgettext_lazy(
        "retention audit", "provenance rows that would be removed"
    ),
    "erased": pgettext_lazy("retention audit", "records erased in other apps"),
    "campaign_export_file": pgettext_lazy("retention audit", "campaign files deleted"),
    "suppressed": pgettext_lazy("retention audit", "new suppression entries"),
    "purged_source_file": pgettext_lazy("retention audit", "uploaded files deleted"),
    "purged_staging_row": pgettext_lazy("retention audit", "staged rows deleted"),
    "would_purge_source_file": pgettext_lazy(
        "retention audit", "uploaded files that would be deleted"
    ),
    "would_purge_staging_row": pgettext_lazy(
        "retention audit", "staged rows that would be deleted"
    ),
}

# Choices of the coded values that this app's audit events record.
DETAIL_VALUE_LABELS = {
    "action": [
        *RetentionRule.Action.choices,
        ("purge", pgettext_lazy("retention audit", "purge")),
    ],
    "kind": [
        (StepKind.CONTACTS, pgettext_lazy("retention audit", "contacts")),
        (StepKind.RENTED_LISTS, pgettext_lazy("retention audit", "rented lists")),
        (
            StepKind.SUBJECT_REQUESTS,
            pgettext_lazy("retention audit", "closed requests"),
        ),
        (StepKind.BREACHES, pgettext_lazy("retention audit", "breach records")),
        (
            StepKind.IMPORT_LEFTOVERS,
            pgettext_lazy("retention audit", "import leftovers"),
        ),
    ],
    "status": [
        ("running", pgettext_lazy("retention audit", "running")),
        ("done", pgettext_lazy("retention audit", "done")),
        ("not_applied", pgettext_lazy("retention audit", "not applied")),
        ("unavailable", pgettext_lazy("retention audit", "unavailable")),
        ("not_previewed", pgettext_lazy("retention audit", "not previewed")),
    ],
}
