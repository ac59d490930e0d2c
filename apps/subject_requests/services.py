"""Business rules of subject-rights requests: every action of the DPO.

Each service validates its input, writes the change, adds a step to the
request's timeline and an audit event (ids and counts, never personal data).
"""

import datetime
import logging
from collections import Counter
from collections.abc import Collection

from django.db import transaction
from django.db.models import Exists
from django.db.models import OuterRef
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.contacts.locks import contacts_write_lock_reading
from apps.contacts.models import Contact
from apps.contacts.personal_data import person_erase
from apps.contacts.suppression import suppression_add
from apps.core.audit import audit_event
from apps.core.audit import audit_record
from apps.core.audit import audit_record_with
from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import normalize_email
from apps.core.identifiers import normalize_phone
from apps.core.personal_data import personal_data_erase
from apps.core.personal_data import personal_data_find
from apps.core.personal_data import personal_data_sources
from apps.subject_requests import package
from apps.subject_requests.dates import GDPR_APPLIES_FROM
from apps.subject_requests.dates import MAX_EXTENSION_MONTHS
from apps.subject_requests.dates import due_date
from apps.subject_requests.dates import local_date
from apps.subject_requests.dates import today_local
from apps.subject_requests.erasure import SuppressionTally
from apps.subject_requests.erasure import search_after_erasure
from apps.subject_requests.labels import format_date
from apps.subject_requests.labels import format_datetime
from apps.subject_requests.models import ErasureProof
from apps.subject_requests.models import RequestEvent
from apps.subject_requests.models import SubjectRequest

logger = logging.getLogger(__name__)

Status = SubjectRequest.Status
Kind = SubjectRequest.Kind

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


class RequestError(Exception):
    """A request action that the request's state or input does not allow."""


def _new_event(request: SubjectRequest, action: str, actor=None, **details):
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return RequestEvent(request=request, action=action, actor=actor, details=details)


def _event(request: SubjectRequest, action: str, actor=None, **details):
    event = _new_event(request, action, actor, **details)
    event.save()
    return event


def _require_open(request: SubjectRequest) -> None:
    if not request.is_open:
        raise RequestError(
            _("Request %(ref)s is %(status)s; reopen is not possible, file a new one.")
            % {"ref": request.reference, "status": request.get_status_display()}
        )


def _require_verified(request: SubjectRequest) -> None:
    _require_open(request)
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


def _require_kind(request: SubjectRequest, answer: str) -> None:
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


def _normalized_identifiers(*, email: str, phone: str) -> tuple[str, str]:
    try:
        email = normalize_email(email) if email.strip() else ""
        phone = normalize_phone(phone) if phone.strip() else ""
    except InvalidIdentifier as error:
        raise RequestError(str(error)) from error
    return email, phone


def receipt_time_check(received_at: datetime.datetime) -> None:
    """Raise ``RequestError`` for a receipt time that is naive, in the future or
    before the GDPR applied.
    """
    if timezone.is_naive(received_at):
        raise RequestError(
            _("received_at=%(value)s has no time zone; pass an aware datetime.")
            % {"value": received_at.isoformat()}
        )
    if received_at > timezone.now() + datetime.timedelta(minutes=5):
        raise RequestError(
            _("The receipt time %(value)s is in the future; enter when it arrived.")
            % {"value": format_datetime(received_at)}
        )
    if local_date(received_at) < GDPR_APPLIES_FROM:
        # A deadline cannot run from an earlier receipt: such a date is a
        # typing error (1900 for 2025).
        raise RequestError(
            _(
                "The receipt time %(value)s is before %(start)s, when the GDPR "
                "began to apply. Enter when the request arrived."
            )
            % {
                "value": format_datetime(received_at),
                "start": format_date(GDPR_APPLIES_FROM),
            }
        )


