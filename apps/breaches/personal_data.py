"""Personal data held by the breach register, for the personal-data registry.

The register stores the contact ids of the people informed of a breach, never
their identifiers. A recipient row still records that a person was affected,
so it is found with the person and erased with the contact. The communication
keeps its count.
"""

from django.db.models import Q
from django.db.models import Value
from django.db.models.functions import Concat
from django.db.models.functions import Lower

from apps.contacts.models import Contact
from apps.core.personal_data import ContactIdColumn
from apps.core.personal_data import PersonalDataMatch

from .models import BreachRecipient


def _contact_ids(*, emails, phones, names=()) -> list[int]:
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(email__in=list(emails))
    if phones:
        condition |= Q(phone__in=list(phones))
    lowered = [name.strip().lower() for name in names if name.strip()]
    contacts = Contact.objects.all()
    if lowered:
        contacts = contacts.annotate(
            full_name_lower=Lower(Concat("first_name", Value(" "), "last_name"))
        )
        condition |= Q(full_name_lower__in=lowered)
    return list(contacts.filter(condition).values_list("pk", flat=True))


CONTACT_ID_COLUMNS = [ContactIdColumn(BreachRecipient, "contact", "breach_recipient")]


def find(*, emails, phones, names) -> list[PersonalDataMatch]:
    contact_ids = _contact_ids(emails=emails, phones=phones, names=names)
    recipients = BreachRecipient.objects.filter(
        contact_id__in=contact_ids
    ).select_related("communication__breach")
    return [
        PersonalDataMatch(
            kind="breach_recipient",
            record_id=recipient.pk,
            label=str(recipient.communication.breach),
            matched_on=f"contact #{recipient.contact_id}",
        )
        for recipient in recipients
    ]
