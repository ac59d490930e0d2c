"""Services that find the requester's data and link contacts to a request.

A search covers every personal-data source and stores what matched, without
the matched values. The DPO then links the requester's contacts, which the
services for each right act on, and sets aside those that belong to someone
else, so that the decision is on record.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.contacts.models import Contact
from apps.core.audit import audit_record
from apps.core.personal_data import personal_data_find
from apps.core.personal_data import personal_data_sources
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services.common import RequestError
from apps.subject_requests.services.common import event_add
from apps.subject_requests.services.common import require_open
from apps.subject_requests.services.common import set_aside_contact_ids


def request_search(*, request: SubjectRequest, actor) -> dict:
    """Search every personal-data source for the requester; store what matched.

    The stored result keeps kinds, ids and the field that matched, never the
    matched values, so a later erasure leaves nothing behind in it. A closed
    request keeps the search that its response relied on.
    """
    require_open(request)
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
        event_add(request, "searched", actor, matches=len(matches))
        audit_record(
            action="subject_requests.person.searched",
            actor=actor,
            target=request,
            count=len(matches),
            details={"sources": result["sources"]},
        )
    return result


def anonymised_contact_ids(*, contact_ids) -> set[int]:
    """Return the ids among ``contact_ids`` of contacts that were anonymised.

    An anonymised contact keeps no personal data, so linking it to a request
    would tie the remaining record to the requester's name again.
    """
    return set(
        Contact.objects.filter(
            pk__in=contact_ids, status=Contact.Status.ANONYMISED
        ).values_list("pk", flat=True)
    )


def request_link_contacts(
    *, request: SubjectRequest, contact_ids: list[int], actor
) -> int:
    """Link contacts to the request; return how many were newly linked.

    Raises ``RequestError`` when a contact is missing or was anonymised.
    """
    require_open(request)
    found = set(Contact.objects.filter(pk__in=contact_ids).values_list("pk", flat=True))
    missing = sorted(set(contact_ids) - found)
    if missing:
        raise RequestError(
            _("Contact ids %(ids)s were not found; run the search again.")
            % {"ids": ", ".join(str(pk) for pk in missing)}
        )
    anonymised = anonymised_contact_ids(contact_ids=found)
    if anonymised:
        raise RequestError(
            ngettext(
                "Contact %(ids)s was anonymised and keeps no personal data, so "
                "there is nothing to link. Leave it out.",
                "Contacts %(ids)s were anonymised and keep no personal data, so "
                "there is nothing to link. Leave them out.",
                len(anonymised),
            )
            % {"ids": ", ".join(f"#{pk}" for pk in sorted(anonymised))}
        )
    already = set(request.contacts.values_list("pk", flat=True))
    new_ids = sorted(found - already)
    with transaction.atomic():
        request.contacts.add(*new_ids)
        _contacts_decision_record(
            request,
            event="contacts_linked",
            action="subject_requests.contacts.linked",
            actor=actor,
            contact_ids=new_ids,
        )
    return len(new_ids)


def request_unlink_contact(*, request: SubjectRequest, contact_id: int, actor):
    """Unlink one contact from the request; raise if it is not linked."""
    require_open(request)
    if not request.contacts.filter(pk=contact_id).exists():
        raise RequestError(
            _("Contact #%(id)s is not linked to %(ref)s: there is nothing to unlink.")
            % {"id": contact_id, "ref": request.reference}
        )
    with transaction.atomic():
        request.contacts.remove(contact_id)
        event_add(request, "contact_unlinked", actor, contact_id=contact_id)
        audit_record(
            action="subject_requests.contacts.unlinked",
            actor=actor,
            target=request,
            details={"contact_id": contact_id},
        )


def request_set_aside_contacts(
    *, request: SubjectRequest, contact_ids: list[int], actor
) -> int:
    """Record that these contacts are not the requester's; return how many are new.

    A contact can share the requester's e-mail or phone and be someone else,
    such as a colleague on a shared switchboard number. Setting it aside
    records that decision, which closing the request then relies on.
    """
    require_open(request)
    linked = sorted(
        request.contacts.filter(pk__in=contact_ids).values_list("pk", flat=True)
    )
    if linked:
        raise RequestError(
            ngettext(
                "Contact %(ids)s is linked to %(ref)s: unlink it first if it is "
                "not the requester's.",
                "Contacts %(ids)s are linked to %(ref)s: unlink them first if "
                "they are not the requester's.",
                len(linked),
            )
            % {"ids": ", ".join(f"#{pk}" for pk in linked), "ref": request.reference}
        )
    ids = sorted(set(contact_ids) - set_aside_contact_ids(request))
    if not ids:
        return 0
    with transaction.atomic():
        _contacts_decision_record(
            request,
            event="contacts_set_aside",
            action="subject_requests.contacts.set_aside",
            actor=actor,
            contact_ids=ids,
        )
    return len(ids)


def _contacts_decision_record(
    request: SubjectRequest, *, event: str, action: str, actor, contact_ids: list[int]
) -> None:
    """Write a decision on contacts to the request's timeline and the audit trail."""
    event_add(request, event, actor, contact_ids=contact_ids)
    audit_record(
        action=action,
        actor=actor,
        target=request,
        count=len(contact_ids),
        details={"contact_ids": contact_ids},
    )
