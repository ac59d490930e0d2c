"""The information that GDPR Art. 13 and 14 require, from the register.

The public notice page of an activity and the access package both give it to
the person. It names the controller, the purposes and the lawful basis, the
recipients and transfers, the retention periods and the person's rights.
"""

from django.utils.translation import gettext as _

from apps.core.models import Organisation
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule

# The authority that takes a person's complaint in France (GDPR Art. 77).
CNIL_COMPLAINT = {
    "authority": "Commission nationale de l'informatique et des libertés (CNIL)",
    "address": "3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France",
    "website": "https://www.cnil.fr/fr/plaintes",
}


def rights_text(lawful_basis: str | None = None) -> list[str]:
    """Return the person's rights, as they apply under ``lawful_basis``.

    Without a basis, as in an access package that covers several
    activities, every right is listed with the condition it depends on.
    """
    return [
        _("Right of access to your data (GDPR Art. 15)."),
        _("Right to rectification of inaccurate data (GDPR Art. 16)."),
        _erasure_right(lawful_basis),
        _("Right to restriction of processing (GDPR Art. 18)."),
        *_rights_of_basis(lawful_basis),
        _(
            "Right to lodge a complaint with the supervisory authority, the CNIL "
            "(GDPR Art. 77)."
        ),
    ]


def _erasure_right(lawful_basis: str | None) -> str:
    """Return the erasure right, limited under a legal obligation or public task.

    Art. 17(3)(b) lets those keep the data that they need.
    """
    if lawful_basis in (LawfulBasis.LEGAL_OBLIGATION, LawfulBasis.PUBLIC_TASK):
        return _(
            "Right to erasure (GDPR Art. 17), except for the data we must keep "
            "to meet this legal obligation or public task."
        )
    return _("Right to erasure (GDPR Art. 17).")


def _rights_of_basis(lawful_basis: str | None) -> list[str]:
    """Return the rights that depend on the lawful basis.

    Portability applies to consent and contract only (Art. 20(1)), objection
    to legitimate interests and public tasks (Art. 21(1)), withdrawal to
    consent (Art. 7(3)).
    """
    basis = LawfulBasis
    rights = []
    if lawful_basis is None:
        rights.append(
            _(
                "Right to data portability, where processing is based on consent "
                "or a contract (GDPR Art. 20)."
            )
        )
    elif lawful_basis in (basis.CONSENT, basis.CONTRACT):
        rights.append(_("Right to data portability (GDPR Art. 20)."))
    if lawful_basis in (None, basis.LEGITIMATE_INTERESTS):
        rights.append(
            _(
                "Right to object at any time to processing for prospecting, which "
                "is always granted (GDPR Art. 21)."
            )
        )
    if lawful_basis in (basis.LEGITIMATE_INTERESTS, basis.PUBLIC_TASK):
        rights.append(
            _(
                "Right to object to the processing on grounds relating to your "
                "particular situation (GDPR Art. 21(1))."
            )
        )
    if lawful_basis is None:
        rights.append(
            _(
                "Right to withdraw consent at any time, where processing is based "
                "on consent (GDPR Art. 7(3))."
            )
        )
    elif lawful_basis == basis.CONSENT:
        rights.append(
            _(
                "Right to withdraw your consent at any time, without affecting "
                "the processing carried out before (GDPR Art. 7(3))."
            )
        )
    return rights


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
        "source": activity.data_sources,
        "rights": rights_text(activity.lawful_basis or None),
        "complaint": CNIL_COMPLAINT,
    }
