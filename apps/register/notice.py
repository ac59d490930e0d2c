"""The information that GDPR Art. 13 and 14 require, from the register.

The public notice page of an activity and the access package both give it to
the person. It names the controller, the purposes and the lawful basis, the
recipients and transfers, the retention periods and the person's rights.
"""

from django.utils.translation import gettext as _

from apps.core.models import Organisation
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule


def rights_text() -> list[str]:
    return [
        _("Right of access to your data (GDPR Art. 15)."),
        _("Right to rectification of inaccurate data (GDPR Art. 16)."),
        _("Right to erasure (GDPR Art. 17)."),
        _("Right to restriction of processing (GDPR Art. 18)."),
        _("Right to data portability (GDPR Art. 20)."),
        _(
            "Right to object at any time to processing for prospecting, which is "
            "always granted (GDPR Art. 21)."
        ),
        _(
            "Right to withdraw consent at any time, where processing is based on "
            "consent (GDPR Art. 7(3))."
        ),
        _(
            "Right to lodge a complaint with the supervisory authority, the CNIL "
            "(GDPR Art. 77)."
        ),
    ]


def activity_recipients(activity: ProcessingActivity) -> list[str]:
    """Return the register's recipient categories, marking third countries."""
    recipients = []
    for recipient in activity.recipients.all():
        label = recipient.label
        if recipient.third_country:
            label = _("%(label)s (outside the EU)") % {"label": label}
        recipients.append(label)
    return recipients


def activity_transfers(activity: ProcessingActivity) -> list[dict]:
    """Return each transfer outside the EU that the register records."""
    return [
        {
            "country": transfer.country,
            "recipient": transfer.recipient,
            "safeguard": transfer.safeguard,
            "safeguard_label": str(transfer.get_safeguard_display())
            if transfer.safeguard
            else _("no safeguard recorded in the register"),
        }
        for transfer in activity.transfers.all()
    ]


def activity_notice(activity: ProcessingActivity) -> dict:
    """Return the Art. 13 and 14 information of ``activity`` for its public page."""
    rules = list(activity.retention_rules.all())
    contact_rules = [
        rule for rule in rules if rule.record_type == RetentionRule.RecordType.CONTACT
    ]
    return {
        "organisation": Organisation.current(),
        "activity": activity,
        "data_categories": [
            category.label for category in activity.data_categories.all()
        ],
        "recipients": activity_recipients(activity),
        "transfers": activity_transfers(activity),
        "retention": [rule.describe() for rule in (contact_rules or rules)],
        "rights": rights_text(),
    }
