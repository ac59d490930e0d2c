"""Service for the right to erasure (GDPR Art. 17).

``request_erase`` erases the person from every app in one transaction, puts
the identifiers on the suppression list and writes the proof of erasure.
``apps.subject_requests.erasure`` contains the helpers for that proof.
"""

import logging
from collections import Counter
from collections.abc import Collection

from django.db import transaction
from django.db.models import Exists
from django.db.models import OuterRef
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.contacts.locks import contacts_write_lock_reading
from apps.contacts.models import Contact
from apps.contacts.personal_data import person_erase
from apps.core.audit import audit_event
from apps.core.audit import audit_record_with
from apps.core.dates import format_datetime
from apps.core.personal_data import personal_data_erase
from apps.subject_requests.erasure import SuppressionTally
from apps.subject_requests.erasure import search_after_erasure
from apps.subject_requests.erasure import search_without_contacts
from apps.subject_requests.models import ErasureProof
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.names import requesters_named_alike
from apps.subject_requests.services.common import RequestError
from apps.subject_requests.services.common import identifiers_normalized
from apps.subject_requests.services.common import identifiers_of
from apps.subject_requests.services.common import new_event
from apps.subject_requests.services.common import personal_emails
from apps.subject_requests.services.common import rectified_identifier_hashes
from apps.subject_requests.services.common import require_verified
from apps.subject_requests.services.common import shared_identifier_contact_ids
from apps.subject_requests.services.common import shared_identifier_holders

logger = logging.getLogger(__name__)

Kind = SubjectRequest.Kind

# Kinds whose answer shows the person's data: an erasure before the answer
# would leave it nothing to show.
DATA_ANSWER_KINDS = (Kind.ACCESS, Kind.PORTABILITY)


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


def _erasure_targets(request: SubjectRequest, linked, extra_pairs=()):
    """Return the contact ids, e-mails and phones that an erasure removes.

    ``linked`` contains ``(pk, email, phone)`` of the linked and extra contacts.
    Their identifiers and the requester's find more contacts: generic ones by
    the rules of ``shared_identifier_contact_ids``. The ids leave out the
    contacts that hold a personal address, which the erasure's statement
    selects by the address.
    """
    linked = list(linked)
    emails, phones = identifiers_of(
        request, [(email, phone) for _pk, email, phone in linked] + list(extra_pairs)
    )
    contact_ids = sorted(
        {pk for pk, _email, _phone in linked}
        | shared_identifier_contact_ids(request, emails=emails, phones=phones)
    )
    return contact_ids, emails, phones


def erasure_contacts(request: SubjectRequest):
    """Return the contacts that erasing the request would delete now."""
    contact_ids, emails, _phones = _erasure_targets(
        request, _erased_contacts(request, ())
    )
    holding = Contact.objects.filter(email__in=personal_emails(emails))
    return Contact.objects.filter(pk__in=contact_ids).union(holding).order_by("pk")


def erasure_shared_holders(request: SubjectRequest) -> int:
    """Count the contacts that the erasure keeps but whose shared e-mail or
    phone it suppresses (``shared_identifier_holders``)."""
    contact_ids, emails, phones = _erasure_targets(
        request, _erased_contacts(request, ())
    )
    erased = set(contact_ids) | set(
        Contact.objects.filter(email__in=personal_emails(emails)).values_list(
            "pk", flat=True
        )
    )
    return shared_identifier_holders(contact_ids=erased, emails=emails, phones=phones)


def _other_open_links(request: SubjectRequest, contact_ids, emails, phones) -> dict:
    """Return the other open requests that share the erased contacts or
    identifiers, each with the ids of its contacts that the erasure deletes.

    Their stored searches lose the erased contacts, and ``_persons_requests``
    returns those that are the person's own.
    """
    others = (
        SubjectRequest.objects.filter(status__in=SubjectRequest.OPEN_STATUSES)
        .filter(
            Q(contacts__in=contact_ids)
            | Q(requester_email__in=emails)
            | Q(requester_email="", requester_phone__in=phones)
        )
        .exclude(pk=request.pk)
        .distinct()
        .order_by("pk")
    )
    links = {other: [] for other in others}
    if not links:
        return links
    through = SubjectRequest.contacts.through.objects.filter(
        subjectrequest__in=list(links), contact_id__in=contact_ids
    ).order_by("contact_id")
    by_pk = {other.pk: other for other in links}
    for subjectrequest_id, contact_id in through.values_list(
        "subjectrequest_id", "contact_id"
    ):
        links[by_pk[subjectrequest_id]].append(contact_id)
    return links


