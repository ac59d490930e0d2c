from dataclasses import dataclass
from itertools import combinations

from django.db.models import Q
from django.urls import NoReverseMatch
from django.urls import reverse

from apps.contacts.campaigns import campaign_export_files_remove_contacts
from apps.contacts.erasure import ContactsErased
from apps.contacts.erasure import contacts_erase
from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.contacts.search import name_words
from apps.contacts.suppression import ErasedSuppression
from apps.contacts.suppression import suppression_actor_id
from apps.contacts.suppression import suppression_rows
from apps.core.personal_data import ContactIdColumn
from apps.core.personal_data import PersonalDataMatch


def _contact_url(contact_id: int) -> str:
    try:
        return reverse("contacts:contact-detail", args=[contact_id])
    except NoReverseMatch:
        return ""


def _name_candidates(requester_words: list[set[str]]) -> Q:
    """Return a condition on ``search_text`` that every contact named like one
    of the requesters meets: it contains two of their words, or their only
    word. ``_names_match`` then checks the name itself."""
    condition = Q(pk__in=[])
    for words in requester_words:
        if len(words) == 1:
            pairs = [(*words, *words)]
        else:
            pairs = combinations(sorted(words), 2)
        for first, second in pairs:
            condition |= Q(search_text__contains=first) & Q(
                search_text__contains=second
            )
    return condition


def _names_match(contact: Contact, requester_words: list[set[str]]) -> bool:
    """Tell whether every word of the contact's name is a word of a requester's
    name, in any order, case and accents: "Mme Élodie MARTIN" and "Martin
    Elodie" name contact "Élodie Martin". A contact without a first name or
    without a last name matches only a requester's name of the same words,
    since a surname alone could be anyone's."""
    words = name_words(f"{contact.first_name} {contact.last_name}")
    whole_name = bool(contact.first_name.strip() and contact.last_name.strip())
    return any(
        words <= requester and (whole_name or words == requester)
        for requester in requester_words
        if words
    )


def find(*, emails, phones, names) -> list[PersonalDataMatch]:
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(email__in=list(emails))
    if phones:
        condition |= Q(phone__in=list(phones))
    requester_words = [words for words in map(name_words, names) if words]
    if requester_words:
        condition |= _name_candidates(requester_words)

    matches = []
    for contact in Contact.objects.filter(condition):
        reasons = []
        if contact.email and contact.email in emails:
            reasons.append("email")
        if contact.phone and contact.phone in phones:
            reasons.append("phone")
        if _names_match(contact, requester_words):
            reasons.append("name")
        if not reasons:
            # Found by the words of its company or e-mail, not its name.
            continue
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


CONTACT_ID_COLUMNS = [
    ContactIdColumn(Provenance, "contact", "provenance"),
    ContactIdColumn(ConsentRecord, "contact", "consent_record"),
    ContactIdColumn(CampaignExportContact, "contact_id", "campaign_export_row"),
]


def erase(*, contact_ids, emails, phones) -> dict[str, int]:
    """Delete the contacts, every row that refers to them and their kept files.

    The contacts are those with the ids, e-mails or phones given. The rows of
    any app that hold their ids go in the same statement (see
    ``apps.contacts.erasure``), and every kept campaign file that lists one of
    them is rewritten without their rows.
    """
    erased = contacts_erase(contact_ids=contact_ids, emails=emails, phones=phones)
    return _with_files_rewritten(erased)


@dataclass(frozen=True)
class PersonErased:
    """Counts of the records ``person_erase`` removed and of new suppression entries."""

    counts: dict[str, int]
    suppression_added: int


def person_erase(
    *,
    contact_ids,
    emails,
    phones,
    reason: str,
    actor=None,
    lock_held=False,
    phones_select_contacts=True,
    contact_emails=None,
    replaced_hashes=None,
) -> PersonErased:
    """Erase as ``erase`` does and put the identifiers on the suppression list.

    The erased contacts' own e-mails and phones are suppressed too. On
    PostgreSQL the suppression entries are written in the erasure's
    statement. Pass ``lock_held`` when the caller's transaction already has
    the contacts write lock (``contacts_write_lock_reading``). With
    ``phones_select_contacts`` false, the phones are suppressed and erased
    from the other apps' rows, but select no contact: the caller chose the
    contacts that a shared phone may find. ``contact_emails`` does the same
    for the e-mails: only those it lists select contacts. ``replaced_hashes``
    maps the hashes of identifiers that rectifications replaced to their kind:
    they are suppressed too.
    """
    erased = contacts_erase(
        contact_ids=contact_ids,
        emails=emails,
        phones=phones,
        phones_select_contacts=phones_select_contacts,
        contact_emails=contact_emails,
        suppression=suppression_rows(
            reason=reason,
            emails=emails,
            phones=phones,
            hashes=replaced_hashes,
            actor=actor,
        ),
        erased_suppressions=[ErasedSuppression(reason, suppression_actor_id(actor))],
        lock_held=lock_held,
    )
    return PersonErased(_with_files_rewritten(erased), erased.suppression_added)


def _with_files_rewritten(erased: ContactsErased) -> dict[str, int]:
    counts = dict(erased.counts)
    counts["campaign_export_file_rewritten"] = campaign_export_files_remove_contacts(
        export_ids=erased.campaign_export_ids, contact_ids=erased.contact_ids
    )
    return counts
