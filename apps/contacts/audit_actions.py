"""Readable labels of the audit actions on contacts, lists and campaigns."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "contacts.campaign.exported": _("Campaign list exported"),
    "contacts.campaign.failed": _("Campaign export failed"),
    "contacts.contact.objected": _("Contact objected"),
    "contacts.contact.unsubscribed": _("Contact unsubscribed"),
    "contacts.list.created": _("Contact list created"),
    "contacts.suppression.batch_reported": _("Suppression list updated by the API"),
    "contacts.vendor.created": _("List vendor created"),
}