def request_create(
    *,
    kind: str,
    channel: str,
    requester_name: str,
    received_at: datetime.datetime,
    requester_email: str = "",
    requester_phone: str = "",
    requester_address: str = "",
    notes: str = "",
    handler=None,
) -> SubjectRequest:
    """Record a new request and compute its due date from the receipt date."""
    receipt_time_check(received_at)
    email, phone = _normalized_identifiers(email=requester_email, phone=requester_phone)
    if not (email or phone or requester_address.strip()):
        raise RequestError(
            _(
                "Give at least one way to answer the requester: e-mail, phone "
                "or postal address."
            )
        )

    received_on = local_date(received_at)
    request = SubjectRequest(
        kind=kind,
        channel=channel,
        requester_name=requester_name.strip(),
        requester_email=email,
        requester_phone=phone,
        requester_address=requester_address.strip(),
        received_at=received_at,
        received_on=received_on,
        initial_due_on=due_date(received_on),
        due_on=due_date(received_on),
        notes=notes,
        handler=handler if getattr(handler, "is_authenticated", False) else None,
    )
    request.full_clean()
    with transaction.atomic():
        request.save()
        _event(request, "created", handler, kind=kind, channel=channel)
        audit_record(
            action="subject_requests.request.created",
            actor=handler,
            target=request,
            details={"kind": kind, "channel": channel},
        )
    logger.info("subject request %s created kind=%s", request.pk, kind)
    return request


def request_verify_identity(
    *, request: SubjectRequest, verified: bool, method: str, actor
) -> SubjectRequest:
    """Record the identity check; a verified request moves to in progress."""
    _require_open(request)
    method = method.strip()
    if not method:
        raise RequestError(
            _("Describe how the identity was checked (for example: ID card copy).")
        )

    request.identity_status = (
        SubjectRequest.IdentityStatus.VERIFIED
        if verified
        else SubjectRequest.IdentityStatus.FAILED
    )
    request.identity_method = method
    request.identity_checked_at = timezone.now()
    if verified and request.status == Status.RECEIVED:
        request.status = Status.IN_PROGRESS
    if request.handler is None and getattr(actor, "is_authenticated", False):
        request.handler = actor
    with transaction.atomic():
        request.save()
        _event(request, "identity_checked", actor, verified=verified)
        audit_record(
            action="subject_requests.identity.checked",
            actor=actor,
            target=request,
            details={"verified": verified},
        )
    return request


def request_extend(
    *,
    request: SubjectRequest,
    months: int,
    reason: str,
    actor,
    now: datetime.datetime | None = None,
) -> SubjectRequest:
    """Extend the deadline by ``months`` more, at most two months in total.

    GDPR Art. 12(3) requires informing the person of the extension and its
    reasons within one month of receipt, so the initial due date must not have
    passed.
    """
    _require_open(request)
    reason = reason.strip()
    if not reason:
        raise RequestError(
            _("Give the reason for the extension (complexity or number of requests).")
        )
    total = request.extension_months + months
    if months < 1 or total > MAX_EXTENSION_MONTHS:
        raise RequestError(
            ngettext(
                "An extension of %(months)s month is not possible: the request "
                "is already extended by %(done)s and the total is capped at "
                "%(max)s months beyond the first.",
                "An extension of %(months)s months is not possible: the request "
                "is already extended by %(done)s and the total is capped at "
                "%(max)s months beyond the first.",
                months,
            )
            % {
                "months": months,
                "done": request.extension_months,
                "max": MAX_EXTENSION_MONTHS,
            }
        )
    if today_local(now) > request.initial_due_on:
        raise RequestError(
            _(
                "The first month ended on %(date)s; an extension must be decided "
                "and told to the person within it."
            )
            % {"date": format_date(request.initial_due_on)}
        )

    request.extension_months = total
    request.extension_reason = "\n".join(
        part for part in (request.extension_reason, reason) if part
    )
    request.extended_at = now or timezone.now()
    request.due_on = due_date(request.received_on, extension_months=total)
    request.overdue_flagged_at = None
    with transaction.atomic():
        request.save()
        _event(request, "extended", actor, months=months, due_on=str(request.due_on))
        audit_record(
            action="subject_requests.request.extended",
            actor=actor,
            target=request,
            details={"months": months, "due_on": str(request.due_on)},
        )
    return request


def request_search(*, request: SubjectRequest, actor) -> dict:
    """Search every personal-data source for the requester; store what matched.

    The stored result keeps kinds, ids and the field that matched, never the
    matched values, so a later erasure leaves nothing behind in it.
    """
    emails = [request.requester_email] if request.requester_email else []
    phones = [request.requester_phone] if request.requester_phone else []
    names = [request.requester_name] if request.requester_name else []
    matches = personal_data_find(emails=emails, phones=phones, names=names)
    matches = [
        match
        for match in matches
        if not (match.kind == "subject_request" and match.record_id == request.pk)
    ]

    result = {
        "searched_at": timezone.now().isoformat(),
        "sources": personal_data_sources(),
        "criteria": [
            kind
            for kind, values in (("email", emails), ("phone", phones), ("name", names))
            if values
        ],
        "matches": [
            {
                "kind": match.kind,
                "record_id": match.record_id,
                "matched_on": match.matched_on,
                "url": match.url,
            }
            for match in matches
        ],
    }
    request.last_search = result
    with transaction.atomic():
        request.save(update_fields=["last_search"])
        _event(request, "searched", actor, matches=len(matches))
        audit_record(
            action="subject_requests.person.searched",
            actor=actor,
            target=request,
            count=len(matches),
            details={"sources": result["sources"]},
        )
    return result


