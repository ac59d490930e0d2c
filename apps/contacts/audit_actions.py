"""Readable labels of the audit actions on contacts, lists and campaigns."""

from django.utils.translation import gettext_lazy as _

from apps.contacts.models import Contact
from apps.contacts.services import WithdrawalSource
from apps.core.audit import TargetPage

ACTION_LABELS = {
    "contacts.campaign.exported": _("Campaign list exported"),
    "contacts.campaign.failed": _("Campaign export failed"),
    "contacts.contact.objected": _("Contact objected"),
    "contacts.contact.unsubscribed": _("Contact unsubscribed"),
    "contacts.list.created": _("Contact list created"),
    "contacts.suppression.batch_reported": _("Suppression list updated by the API"),
    "contacts.vendor.created": _("List vendor created"),
}

# Labels of the channels that record an unsubscribe or objection without a
# user (``apps.core.audit.audit_actor_name``).
ACTOR_LABELS = dict(WithdrawalSource.choices)

# The page of each target type, for the audit list's links.
TARGET_PAGES = {
    "contacts.contact": TargetPage("contacts:contact-detail", "contacts.view_contact"),
    "contacts.contactlist": TargetPage(
        "contacts:contactlist-detail", "contacts.view_contactlist"
    ),
    "contacts.vendor": TargetPage("contacts:vendor-detail", "contacts.view_vendor"),
    "contacts.campaignexport": TargetPage(
        "contacts:campaign-detail", "contacts.view_campaignexport"
    ),
}

# Labels of the detail keys that this app's audit events record.
DETAIL_LABELS = {
    "added": _("suppression entries added"),
    "api_token": _("API token (fingerprint)"),
    "contact_identifiers_added": _("contact identifiers added"),
    "contacts_unsubscribed_before": _("contacts unsubscribed before"),
    "contacts_updated": _("contacts updated"),
    "excluded": _("contacts left out"),
    "filters": _("filters"),
    "search_used": _("search used"),
    "notices_recorded": _("notices recorded"),
    "previous_status": _("previous status"),
    "records_message_date": _("records the campaign message date"),
    "records_notice": _("records the Art. 14 notice as sent"),
    "removed_before": _("removed before"),
    "status_kept": _("status kept"),
    "suppression_added": _("added to the suppression list"),
    "suppression_objected": _("suppression entries turned into objections"),
}

# Choices of the coded values that this app's audit events record.
DETAIL_VALUE_LABELS = {
    "previous_status": Contact.Status.choices,
    "source": WithdrawalSource.choices,
}
