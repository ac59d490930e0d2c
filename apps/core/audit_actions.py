"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "core.organisation.changed": _("Organisation profile changed"),
}
