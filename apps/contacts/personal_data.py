from django.db.models import Q
from django.db.models import Value
from django.db.models.functions import Concat
from django.db.models.functions import Lower
from django.urls import NoReverseMatch
from django.urls import reverse

from apps.contacts.campaigns import campaign_exports_delete_files
from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.core.personal_data import PersonalDataMatch


def _contact_url(contact_id: int) -> str:
    try:
        return reverse("contacts:contact-detail", args=[contact_id])
    except NoReverseMatch:
        return ""


def find(*, emails, phones, names) -> list[PersonalDataMatch]:
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(email__in=list(emails))
    if phones:
        condition |= Q(phone__in=list(phones))
    lowered = [name.strip().lower() for name in names if name.strip()]
    contacts = Contact.objects.annotate(
        full_name_lower=Lower(Concat("first_name", Value(" "), "last_name"))
    )
    if lowered:
        condition |= Q(full_name_lower__in=lowered)

    matches = []
    for contact in contacts.filter(condition):
        reasons = []
        if contact.email and contact.email in emails:
            reasons.append("email")
        if contact.phone and contact.phone in phones:
            reasons.append("phone")
        if contact.full_name_lower in lowered:
            reasons.append("name")
        matched_on = ", ".join(reasons)
        matches.append(
            PersonalDataMatch(
                kind="contact",
                record_id=contact.pk,
                label=f"{contact.full_name} · {contact.company}".strip(" ·"),
                matched_on=matched_on,
                url=_contact_url(contact.pk),
            )
        )
        for provenance in Provenance.objects.filter(contact=contact).select_related(
            "contact_list__vendor"
        ):
            matches.append(
                PersonalDataMatch(
                    kind="provenance",
                    record_id=provenance.pk,
                    label=str(provenance.contact_list),
                    matched_on=f"contact #{contact.pk}",
                )
            )
        for consent in ConsentRecord.objects.filter(contact=contact):
            matches.append(
                PersonalDataMatch(
                    kind="consent",
                    record_id=consent.pk,
                    label=(
                        f"{consent.get_channel_display()}: "
                        f"{consent.get_state_display()}"
                    ),
                    matched_on=f"contact #{contact.pk}",
                )
            )
        export_ids = CampaignExportContact.objects.filter(contact_id=contact.pk).values(
            "export_id"
        )
        for export in CampaignExport.objects.filter(
            pk__in=export_ids, file_deleted_at__isnull=True
        ):
            matches.append(
                PersonalDataMatch(
                    kind="campaign_export_file",
                    record_id=export.pk,
                    label=export.file_path,
                    matched_on=f"contact #{contact.pk}",
                )
            )
    return matches


# Labels of the rows that this app owns in the counts returned by ``erase``.
OWN_KINDS = {
    Contact._meta.label: "contact",
    Provenance._meta.label: "provenance",
    ConsentRecord._meta.label: "consent_record",
}


def erase(*, contact_ids, emails, phones) -> dict[str, int]:
    """Delete the contacts, the rows that cascade from them and their kept files.

    Provenance and consent records cascade through their foreign keys, and so
    do rows of other apps that point at a contact, such as a breach's
    recipients. Those are counted under their ``label_lower`` (for example
    ``breaches.breachrecipient``). Every kept campaign file that contains one
    of the contacts is deleted too.
    """
    contact_ids = set(contact_ids)
    matching = Q(pk__in=list(contact_ids))
    if emails:
        matching |= Q(email__in=list(emails))
    if phones:
        matching |= Q(phone__in=list(phones))
    contacts = Contact.objects.filter(matching)
    erased_ids = list(contacts.values_list("pk", flat=True))

    files = campaign_exports_delete_files(
        contact_ids=set(erased_ids) | contact_ids, reason="erasure"
    )
    _total, per_model = Contact.objects.filter(pk__in=erased_ids).delete()

    counts = {kind: per_model.get(label, 0) for label, kind in OWN_KINDS.items()}
    counts["campaign_export_file"] = files
    for label, count in per_model.items():
        if label not in OWN_KINDS and count:
            counts[label.lower()] = count
    return counts