def request_link_contacts(
    *, request: SubjectRequest, contact_ids: list[int], actor
) -> int:
    """Link contacts to the request; return how many were newly linked."""
    _require_open(request)
    found = set(Contact.objects.filter(pk__in=contact_ids).values_list("pk", flat=True))
    missing = sorted(set(contact_ids) - found)
    if missing:
        raise RequestError(
            _("Contact ids %(ids)s were not found; run the search again.")
            % {"ids": ", ".join(str(pk) for pk in missing)}
        )
    already = set(request.contacts.values_list("pk", flat=True))
    new_ids = sorted(found - already)
    with transaction.atomic():
        request.contacts.add(*new_ids)
        _event(request, "contacts_linked", actor, contact_ids=new_ids)
        audit_record(
            action="subject_requests.contacts.linked",
            actor=actor,
            target=request,
            count=len(new_ids),
            details={"contact_ids": new_ids},
        )
    return len(new_ids)


def request_unlink_contact(*, request: SubjectRequest, contact_id: int, actor):
    _require_open(request)
    with transaction.atomic():
        request.contacts.remove(contact_id)
        _event(request, "contact_unlinked", actor, contact_id=contact_id)
        audit_record(
            action="subject_requests.contacts.unlinked",
            actor=actor,
            target=request,
            details={"contact_id": contact_id},
        )


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


def request_build_package(
    *,
    request: SubjectRequest,
    actor,
    portability: bool = False,
    actor_label: str = "",
    language: str = package.DEFAULT_LANGUAGE,
) -> bytes:
    """Build the access package (or the portability subset) as ZIP bytes.

    The package covers the linked contacts and those holding the requester's
    e-mail, or phone without an e-mail, so that a request answered before
    anyone linked a contact does not say that no data is held. It also covers
    the person's earlier requests, suppression entries and import rows (see
    ``package_sources``).
    ``language`` (``fr`` or ``en``) sets the language of the labels, texts
    and dates that people read. The JSON and CSV keys and their ISO dates do not
    change with it. The service returns the package and never stores it. Only
    the ``access_package`` command writes it, to the file its operator names.
    """
    if language not in package.LANGUAGES:
        raise RequestError(
            _("Package language %(value)s is not available; use %(choices)s.")
            % {"value": language, "choices": ", ".join(package.LANGUAGES)}
        )
    _require_verified(request)
    _require_kind(request, "portability" if portability else "access_package")
    contacts = _requester_contacts(request)
    with translation.override(language):
        content = package.package_content(request=request, contacts=contacts)
        data = package.package_zip(content, portability=portability)

    action = "portability" if portability else "access"
    disclosed = _package_disclosed(content)
    with transaction.atomic():
        _event(
            request, f"{action}_package_built", actor, **disclosed, language=language
        )
        audit_record(
            action=f"subject_requests.{action}_package.built",
            actor=actor,
            actor_label=actor_label,
            target=request,
            count=len(content["contacts"]),
            details={**disclosed, "language": language},
        )
    return data


def _package_disclosed(content: dict) -> dict:
    """Return the ids and counts of what a package discloses, never the data."""
    return {
        "contact_ids": [item["id"] for item in content["contacts"]],
        "request_references": [
            item["reference"] for item in content["earlier_requests"]
        ],
        "suppression_entries": len(content["suppression_list"]),
        "import_rows": len(content["import_rows"]),
    }


