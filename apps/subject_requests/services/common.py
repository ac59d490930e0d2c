"""Helpers that the service modules of subject-rights requests share.

This module contains ``RequestError``, the checks of a request's state,
identity and kind, the answers that each kind allows (``ANSWER_KINDS``), the
timeline events, and the look-up of the requester's identifiers and contacts.
"""

from django.db.models import Q
from django.utils.translation import gettext as _

from apps.contacts.models import Contact
from apps.core.dates import format_date
from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import normalize_email
from apps.core.identifiers import normalize_phone
from apps.imports.normalizers import email_is_generic
from apps.subject_requests.dates import today_local
from apps.subject_requests.models import RequestEvent
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.names import names_requester

Kind = SubjectRequest.Kind


class RequestError(Exception):
    """A request action that the request's state or input does not allow."""


def new_event(request: SubjectRequest, action: str, actor=None, **details):
    """Build an unsaved event of ``request``, without an anonymous ``actor``."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return RequestEvent(request=request, action=action, actor=actor, details=details)


def event_add(request: SubjectRequest, action: str, actor=None, **details):
    """Save a new event of ``request`` and return it."""
    event = new_event(request, action, actor, **details)
    event.save()
    return event


def rectified_identifier_hashes(contact_ids, *, emails=()) -> dict[str, str]:
    """Return the hashes, mapped to their kind, of the phones and generic
    addresses that rectifications replaced, of these contacts and of those
    holding one of ``emails``."""
    hashes: dict[str, str] = {}
    ids = set(contact_ids)
    if emails:
        holders = Contact.objects.filter(email__in=list(emails))
        ids.update(holders.values_list("pk", flat=True))
    if not ids:
        return hashes
    events = RequestEvent.objects.filter(
        action="rectified", details__contact_id__in=list(ids)
    ).values_list("details__replaced_hashes", flat=True)
    for replaced in events:
        hashes.update(replaced or {})
    return hashes


def notice_date_check(
    request: SubjectRequest,
    informed_on,
    informed_by: str,
    *,
    before_receipt: str,
    future: str,
    now=None,
) -> None:
    """Reject a notice to the person through an unknown channel, or dated
    before the receipt or in the future, with the caller's messages."""
    if informed_by not in SubjectRequest.Channel.values:
        raise RequestError(
            _("Unknown way of informing the person %(value)r; use one of %(choices)s.")
            % {
                "value": informed_by,
                "choices": ", ".join(SubjectRequest.Channel.values),
            }
        )
    if informed_on < request.received_on:
        raise RequestError(
            before_receipt
            % {
                "date": format_date(informed_on),
                "received": format_date(request.received_on),
            }
        )
    if informed_on > today_local(now):
        raise RequestError(future % {"date": format_date(informed_on)})


def require_open(request: SubjectRequest) -> None:
    if not request.is_open:
        raise RequestError(
            _("Request %(ref)s is %(status)s; reopen is not possible, file a new one.")
            % {"ref": request.reference, "status": request.get_status_display()}
        )


def require_verified(request: SubjectRequest) -> None:
    require_open(request)
    if request.identity_status != SubjectRequest.IdentityStatus.VERIFIED:
        raise RequestError(
            _(
                "The requester's identity for %(ref)s is not verified; verify it "
                "before disclosing or changing any data."
            )
            % {"ref": request.reference}
        )


# The request kinds that each answer serves. The portability data is part of
# what an access request discloses, so it serves both.
ANSWER_KINDS = {
    "access_package": {Kind.ACCESS},
    "portability": {Kind.PORTABILITY, Kind.ACCESS},
    "rectify": {Kind.RECTIFICATION},
    "restrict": {Kind.RESTRICTION},
    "object": {Kind.OBJECTION},
    "erase": {Kind.ERASURE},
}


def request_answers(request: SubjectRequest) -> set[str]:
    """Return the names of the actions (``ANSWER_KINDS``) still open to the request.

    An erasure is offered once, because ``request_erase`` rejects a second one.
    """
    answers = {
        answer for answer, kinds in ANSWER_KINDS.items() if request.kind in kinds
    }
    if "erase" in answers and request.erasure_proofs.exists():
        answers.discard("erase")
    return answers


def require_kind(request: SubjectRequest, answer: str) -> None:
    kinds = ANSWER_KINDS[answer]
    if request.kind in kinds:
        return
    raise RequestError(
        _(
            "Request %(ref)s is a request of kind “%(kind)s”, and this answer "
            "needs one of kind %(kinds)s. Record a request of that kind for the "
            "person."
        )
        % {
            "ref": request.reference,
            "kind": request.get_kind_display(),
            "kinds": ", ".join(f"“{Kind(kind).label}”" for kind in sorted(kinds)),
        }
    )


