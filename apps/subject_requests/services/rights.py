"""Services for the rights to rectification, restriction and objection.

These are GDPR Art. 16, 18 and 21. Each service changes the fields or the
status of the requester's contacts and keeps them stored. Access and
portability are in ``access``, erasure is in ``erasure``.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from apps.contacts.campaigns import campaign_export_files_remove_contacts
from apps.contacts.locks import contacts_write_lock
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.contacts.services import WithdrawalSource
from apps.contacts.services import contacts_withdraw
from apps.contacts.suppression import suppressed_hashes
from apps.contacts.suppression import suppression_record
from apps.core.audit import audit_record
from apps.core.dates import format_date
from apps.core.identifiers import identifier_hash
from apps.core.text import labelled
from apps.imports.normalizers import email_is_generic
from apps.subject_requests.dates import local_date
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services.common import RequestError
from apps.subject_requests.services.common import answered_contacts
from apps.subject_requests.services.common import event_add
from apps.subject_requests.services.common import identifiers_normalized
from apps.subject_requests.services.common import identifiers_of
from apps.subject_requests.services.common import notice_date_check
from apps.subject_requests.services.common import rectified_identifier_hashes
from apps.subject_requests.services.common import require_kind
from apps.subject_requests.services.common import require_open
from apps.subject_requests.services.common import require_verified
from apps.subject_requests.services.common import shared_identifier_holders

Status = SubjectRequest.Status


# Fields of a contact that a rectification may change. The normalised e-mail
# and phone are re-normalised so matching and suppression keep working.
RECTIFIABLE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "job_title",
    "job_function",
    "company",
    "postcode",
    "city",
    "country",
)


# The contact fields that a campaign file holds.
CAMPAIGN_FILE_FIELDS = {
    "first_name",
    "last_name",
    "email",
    "company",
    "job_title",
    "country",
}


def _require_linked(request: SubjectRequest) -> list[Contact]:
    contacts = list(request.contacts.order_by("pk"))
    if not contacts:
        raise RequestError(
            _(
                "No contact is linked to %(ref)s; search for the person and link "
                "the matching contacts first."
            )
            % {"ref": request.reference}
        )
    return contacts


def request_rectify(
    *, request: SubjectRequest, contact_id: int, changes: dict, actor
) -> list[str]:
    """Apply the requested corrections to one linked contact.

    Returns the names of the fields that changed. The timeline records those
    names, not the old or new values. Raises ``RequestError`` when no field
    changes, so that an unchanged contact never counts as rectified.
    """
    require_verified(request)
    require_kind(request, "rectify")
    contact = _linked_contact(request, contact_id)
    unknown = sorted(set(changes) - set(RECTIFIABLE_FIELDS))
    if unknown:
        raise RequestError(
            _("Fields %(fields)s cannot be rectified; allowed: %(allowed)s.")
            % {"fields": ", ".join(unknown), "allowed": ", ".join(RECTIFIABLE_FIELDS)}
        )
    changes = dict(changes)
    email, phone = identifiers_normalized(
        email=changes.get("email", contact.email) or "",
        phone=changes.get("phone", contact.phone) or "",
    )
    if "email" in changes:
        changes["email"] = email
    if "phone" in changes:
        changes["phone"] = phone

    if not email and not phone:
        raise RequestError(
            _(
                "Contact #%(id)s would have neither an e-mail nor a phone. Keep "
                "one of them, or erase the contact if the person asks for it."
            )
            % {"id": contact.pk}
        )
    if "email" in changes and email and email != contact.email:
        _require_email_free(contact, email)
    if "phone" in changes and phone and phone != contact.phone:
        _require_phone_not_erased(phone)

    changed = [
        field for field, value in changes.items() if getattr(contact, field) != value
    ]
    if not changed:
        raise RequestError(
            _(
                "No field of contact #%(id)s was changed, so nothing was rectified. "
                "Change the inaccurate fields, or record that the contact needs "
                "no change if its data is accurate."
            )
            % {"id": contact.pk}
        )
    previous_email = contact.email
    replaced = _replaced_identifier_hashes(contact, changes, changed)
    for field in changed:
        setattr(contact, field, changes[field])
    try:
        contact.full_clean()
    except ValidationError as error:
        raise RequestError(_invalid_values_message(error)) from error
    with transaction.atomic():
        contact.save()
        files_rewritten = _campaign_files_rectify(contact, changed)
        replaced_suppressed = _replaced_address_suppress(
            previous_email, contact.email, actor
        )
        details = {"contact_id": contact.pk, "fields": changed}
        if replaced:
            details["replaced_hashes"] = replaced
        event_add(request, "rectified", actor, **details)
        audit_record(
            action="subject_requests.contact.rectified",
            actor=actor,
            target=contact,
            details={
                "request_id": request.pk,
                "fields": changed,
                "campaign_export_file_rewritten": files_rewritten,
                "replaced_address_suppressed": replaced_suppressed,
            },
        )
    return changed


def _replaced_identifier_hashes(
    contact: Contact, changes: dict, changed: list[str]
) -> dict[str, str]:
    """Return the hashes of the identifiers that the rectification replaces and
    leaves off the suppression list, mapped to their kind.

    The rectified event keeps them, so that the person's later objection or
    erasure suppresses the replaced phone or generic address as well.
    """
    replaced = {}
    if "phone" in changed and contact.phone and contact.phone != changes["phone"]:
        replaced[identifier_hash(contact.phone)] = SuppressionEntry.Kind.PHONE
    previous_email = contact.email
    if (
        "email" in changed
        and previous_email
        and previous_email != changes["email"]
        and email_is_generic(previous_email)
    ):
        replaced[identifier_hash(previous_email)] = SuppressionEntry.Kind.EMAIL
    return replaced


def _replaced_address_suppress(previous: str, current: str, actor) -> bool:
    """Put an address that a rectification replaced on the suppression list.

    A later vendor list that still gives the old address would otherwise
    create the person again under it, and campaigns would write to it. A
    generic address (contact@, info@) is left off, because colleagues share
    it; so is a replaced phone number, which may be a shared switchboard.
    Returns whether the address was added.
    """
    if not previous or previous == current or email_is_generic(previous):
        return False
    recorded = suppression_record(
        reason=SuppressionEntry.Reason.RECTIFIED, emails=[previous], actor=actor
    )
    return bool(recorded.added)


def _campaign_files_rectify(contact: Contact, changed: list[str]) -> int:
    """Rewrite the kept campaign files that list the contact without its row.

    A file contains the contact's name, e-mail, company, job title and country as
    they were when it was written. Once one of them is rectified the row is
    inaccurate, and a file downloaded again would send a message to a
    corrected address. Returns how many files were rewritten.
    """
    if not CAMPAIGN_FILE_FIELDS & set(changed):
        return 0
    export_ids = CampaignExportContact.objects.filter(
        contact_id=contact.pk
    ).values_list("export_id", flat=True)
    return campaign_export_files_remove_contacts(
        export_ids=list(export_ids), contact_ids=[contact.pk]
    )


def request_rectify_not_needed(
    *, request: SubjectRequest, contact_id: int, actor
) -> None:
    """Record the DPO's finding that one linked contact's data is accurate.

    A rectification request closes once each linked contact was rectified or
    has this finding (see ``request_close``).
    """
    require_verified(request)
    require_kind(request, "rectify")
    contact = _linked_contact(request, contact_id)
    with transaction.atomic():
        event_add(request, "rectification_not_needed", actor, contact_id=contact.pk)
        audit_record(
            action="subject_requests.contact.rectification_not_needed",
            actor=actor,
            target=contact,
            details={"request_id": request.pk},
        )


def _linked_contact(request: SubjectRequest, contact_id: int) -> Contact:
    contact = request.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise RequestError(
            _("Contact #%(id)s is not linked to %(ref)s; link it first.")
            % {"id": contact_id, "ref": request.reference}
        )
    return contact


def _require_email_free(contact: Contact, email: str) -> None:
    """Reject an address that another contact has, or that an erasure listed.

    An erased person must not come back through another contact, and an
    import could not tell which of two contacts with one address a row updates.
    """
    other = (
        Contact.objects.filter(email=email)
        .exclude(pk=contact.pk)
        .values_list("pk", flat=True)
        .first()
    )
    if other is not None:
        raise RequestError(
            _(
                "%(email)s is already the e-mail of contact #%(other)s. If both "
                "are the same person, link that contact to the request instead."
            )
            % {"email": email, "other": other}
        )
    if _erased(email):
        raise RequestError(
            _(
                "%(email)s belongs to a person who was erased, so it cannot be "
                "given to another contact."
            )
            % {"email": email}
        )


def _erased(identifier: str) -> bool:
    return SuppressionEntry.objects.filter(
        identifier_hash=identifier_hash(identifier),
        reason=SuppressionEntry.Reason.ERASED,
    ).exists()


def _require_phone_not_erased(phone: str) -> None:
    """Reject a phone that an erasure listed, as ``_require_email_free`` does.

    Other contacts may share the phone, such as a switchboard number, so
    only an erasure rejects it.
    """
    if _erased(phone):
        raise RequestError(
            _(
                "%(phone)s belongs to a person who was erased, so it cannot be "
                "given to another contact."
            )
            % {"phone": phone}
        )


def _invalid_values_message(error: ValidationError) -> str:
    """Return the rejected values of a contact as one sentence per field."""
    messages = []
    for name, field_errors in error.message_dict.items():
        label = (
            str(Contact._meta.get_field(name).verbose_name)
            if name != NON_FIELD_ERRORS
            else ""
        )
        text = " ".join(field_errors)
        messages.append(labelled(capfirst(label), text) if label else text)
    return " ".join(messages)


def _set_status(request, contacts, *, from_statuses, to_status) -> list[int]:
    ids = [c.pk for c in contacts if c.status in from_statuses]
    Contact.objects.filter(pk__in=ids, status__in=from_statuses).update(
        status=to_status, updated_at=timezone.now()
    )
    return ids


def request_restrict(*, request: SubjectRequest, actor) -> int:
    """Restrict processing (Art. 18): contacts stay stored but leave every export.

    The contacts app's contactable rule excludes ``restricted`` contacts from
    segments, exports and campaigns until the restriction is lifted.
    """
    require_verified(request)
    require_kind(request, "restrict")
    return _linked_contacts_transition(
        request=request,
        actor=actor,
        from_status=Contact.Status.ACTIVE,
        to_status=Contact.Status.RESTRICTED,
        event="restricted",
        unchanged_message=_(
            "No contact linked to %(ref)s is active, so none was restricted: "
            "they are restricted already or no longer contacted."
        ),
    )


def request_lift_restriction(
    *,
    request: SubjectRequest,
    actor,
    informed_on: datetime.date,
    informed_by: str,
) -> int:
    """Lift the restriction of the linked contacts.

    GDPR Art. 18(3) has the person informed before the restriction is
    lifted, so ``informed_on`` (the day they were informed, through
    ``informed_by``) must fall between the restriction (or the receipt) and
    today. The timeline records both. A contact whose e-mail or phone went on
    the suppression list while it was restricted (an unsubscribe link, the
    e-mailing tool) becomes unsubscribed, not active.
    """
    require_open(request)
    require_kind(request, "restrict")
    notice_date_check(
        request,
        informed_on,
        informed_by,
        before_receipt=_(
            "The person cannot have been told of the lifting on %(date)s, "
            "before the request was received on %(received)s."
        ),
        future=_(
            "The date the person was told, %(date)s, is in the future; tell the "
            "person first, then lift the restriction."
        ),
    )
    _notice_after_restriction_check(request, informed_on)
    return _linked_contacts_transition(
        request=request,
        actor=actor,
        from_status=Contact.Status.RESTRICTED,
        to_status=Contact.Status.ACTIVE,
        event="restriction_lifted",
        then=_suppressed_unsubscribe,
        unchanged_message=_(
            "No contact linked to %(ref)s is restricted, so no restriction was lifted."
        ),
        details={"informed_on": str(informed_on), "informed_by": informed_by},
    )


def _notice_after_restriction_check(request: SubjectRequest, informed_on) -> None:
    """Reject a notice of the lifting dated before the restriction itself."""
    restricted = (
        request.events.filter(action="restricted").order_by("-occurred_at").first()
    )
    if restricted is None:
        return
    restricted_on = local_date(restricted.occurred_at)
    if informed_on < restricted_on:
        raise RequestError(
            _(
                "The person cannot have been told on %(date)s that the restriction "
                "would be lifted: it was placed on %(restricted)s."
            )
            % {
                "date": format_date(informed_on),
                "restricted": format_date(restricted_on),
            }
        )


def _suppressed_unsubscribe(ids: list[int]) -> None:
    """Move the contacts of ``ids`` whose identifiers are suppressed to unsubscribed."""
    rows = Contact.objects.filter(pk__in=ids).values_list(
        "pk", "email_hash", "phone_hash"
    )
    hashes = {pk: {email, phone} - {"", None} for pk, email, phone in rows}
    suppressed = suppressed_hashes(set().union(*hashes.values()))
    unsubscribed = [pk for pk, values in hashes.items() if values & suppressed]
    Contact.objects.filter(pk__in=unsubscribed).update(
        status=Contact.Status.UNSUBSCRIBED, updated_at=timezone.now()
    )


def _linked_contacts_transition(
    *,
    request: SubjectRequest,
    actor,
    from_status,
    to_status,
    event: str,
    unchanged_message: str,
    then=None,
    details: dict | None = None,
) -> int:
    """Move the linked contacts in ``from_status`` to ``to_status`` and record it.

    ``then``, if given, receives the ids moved, in the same transaction. When
    no linked contact is in ``from_status``, nothing is recorded and
    ``RequestError`` carries ``unchanged_message``. ``details`` go into the
    timeline's event beside the contacts' ids.
    """
    contacts = _require_linked(request)
    with transaction.atomic():
        ids = _set_status(
            request, contacts, from_statuses=[from_status], to_status=to_status
        )
        if not ids:
            raise RequestError(unchanged_message % {"ref": request.reference})
        if then is not None:
            then(ids)
        event_add(request, event, actor, contact_ids=ids, **(details or {}))
        audit_record(
            action=f"subject_requests.contacts.{event}",
            actor=actor,
            target=request,
            count=len(ids),
            details={"contact_ids": ids},
        )
    return len(ids)


@dataclass(frozen=True)
class ObjectionGrant:
    """The counts of contacts marked and identifiers listed by one objection grant."""

    contact_count: int
    suppression_added: int


def objection_shared_holders(request: SubjectRequest) -> int:
    """Count the contacts that granting the objection keeps contactable
    elsewhere but whose shared e-mail or phone it suppresses."""
    contacts = list(answered_contacts(request))
    emails, phones = identifiers_of(request, [(c.email, c.phone) for c in contacts])
    return shared_identifier_holders(
        contact_ids=[c.pk for c in contacts], emails=emails, phones=phones
    )


def request_object(*, request: SubjectRequest, actor) -> ObjectionGrant:
    """Grant an objection to prospecting (Art. 21(2)-(3)): it is always granted.

    The linked contacts and the contacts holding the requester's e-mail or
    phone, except those the DPO set aside as someone else's, are marked
    objected (with a withdrawn e-mail consent for those that relied on
    consent), and every identifier of the requester and of those contacts
    goes on the suppression list. A received request moves to in
    progress. Granting again reaches the contacts linked since, and records
    nothing if there are none. No identity check is required because the
    objection discloses nothing and only stops prospecting, which the person
    must be able to do simply (CPCE L.34-5).
    """
    require_open(request)
    require_kind(request, "object")
    granted_before = request.events.filter(action="objected").exists()
    if request.status == Status.RECEIVED:
        request.status = Status.IN_PROGRESS
    with transaction.atomic():
        # A running import keeps the lock until it commits. Waiting for it lets
        # this read find the contacts the import created for the person, and
        # any later import checks the new suppression entries.
        contacts_write_lock()
        contacts = list(answered_contacts(request))
        emails, phones = identifiers_of(request, [(c.email, c.phone) for c in contacts])
        request.save(update_fields=["status"])
        recorded = suppression_record(
            reason=SuppressionEntry.Reason.OBJECTED,
            emails=emails,
            phones=phones,
            hashes=rectified_identifier_hashes([c.pk for c in contacts]),
            actor=actor,
        )
        withdrawn = contacts_withdraw(
            contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]),
            reason=SuppressionEntry.Reason.OBJECTED,
            source=WithdrawalSource.SUBJECT_REQUEST,
        )
        ids = withdrawn.contact_ids
        if granted_before and not (ids or recorded.added or recorded.objected):
            # A repeated grant that reached nothing new leaves no second entry.
            return ObjectionGrant(contact_count=0, suppression_added=0)
        details = {
            "contact_ids": ids,
            "suppression_added": recorded.added,
            "suppression_objected": recorded.objected,
        }
        event_add(request, "objected", actor, **details)
        audit_record(
            action="subject_requests.contacts.objected",
            actor=actor,
            target=request,
            count=len(ids),
            details=details,
        )
    return ObjectionGrant(contact_count=len(ids), suppression_added=recorded.added)