def request_rectify(
    *, request: SubjectRequest, contact_id: int, changes: dict, actor
) -> list[str]:
    """Apply the requested corrections to one linked contact.

    Returns the names of the fields that changed. The timeline records those
    names, not the old or new values.
    """
    _require_verified(request)
    _require_kind(request, "rectify")
    contact = request.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise RequestError(
            _("Contact #%(id)s is not linked to %(ref)s; link it first.")
            % {"id": contact_id, "ref": request.reference}
        )
    unknown = sorted(set(changes) - set(RECTIFIABLE_FIELDS))
    if unknown:
        raise RequestError(
            _("Fields %(fields)s cannot be rectified; allowed: %(allowed)s.")
            % {"fields": ", ".join(unknown), "allowed": ", ".join(RECTIFIABLE_FIELDS)}
        )
    changes = dict(changes)
    email, phone = _normalized_identifiers(
        email=changes.get("email", contact.email) or "",
        phone=changes.get("phone", contact.phone) or "",
    )
    if "email" in changes:
        changes["email"] = email
    if "phone" in changes:
        changes["phone"] = phone

    changed = [
        field for field, value in changes.items() if getattr(contact, field) != value
    ]
    for field in changed:
        setattr(contact, field, changes[field])
    contact.full_clean()
    with transaction.atomic():
        contact.save()
        _event(request, "rectified", actor, contact_id=contact.pk, fields=changed)
        audit_record(
            action="subject_requests.contact.rectified",
            actor=actor,
            target=contact,
            details={"request_id": request.pk, "fields": changed},
        )
    return changed


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
    _require_verified(request)
    _require_kind(request, "restrict")
    return _linked_contacts_transition(
        request=request,
        actor=actor,
        from_status=Contact.Status.ACTIVE,
        to_status=Contact.Status.RESTRICTED,
        event="restricted",
    )


def request_lift_restriction(*, request: SubjectRequest, actor) -> int:
    _require_open(request)
    _require_kind(request, "restrict")
    return _linked_contacts_transition(
        request=request,
        actor=actor,
        from_status=Contact.Status.RESTRICTED,
        to_status=Contact.Status.ACTIVE,
        event="restriction_lifted",
    )


def _linked_contacts_transition(
    *, request: SubjectRequest, actor, from_status, to_status, event: str
) -> int:
    """Move the linked contacts in ``from_status`` to ``to_status`` and record it."""
    contacts = _require_linked(request)
    with transaction.atomic():
        ids = _set_status(
            request, contacts, from_statuses=[from_status], to_status=to_status
        )
        _event(request, event, actor, contact_ids=ids)
        audit_record(
            action=f"subject_requests.contacts.{event}",
            actor=actor,
            target=request,
            count=len(ids),
            details={"contact_ids": ids},
        )
    return len(ids)


def _identifiers_of(request: SubjectRequest, contacts) -> tuple[set, set]:
    """Return the e-mails and phones of the requester and ``(email, phone)`` pairs."""
    emails = {email for email, _phone in contacts if email}
    phones = {phone for _email, phone in contacts if phone}
    if request.requester_email:
        emails.add(request.requester_email)
    if request.requester_phone:
        phones.add(request.requester_phone)
    return emails, phones


def _requester_contacts(request: SubjectRequest):
    """Return the linked contacts and those holding the requester's identifiers.

    As in an erasure, the phone finds only contacts without an e-mail, because
    colleagues often share a switchboard number. The ids come from a union of
    indexed reads, for the reason given in ``_erased_contacts``.
    """
    queries = [request.contacts.values_list("pk", flat=True)]
    if request.requester_email:
        queries.append(
            Contact.objects.filter(email=request.requester_email).values_list(
                "pk", flat=True
            )
        )
    if request.requester_phone:
        queries.append(
            Contact.objects.filter(phone=request.requester_phone, email="").values_list(
                "pk", flat=True
            )
        )
    ids = list(queries[0].union(*queries[1:]))
    return Contact.objects.filter(pk__in=ids).order_by("pk")


def request_object(*, request: SubjectRequest, actor) -> int:
    """Grant an objection to prospecting (Art. 21(2)-(3)): it is always granted.

    The linked contacts and the contacts holding the requester's e-mail or
    phone are marked objected, and every identifier of the requester and of
    those contacts goes on the suppression list. A received request moves to
    in progress. No identity check is required because the objection
    discloses nothing and only stops prospecting, which the person must be
    able to do simply (CPCE L.34-5).
    """
    _require_open(request)
    _require_kind(request, "object")
    contacts = list(_requester_contacts(request))
    emails, phones = _identifiers_of(request, [(c.email, c.phone) for c in contacts])
    if request.status == Status.RECEIVED:
        request.status = Status.IN_PROGRESS
    with transaction.atomic():
        request.save(update_fields=["status"])
        added = suppression_add(
            reason="objected", emails=emails, phones=phones, actor=actor
        )
        ids = _set_status(
            request,
            contacts,
            from_statuses=[Contact.Status.ACTIVE, Contact.Status.RESTRICTED],
            to_status=Contact.Status.OBJECTED,
        )
        _event(request, "objected", actor, contact_ids=ids, suppression_added=added)
        audit_record(
            action="subject_requests.contacts.objected",
            actor=actor,
            target=request,
            count=len(ids),
            details={"contact_ids": ids, "suppression_added": added},
        )
    return len(ids)