def identifiers_normalized(*, email: str, phone: str) -> tuple[str, str]:
    try:
        email = normalize_email(email) if email.strip() else ""
        phone = normalize_phone(phone) if phone.strip() else ""
    except InvalidIdentifier as error:
        raise RequestError(str(error)) from error
    return email, phone


def identifiers_of(request: SubjectRequest, contacts) -> tuple[set, set]:
    """Return the e-mails and phones of the requester and ``(email, phone)`` pairs."""
    emails = {email for email, _phone in contacts if email}
    phones = {phone for _email, phone in contacts if phone}
    if request.requester_email:
        emails.add(request.requester_email)
    if request.requester_phone:
        phones.add(request.requester_phone)
    return emails, phones


def requester_contacts(request: SubjectRequest):
    """Return the linked contacts and those holding the requester's identifiers.

    As in an erasure, a generic address or the phone finds only contacts
    whose name is the requester's (``shared_identifier_contact_ids``).
    """
    ids = set(request.contacts.values_list("pk", flat=True))
    email = request.requester_email
    if email and not email_is_generic(email):
        ids.update(Contact.objects.filter(email=email).values_list("pk", flat=True))
    ids.update(
        shared_identifier_contact_ids(
            request,
            emails=[email] if email else [],
            phones=[request.requester_phone] if request.requester_phone else [],
        )
    )
    return Contact.objects.filter(pk__in=ids).order_by("pk")


def personal_emails(emails) -> list[str]:
    """Return the addresses of ``emails`` that are not generic (contact@, info@)."""
    return [email for email in emails if email and not email_is_generic(email)]


def shared_identifier_contact_ids(request: SubjectRequest, *, emails, phones) -> set:
    """Return the contacts that the generic ``emails`` and the ``phones`` find.

    Colleagues share a company address (contact@, info@) and a switchboard
    number, so these find only contacts named like the requester, and a
    phone only those without an e-mail. They find no contact that the DPO set
    aside as someone else's and did not link since. Callers look up the
    contacts of a personal address themselves, because it finds them all.
    """
    ids = set(phone_contact_ids(request.requester_name, phones))
    generic = [email for email in emails if email and email_is_generic(email)]
    if generic:
        found = Contact.objects.filter(email__in=generic).values_list(
            "pk", "first_name", "last_name"
        )
        ids.update(
            pk
            for pk, first_name, last_name in found
            if names_requester(request.requester_name, f"{first_name} {last_name}")
        )
    if ids:
        linked = set(request.contacts.values_list("pk", flat=True))
        ids -= set_aside_contact_ids(request) - linked
    return ids


def shared_identifier_holders(*, contact_ids, emails, phones) -> int:
    """Count the other contacts that hold one of the generic ``emails`` or the
    ``phones``: an erasure or objection keeps them, but suppresses that e-mail
    or phone, so they can no longer be reached through it."""
    generic = [email for email in emails if email and email_is_generic(email)]
    condition = Q(email__in=generic) | Q(phone__in=[phone for phone in phones if phone])
    holders = Contact.objects.filter(condition).exclude(pk__in=list(contact_ids))
    return holders.exclude(status=Contact.Status.ANONYMISED).count()


def set_aside_contact_ids(request: SubjectRequest) -> set[int]:
    """Return the ids of the contacts set aside as someone else's or unlinked."""
    set_aside = set()
    for event in request.events.filter(
        action__in=["contacts_set_aside", "contact_unlinked"]
    ):
        set_aside.update(event.details.get("contact_ids", []))
        if "contact_id" in event.details:
            set_aside.add(event.details["contact_id"])
    return set_aside


def answered_contacts(request: SubjectRequest):
    """Return ``requester_contacts`` without those the DPO set aside.

    A contact set aside or unlinked is someone else's, so an access or
    portability package leaves it out and an objection leaves it alone,
    unless it was linked again since.
    """
    linked = set(request.contacts.values_list("pk", flat=True))
    return requester_contacts(request).exclude(
        pk__in=set_aside_contact_ids(request) - linked
    )


def phone_contact_ids(requester_name: str, phones) -> list[int]:
    """Return the contacts without an e-mail that ``phones`` find for the requester.

    Only those named like the requester count: a colleague who shares the
    switchboard number, or a contact without a name, must be linked by hand.
    """
    phones = [phone for phone in phones if phone]
    if not phones:
        return []
    found = Contact.objects.filter(phone__in=phones, email="").values_list(
        "pk", "first_name", "last_name"
    )
    return [
        pk
        for pk, first_name, last_name in found
        if names_requester(requester_name, f"{first_name} {last_name}")
    ]