def _persons_requests(request: SubjectRequest, links: dict, emails) -> dict:
    """Return the requests of ``links`` that are the person's.

    A request concerns the person when it links one of the contacts, was
    made from one of their personal e-mail addresses, or gives no e-mail and
    one of the phones. A request made from a generic address (contact@,
    info@) concerns them only if it names them, because colleagues share such
    a mailbox. A request with its own e-mail and a shared phone is someone
    else's.
    """
    personal = set(personal_emails(emails))
    return {
        other: linked
        for other, linked in links.items()
        if linked
        or not other.requester_email
        or other.requester_email in personal
        or requesters_named_alike(request.requester_name, other.requester_name)
    }


def _other_searches_update(others, contact_ids) -> None:
    """Drop the erased contacts from the stored searches of ``others``."""
    for other in others:
        search = search_without_contacts(other.last_search, contact_ids)
        if search is not other.last_search:
            other.last_search = search
            other.save(update_fields=["last_search"])


def _pending_answers_check(request: SubjectRequest, others, persons) -> None:
    """Raise while an open access or portability request waits, whose answer
    the erasure would change.

    ``persons`` are the person's own requests. The others came from the same
    shared address or phone: the erasure deletes the files and suppresses the
    identifiers that their answers must show, so they wait too, and the
    message says they may be a colleague's.
    """
    waiting = [other for other in others if other.kind in DATA_ANSWER_KINDS]
    if not waiting:
        return
    own = [other for other in waiting if other in persons]
    shared = [other for other in waiting if other not in persons]
    if own:
        message = _(
            "The person also has the open request %(refs)s, whose answer must "
            "show the data held when it was received. Answer and close it "
            "first, then erase under %(ref)s."
        )
    else:
        message = _(
            "The open request %(refs)s came from the same shared address or "
            "phone, maybe from a colleague. Its answer must show the data held "
            "when it was received, which this erasure would change: answer and "
            "close it first, then erase under %(ref)s."
        )
    raise RequestError(
        message
        % {
            "refs": ", ".join(
                f"{other.reference} ({other.get_kind_display()})"
                for other in own or shared
            ),
            "ref": request.reference,
        }
    )


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
    at once. The identifiers find more contacts, except that a generic
    address or a phone finds only contacts named like the requester and none
    that the DPO set aside (``shared_identifier_contact_ids``).
    The identifiers go on the suppression list, so a later import skips them.
    The request keeps the requester's identity as the proof of the response
    (GDPR Art. 5(2) accountability) until the retention job purges it. Only its
    links to the erased contacts disappear. A request is erased once: a second
    call raises ``RequestError``.
    """
    require_verified(request)
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
        identifiers_normalized(email=value, phone="") for value in extra_emails
    ]
    extra_pairs += [
        identifiers_normalized(email="", phone=value) for value in extra_phones
    ]
    with transaction.atomic():
        linked = contacts_write_lock_reading(
            _erased_contacts(request, extra_contact_ids)
        )
        # On PostgreSQL the lock makes erasures wait for each other, so this
        # statement reads the proof of an erasure of the same request that
        # committed meanwhile. SQLite runs one writer at a time.
        _claim_erasure(request)
        contact_ids, emails, phones = _erasure_targets(request, linked, extra_pairs)
        others = _other_open_links(request, contact_ids, emails, phones)
        _pending_answers_check(
            request, others, _persons_requests(request, others, emails)
        )
        replaced = rectified_identifier_hashes(
            contact_ids, emails=personal_emails(emails)
        )
        tally = SuppressionTally(
            contact_ids=contact_ids,
            emails=emails,
            phones=phones,
            replaced_hashes=replaced,
        )
        erased = person_erase(
            contact_ids=contact_ids,
            emails=emails,
            phones=phones,
            reason="erased",
            actor=actor,
            lock_held=True,
            phones_select_contacts=False,
            contact_emails=personal_emails(emails),
            replaced_hashes=replaced,
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
        _other_searches_update(others, contact_ids)
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
            new_event(
                request,
                "erased",
                actor,
                proof_id=proof.pk,
                contact_ids=contact_ids,
                counts=counts,
            ),
            *(
                new_event(
                    other,
                    "contacts_erased",
                    actor,
                    request_reference=request.reference,
                    contact_ids=erased_ids,
                )
                for other, erased_ids in others.items()
                if erased_ids
            ),
        )
    logger.info(
        "subject request %s erased %d records", request.pk, sum(counts.values())
    )
    return proof