def _erased_contacts(request: SubjectRequest, extra_contact_ids):
    """Return the ids, e-mails and phones of the contacts that an erasure targets.

    A union of two indexed reads, because one query with ``OR`` across the
    request's links would read the whole contacts table.
    """
    fields = ("pk", "email", "phone")
    linked = request.contacts.values_list(*fields)
    if not extra_contact_ids:
        return linked
    extra = Contact.objects.filter(pk__in=list(extra_contact_ids)).values_list(*fields)
    return linked.union(extra)


def _claim_erasure(request: SubjectRequest) -> None:
    """Claim the request for this erasure, or raise if an erasure already ran.

    The conditional UPDATE changes no row once the request has a proof of
    erasure, because a second erasure would find nothing and write an empty
    proof. It also drops the stored search's matches, which the erasure
    deletes, and keeps when and how the person was searched.
    """
    search = search_after_erasure(request.last_search)
    claimed = (
        SubjectRequest.objects.filter(pk=request.pk)
        .filter(~Exists(ErasureProof.objects.filter(request=OuterRef("pk"))))
        .update(last_search=search)
    )
    if not claimed:
        proof = request.erasure_proofs.order_by("erased_at").first()
        raise RequestError(
            _(
                "Request %(ref)s was already erased on %(date)s (proof of erasure "
                "#%(proof)s), so a second erasure would find nothing. Close the "
                "request, or record a new erasure request if the person's data "
                "came back."
            )
            % {
                "ref": request.reference,
                "date": format_datetime(proof.erased_at) if proof else "-",
                "proof": proof.pk if proof else "-",
            }
        )
    request.last_search = search


def request_erase(
    *,
    request: SubjectRequest,
    actor=None,
    actor_label: str = "",
    extra_emails: Collection[str] = (),
    extra_phones: Collection[str] = (),
    extra_contact_ids: Collection[int] = (),
) -> ErasureProof:
    """Erase the person in one transaction and return the proof of erasure.

    Every app's eraser removes what derives from the linked contacts, the
    ``extra_contact_ids`` and the identifiers. A caller that has already looked
    up the contacts passes them as ``extra_contact_ids`` instead of linking
    them first, which saves the link's writes that the erasure would delete
    at once.
    The identifiers go on the suppression list, so a later import skips them.
    The request keeps the requester's identity as the proof of the response
    (GDPR Art. 5(2) accountability) until the retention job purges it. Only its
    links to the erased contacts disappear. A request is erased once: a second
    call raises ``RequestError``.
    """
    _require_verified(request)
    if request.kind != Kind.ERASURE:
        raise RequestError(
            _(
                "Request %(ref)s is a %(kind)s request; erasure needs an "
                "erasure request."
            )
            % {"ref": request.reference, "kind": request.get_kind_display()}
        )
    if not (
        extra_emails
        or extra_phones
        or extra_contact_ids
        or request.requester_email
        or request.requester_phone
        or request.contacts.exists()
    ):
        raise RequestError(
            _(
                "Request %(ref)s names no e-mail or phone and has no linked "
                "contact, so the erasure would find nothing. Search the sources, "
                "link the person's contacts, then erase."
            )
            % {"ref": request.reference}
        )
    extra_pairs = [
        _normalized_identifiers(email=value, phone="") for value in extra_emails
    ]
    extra_pairs += [
        _normalized_identifiers(email="", phone=value) for value in extra_phones
    ]
    with transaction.atomic():
        linked = contacts_write_lock_reading(
            _erased_contacts(request, extra_contact_ids)
        )
        # On PostgreSQL the lock makes erasures wait for each other, so this
        # statement reads the proof of an erasure of the same request that
        # committed meanwhile. SQLite runs one writer at a time.
        _claim_erasure(request)
        emails, phones = _identifiers_of(
            request, [(email, phone) for _pk, email, phone in linked] + extra_pairs
        )
        contact_ids = sorted({pk for pk, _email, _phone in linked})
        tally = SuppressionTally(contact_ids=contact_ids, emails=emails, phones=phones)
        erased = person_erase(
            contact_ids=contact_ids,
            emails=emails,
            phones=phones,
            reason="erased",
            actor=actor,
            lock_held=True,
        )
        counts = Counter(erased.counts)
        counts.update(
            personal_data_erase(
                contact_ids=contact_ids,
                emails=emails,
                phones=phones,
                skip_apps={"contacts"},
            )
        )
        counts = {kind: count for kind, count in counts.items() if count}
        proof = ErasureProof.objects.create(
            request=request,
            erased_by=actor if getattr(actor, "is_authenticated", False) else None,
            erased_by_label=actor_label,
            record_counts=counts,
            suppression_kinds=tally.identifier_kinds(),
            suppression_counts=tally.added_by_kind(erased.suppression_added),
            suppression_added=erased.suppression_added,
        )
        audit_record_with(
            audit_event(
                action="subject_requests.person.erased",
                actor=actor,
                actor_label=actor_label,
                target=request,
                count=sum(counts.values()),
                details={"proof_id": proof.pk, "counts": counts},
            ),
            _new_event(
                request,
                "erased",
                actor,
                proof_id=proof.pk,
                contact_ids=contact_ids,
                counts=counts,
            ),
        )
    logger.info(
        "subject request %s erased %d records", request.pk, sum(counts.values())
    )
    return proof


