"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

from apps.breaches.deadlines import CLOCK_ACTOR
from apps.breaches.models import BreachAlert
from apps.core.audit import TargetPage

ACTION_LABELS = {
    "breaches.breach.changed": _("Breach changed"),
    "breaches.breach.closed": _("Breach closed"),
    "breaches.breach.purged": _("Breach records purged"),
    "breaches.breach.recorded": _("Breach recorded"),
    "breaches.deadline.alerted": _("Breach deadline alert"),
    "breaches.deadline.passed": _("Breach notification deadline passed"),
    "breaches.notification.complementary": _("Complementary notification recorded"),
    "breaches.notification.initial": _("Notification to the authority recorded"),
    "breaches.register.exported": _("Breach register exported"),
    "breaches.subjects.exported": _("People to inform exported"),
    "breaches.subjects.informed": _("People informed recorded"),
    "breaches.timeline.noted": _("Note added to the breach timeline"),
}

# Labels of the jobs that record events without a user
# (``apps.core.audit.audit_actor_name``).
ACTOR_LABELS = {CLOCK_ACTOR: _("breach deadline check")}

# The page of each target type, for the audit list's links.
TARGET_PAGES = {
    "breaches.breach": TargetPage("breaches:breach-detail", "breaches.view_breach"),
}

# Labels of the detail keys that this app's audit events record.
DETAIL_LABELS = {
    "breach_ids": _("breaches"),
    "communication": _("communication to people"),
    "deadline_at": _("deadline"),
    "event": _("timeline entry"),
    "late": _("late"),
    "notification": _("notification"),
    "sent": _("sent"),
    "superseded": _("replaced"),
    "threshold": _("alert threshold"),
    "times": _("times changed"),
    "aware_at": _("became aware at"),
    "detected_at": _("detected at"),
    "list_ids": _("contact lists"),
    "statuses": _("contact statuses"),
    "audience": _("audience"),
}

# Choices of the coded values that this app's audit events record.
DETAIL_VALUE_LABELS = {"threshold": BreachAlert.Threshold.choices}
