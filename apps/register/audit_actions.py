"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

from apps.core.audit import TargetPage
from apps.register.layout import PART_TABLES
from apps.register.models import ProcessingActivity
from apps.register.models import ReferenceTerm

ACTION_LABELS = {
    "register.activity.changed": _("Processing activity changed"),
    "register.activity.created": _("Processing activity created"),
    "register.activity.deleted": _("Processing activity deleted"),
    "register.exported": _("Register exported"),
    "register.imported": _("Register imported"),
    "register.term.added": _("Reference term added"),
    "register.term.deleted": _("Reference term deleted"),
}

# The page of each target type, for the audit list's links.
TARGET_PAGES = {
    "register.processingactivity": TargetPage(
        "register:activity-history",
        "register.view_processingactivity",
        outlives_target=True,
    ),
}

# Labels of the detail keys that this app's audit events record.
DETAIL_LABELS = {
    "activity_ids": _("activities"),
    "fields_changed": _("fields changed"),
    "outcomes": _("outcomes"),
    "parts_changed": _("parts changed"),
    "processor_record": _("processor's record"),
    "reference": _("reference"),
    "references": _("references"),
    "rows_removed": _("rows removed"),
    # The parts of an activity that "parts_changed" counts.
    **{
        part: ProcessingActivity._meta.get_field(
            part
        ).related_model._meta.verbose_name_plural
        for part in PART_TABLES
    },
}

# Choices of the coded values that this app's audit events record.
DETAIL_VALUE_LABELS = {
    "status": ProcessingActivity.Status.choices,
    "kind": ReferenceTerm.Kind.choices,
}