def request_close(
    *,
    request: SubjectRequest,
    actor,
    response_sent_at: datetime.datetime | None = None,
) -> SubjectRequest:
    """Close a request once the response is sent.

    Every kind but an objection needs a verified identity, because its
    response discloses or changes data. An objection is granted without an identity
    check (see ``request_object``), so it closes without one too, but only
    once granted: closing it untouched would leave the person contactable.
    """
    if request.kind == Kind.OBJECTION:
        _require_open(request)
        _require_objection_granted(request)
    else:
        _require_verified(request)
    now = timezone.now()
    request.status = Status.CLOSED
    request.response_sent_at = response_sent_at or now
    request.closed_at = now
    with transaction.atomic():
        request.save()
        _event(request, "closed", actor)
        audit_record(
            action="subject_requests.request.closed", actor=actor, target=request
        )
    return request


def _require_objection_granted(request: SubjectRequest) -> None:
    if not request.events.filter(action="objected").exists():
        raise RequestError(
            _(
                "The objection %(ref)s is not granted yet: grant it, which stops "
                "every message to the person, then close the request. Refuse it "
                "with a reason if it cannot be granted."
            )
            % {"ref": request.reference}
        )


def request_refuse(*, request: SubjectRequest, reason: str, actor) -> SubjectRequest:
    """Refuse a request (identity not proven, manifestly unfounded or excessive)."""
    _require_open(request)
    reason = reason.strip()
    if not reason:
        raise RequestError(
            _("Give the reason for the refusal; the person must be told it.")
        )
    now = timezone.now()
    request.status = Status.REFUSED
    request.refusal_reason = reason
    request.closed_at = now
    request.response_sent_at = request.response_sent_at or now
    with transaction.atomic():
        request.save()
        _event(request, "refused", actor)
        audit_record(
            action="subject_requests.request.refused", actor=actor, target=request
        )
    return request


def request_purge_closed(*, closed_before: datetime.datetime) -> int:
    """Delete requests closed or refused before the cutoff, with their events.

    The retention job calls this with the register's rule for closed requests
    (5 years by default). Returns how many requests were deleted.
    """
    if timezone.is_naive(closed_before):
        raise RequestError(
            _("closed_before=%(value)s has no time zone; pass an aware datetime.")
            % {"value": closed_before.isoformat()}
        )
    requests = SubjectRequest.objects.filter(
        status__in=[Status.CLOSED, Status.REFUSED], closed_at__lt=closed_before
    )
    with transaction.atomic():
        ids = list(requests.values_list("pk", flat=True))
        if not ids:
            return 0
        SubjectRequest.objects.filter(pk__in=ids).delete()
        audit_record(
            action="subject_requests.request.purged",
            actor_label="retention",
            target_type="subject_requests.subjectrequest",
            count=len(ids),
            details={"closed_before": closed_before.isoformat(), "request_ids": ids},
        )
    logger.info("purged %d closed subject requests", len(ids))
    return len(ids)
