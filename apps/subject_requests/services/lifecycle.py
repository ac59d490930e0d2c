"""Services for a request's life cycle, from receipt to purge.

They record a request and check its receipt time, record the identity check,
extend the deadline, close or refuse the request, and delete closed and
refused requests once the register's retention period ends.
"""

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.contacts.models import Contact
from apps.core.audit import audit_record
from apps.core.dates import format_date
from apps.core.dates import format_datetime
from apps.subject_requests.dates import GDPR_APPLIES_FROM
from apps.subject_requests.dates import MAX_EXTENSION_MONTHS
from apps.subject_requests.dates import due_date
from apps.subject_requests.dates import local_date
from apps.subject_requests.models import IdentityCheck
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services.common import RequestError
from apps.subject_requests.services.common import event_add
from apps.subject_requests.services.common import identifiers_normalized
from apps.subject_requests.services.common import notice_date_check
from apps.subject_requests.services.common import require_open
from apps.subject_requests.services.common import require_verified
from apps.subject_requests.services.common import set_aside_contact_ids

logger = logging.getLogger(__name__)

Status = SubjectRequest.Status
Kind = SubjectRequest.Kind


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
    email, phone = identifiers_normalized(email=requester_email, phone=requester_phone)
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
        event_add(request, "created", handler, kind=kind, channel=channel)
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
    require_open(request)
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
    user = actor if getattr(actor, "is_authenticated", False) else None
    if request.handler is None and user is not None:
        request.handler = user
    with transaction.atomic():
        request.save()
        IdentityCheck.objects.create(
            request=request,
            verified=verified,
            method=method,
            checked_at=request.identity_checked_at,
            checked_by=user,
        )
        event_add(request, "identity_checked", actor, verified=verified)
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
    informed_on: datetime.date,
    informed_by: str,
    actor,
    now: datetime.datetime | None = None,
) -> SubjectRequest:
    """Extend the deadline by ``months`` more, at most two months in total.

    GDPR Art. 12(3) requires informing the person of the extension and its
    reasons within one month of receipt, so ``informed_on`` must not be after
    the initial due date. The extension may be recorded later. ``informed_on``
    and ``informed_by`` record when and how the person was informed.
    """
    require_open(request)
    if request.kind == Kind.OBJECTION:
        # GDPR Art. 21(3): once the person objects to prospecting, their data
        # must no longer be processed for it, so there is nothing to delay.
        raise RequestError(
            _(
                "The objection %(ref)s cannot be extended: an objection to "
                "prospecting binds at once (GDPR Art. 21(3)). Grant it, then "
                "close the request."
            )
            % {"ref": request.reference}
        )
    reason = reason.strip()
    if not reason:
        raise RequestError(
            _("Give the reason for the extension (complexity or number of requests).")
        )
    total = request.extension_months + months
    if months < 1 or total > MAX_EXTENSION_MONTHS:
        raise RequestError(
            ngettext(
                "An extension of %(months)s month is not possible: %(done)s of "
                "the %(max)s months allowed beyond the first are already granted.",
                "An extension of %(months)s months is not possible: %(done)s of "
                "the %(max)s months allowed beyond the first are already granted.",
                months,
            )
            % {
                "months": months,
                "done": request.extension_months,
                "max": MAX_EXTENSION_MONTHS,
            }
        )
    _extension_notice_check(request, informed_on, informed_by, now)
    if informed_on > request.initial_due_on:
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
    request.extension_informed_on = informed_on
    request.extension_informed_by = informed_by
    request.due_on = due_date(request.received_on, extension_months=total)
    request.overdue_flagged_at = None
    details = {
        "months": months,
        "due_on": str(request.due_on),
        "informed_on": str(informed_on),
        "informed_by": informed_by,
    }
    with transaction.atomic():
        request.save()
        event_add(request, "extended", actor, **details)
        audit_record(
            action="subject_requests.request.extended",
            actor=actor,
            target=request,
            details=details,
        )
    return request


def _extension_notice_check(request, informed_on, informed_by, now) -> None:
    """Reject a notice dated before the receipt or in the future."""
    notice_date_check(
        request,
        informed_on,
        informed_by,
        before_receipt=_(
            "The person cannot have been informed of the extension on %(date)s, "
            "before the request was received on %(received)s."
        ),
        future=_(
            "The date the person was informed, %(date)s, is in the future; inform "
            "the person first, then record the extension."
        ),
        now=now,
    )


def request_close(
    *,
    request: SubjectRequest,
    actor,
    response_sent_at: datetime.datetime | None = None,
) -> SubjectRequest:
    """Close a request once it was carried out and the response is sent.

    Every kind but an objection needs a verified identity, because its
    response discloses or changes data. An objection is granted without an identity
    check (see ``request_object``), so it closes without one too, but only
    once granted: closing it untouched would leave the person contactable.
    The other kinds close only once carried out (``_require_carried_out``).
    A request that cannot be met is refused instead, with a reason.
    """
    if request.kind == Kind.OBJECTION:
        require_open(request)
        _require_objection_granted(request)
    else:
        require_verified(request)
    if request.kind == Kind.ERASURE:
        _require_erased(request)
    else:
        _require_carried_out(request)
    if request.kind in SEARCH_COVERED_KINDS:
        _require_every_contact_decided(request)
    now = timezone.now()
    response_time_check(request, response_sent_at, now)
    _answer_after_last_step_check(request, response_sent_at)
    request.status = Status.CLOSED
    request.response_sent_at = response_sent_at or now
    request.closed_at = now
    with transaction.atomic():
        request.save()
        event_add(request, "closed", actor)
        audit_record(
            action="subject_requests.request.closed", actor=actor, target=request
        )
    return request


def response_time_check(
    request: SubjectRequest,
    response_sent_at: datetime.datetime | None,
    now: datetime.datetime,
) -> None:
    """Raise ``RequestError`` for a response time in the future or before the
    request's receipt."""
    if response_sent_at is None:
        return
    if response_sent_at > now + RESPONSE_CLOCK_SKEW:
        raise RequestError(
            _(
                "The answer time %(when)s is in the future; enter when the answer "
                "was sent."
            )
            % {"when": format_datetime(response_sent_at)}
        )
    if response_sent_at < request.received_at:
        raise RequestError(
            _(
                "The answer time %(when)s is before the request was received, "
                "on %(received)s."
            )
            % {
                "when": format_datetime(response_sent_at),
                "received": format_datetime(request.received_at),
            }
        )


# The difference between the browser's clock and the server's that an answer
# time typed as "now" may carry.
RESPONSE_CLOCK_SKEW = datetime.timedelta(minutes=5)

# The timeline steps that a closing response reports, so it must come after them.
ANSWERED_STEPS = (
    "identity_checked",
    "access_package_built",
    "portability_package_built",
    "rectified",
    "rectification_not_needed",
    "restricted",
    "objected",
    "erased",
)


def _answer_after_last_step_check(
    request: SubjectRequest, response_sent_at: datetime.datetime | None
) -> None:
    """Raise ``RequestError`` for a response sent before the last step it
    reports, such as the package it sends or the erasure it confirms."""
    if response_sent_at is None:
        return
    last_step = (
        request.events.filter(action__in=ANSWERED_STEPS)
        .order_by("-occurred_at", "-pk")
        .first()
    )
    if last_step is None:
        return
    if response_sent_at < last_step.occurred_at - RESPONSE_CLOCK_SKEW:
        raise RequestError(
            _(
                "The answer time %(when)s is before the last step the answer "
                "reports, “%(step)s” on %(step_at)s: enter when the answer was "
                "sent, after that step."
            )
            % {
                "when": format_datetime(response_sent_at),
                "step": last_step.action_label,
                "step_at": format_datetime(last_step.occurred_at),
            }
        )


def _require_objection_granted(request: SubjectRequest) -> None:
    if not request.events.filter(action="objected").exists():
        raise RequestError(
            _(
                "The objection %(ref)s is not granted yet: grant it, which stops "
                "every message to the person, then close the request. An "
                "objection to prospecting is always granted (GDPR Art. 21(3)), "
                "so it cannot be refused."
            )
            % {"ref": request.reference}
        )


# The timeline event of the package built for each kind of request.
PACKAGE_EVENTS = {
    Kind.ACCESS: "access_package_built",
    Kind.PORTABILITY: "portability_package_built",
}


# Kinds whose response covers the linked contacts only, so a contact of the
# person that no search found would be left out. An erasure or an objection
# puts the identifiers on the suppression list, which keeps later imports out.
SEARCH_COVERED_KINDS = {
    Kind.ACCESS,
    Kind.PORTABILITY,
    Kind.RECTIFICATION,
    Kind.RESTRICTION,
}


def _require_every_contact_decided(request: SubjectRequest) -> None:
    """Raise when a contact with the requester's e-mail or phone has no decision.

    Each such contact must be linked, so that the response covers it, or set
    aside as someone else's (an unlinked contact counts as set aside). A search
    that found it is not a decision, because the response would silently leave
    it out.
    """
    identifiers = Q(pk__in=[])
    if request.requester_email:
        identifiers |= Q(email=request.requester_email)
    if request.requester_phone:
        identifiers |= Q(phone=request.requester_phone)
    undecided = sorted(
        Contact.objects.filter(identifiers)
        .exclude(pk__in=set_aside_contact_ids(request))
        .exclude(subject_requests=request)
        .values_list("pk", flat=True)
    )
    if undecided:
        raise RequestError(
            ngettext(
                "Contact %(ids)s holds the e-mail address or phone number of "
                "%(ref)s but is neither linked nor set aside: search the person "
                "again if it is not listed, then link it and answer for it, or "
                "set it aside if it is someone else's, and close the request.",
                "Contacts %(ids)s hold the e-mail address or phone number of "
                "%(ref)s but are neither linked nor set aside: search the person "
                "again if they are not listed, then link those that are theirs "
                "and answer for them, set the others aside, and close the "
                "request.",
                len(undecided),
            )
            % {
                "ids": ", ".join(f"#{pk}" for pk in undecided),
                "ref": request.reference,
            }
        )


def _require_carried_out(request: SubjectRequest) -> None:
    """Raise unless the request's right was exercised in full, or no data is held.

    An access or portability request needs a package built after the last
    change of its linked contacts. A rectification needs each linked contact
    rectified or recorded as accurate. A restriction needs every linked
    contact out of processing now. Those two also close when nothing is held.
    """
    if request.kind in PACKAGE_EVENTS:
        _require_package_current(request)
    elif request.kind == Kind.RECTIFICATION:
        _require_rectified(request)
    elif request.kind == Kind.RESTRICTION:
        _require_restricted(request)


def _require_package_current(request: SubjectRequest) -> None:
    last_package = (
        request.events.filter(action=PACKAGE_EVENTS[request.kind])
        .order_by("-pk")
        .first()
    )
    if last_package is None:
        messages = {
            Kind.ACCESS: _(
                "The access request %(ref)s has not been answered: build the "
                "access package and send it, then close the request."
            ),
            Kind.PORTABILITY: _(
                "The portability request %(ref)s has not been answered: build the "
                "portability data and send it, then close the request."
            ),
        }
        raise RequestError(messages[request.kind] % {"ref": request.reference})

    later_changes = request.events.filter(
        pk__gt=last_package.pk,
        action__in=["contacts_linked", "contact_unlinked", "contacts_set_aside"],
    )
    covered = set(last_package.details.get("contact_ids", []))
    if any(_changes_package(event, covered) for event in later_changes):
        raise RequestError(
            _(
                "The contacts linked to %(ref)s changed after the last package "
                "was built, so it does not cover them: build the package again "
                "and send it, then close the request."
            )
            % {"ref": request.reference}
        )


def _changes_package(event, covered: set[int]) -> bool:
    """Tell whether a link, unlink or set-aside changes what a package covered.

    ``covered`` contains the ids of the package's contacts. Linking a contact
    that it covered already, or setting aside one that it left out (a
    namesake found by the name alone), changes nothing.
    """
    if event.action == "contact_unlinked":
        return True
    contact_ids = set(event.details.get("contact_ids", []))
    if event.action == "contacts_linked":
        return bool(contact_ids - covered)
    return bool(contact_ids & covered)


def _require_rectified(request: SubjectRequest) -> None:
    linked = set(request.contacts.values_list("pk", flat=True))
    if not linked:
        if _nothing_held(request):
            return
        raise RequestError(
            _(
                "The rectification request %(ref)s has not been carried out: "
                "rectify the linked contacts, or search the person and find "
                "nothing held, then close the request. Refuse it with a reason "
                "if the data is accurate."
            )
            % {"ref": request.reference}
        )

    handled = set()
    events = request.events.filter(
        action__in=["rectified", "rectification_not_needed"]
    ).values_list("action", "details")
    for action, details in events:
        # Events from before unchanged rectifications were rejected can list
        # no field. Such an event rectified nothing.
        if action == "rectified" and not details.get("fields"):
            continue
        handled.add(details.get("contact_id"))
    pending = sorted(linked - handled)
    if pending:
        raise RequestError(
            _(
                "The rectification request %(ref)s has not been carried out for "
                "contacts %(ids)s: rectify each one, or record that its data is "
                "accurate and needs no change, then close the request."
            )
            % {
                "ref": request.reference,
                "ids": ", ".join(f"#{pk}" for pk in pending),
            }
        )


def _require_restricted(request: SubjectRequest) -> None:
    """Raise while a linked contact is active, or when none is linked and data is held.

    A contact that is unsubscribed, objected or anonymised counts as carried
    out, because it is already out of every export and campaign, and
    ``request_restrict`` moves active contacts only.
    """
    linked = request.contacts.exists()
    if not linked:
        if _nothing_held(request):
            return
        raise RequestError(
            _(
                "The restriction request %(ref)s has not been carried out: restrict "
                "the linked contacts, or search the person and find nothing held, "
                "then close the request. Refuse it with a reason if it cannot be "
                "granted."
            )
            % {"ref": request.reference}
        )

    active = sorted(
        request.contacts.filter(status=Contact.Status.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    if active:
        raise RequestError(
            _(
                "The restriction request %(ref)s has not been carried out: "
                "contacts %(ids)s are still active. Restrict processing, then "
                "close the request."
            )
            % {
                "ref": request.reference,
                "ids": ", ".join(f"#{pk}" for pk in active),
            }
        )


def _nothing_held(request: SubjectRequest) -> bool:
    """Return whether no contact is linked and the last search found none.

    Only contacts count, because only they can be rectified or restricted. A
    contact that matched on the name alone does not count either: the search
    page asks the DPO to check such a match, and one left unlinked is taken
    as a namesake.
    """
    if request.contacts.exists():
        return False
    search = request.last_search
    if not search.get("sources"):
        return False
    return not any(
        match["kind"] == "contact" and match.get("matched_on") != "name"
        for match in search.get("matches", [])
    )


def _require_erased(request: SubjectRequest) -> None:
    if not request.erasure_proofs.exists():
        raise RequestError(
            _(
                "The erasure request %(ref)s has not been carried out: erase the "
                "person, then close the request. Refuse it with a reason if the "
                "erasure cannot be made."
            )
            % {"ref": request.reference}
        )


def request_refuse(
    *,
    request: SubjectRequest,
    reason: str,
    actor,
    response_sent_at: datetime.datetime | None = None,
) -> SubjectRequest:
    """Refuse a request (identity not proven, manifestly unfounded or excessive).

    An objection to prospecting cannot be refused: GDPR Art. 21(3) makes it
    binding, so it is granted instead. ``response_sent_at`` is when the
    person was sent the refusal and its reason, now by default.
    """
    require_open(request)
    if request.kind == Kind.OBJECTION:
        raise RequestError(
            _(
                "The objection %(ref)s cannot be refused: an objection to "
                "prospecting must always be granted (GDPR Art. 21(3)). Grant it, "
                "then close the request."
            )
            % {"ref": request.reference}
        )
    _require_not_carried_out(request)
    reason = reason.strip()
    if not reason:
        raise RequestError(
            _("Give the reason for the refusal; the person must be told it.")
        )
    now = timezone.now()
    response_time_check(request, response_sent_at, now)
    request.status = Status.REFUSED
    request.refusal_reason = reason
    request.closed_at = now
    request.response_sent_at = response_sent_at or request.response_sent_at or now
    with transaction.atomic():
        request.save()
        event_add(request, "refused", actor)
        audit_record(
            action="subject_requests.request.refused", actor=actor, target=request
        )
    return request


# Timeline events after which the person's request has been met, at least in
# part, so that a refusal would tell them something untrue.
CARRIED_OUT_EVENTS = ("erased", "rectified")


def _require_not_carried_out(request: SubjectRequest) -> None:
    """Raise ``RequestError`` if the request was carried out, or its contacts
    are still restricted by it."""
    actions = list(
        request.events.filter(
            action__in=[*CARRIED_OUT_EVENTS, "restricted", "restriction_lifted"]
        )
        .order_by("occurred_at", "pk")
        .values_list("action", flat=True)
    )
    if any(action in CARRIED_OUT_EVENTS for action in actions):
        raise RequestError(
            _(
                "%(ref)s cannot be refused: it was already carried out, as its "
                "timeline shows. Close it once the answer is sent."
            )
            % {"ref": request.reference}
        )
    if actions and actions[-1] == "restricted":
        raise RequestError(
            _(
                "%(ref)s cannot be refused while its contacts are restricted: "
                "lift the restriction first, or close the request once the "
                "answer is sent."
            )
            % {"ref": request.reference}
        )


def request_purge_closed(
    *, closed_before: datetime.datetime, dry_run: bool = False
) -> int:
    """Delete requests closed or refused before the cutoff, with their events.

    The retention job calls this with the register's longest rule for closed
    requests (5 years by default). Returns how many requests were deleted,
    or would be in a dry run, which changes nothing.
    """
    if timezone.is_naive(closed_before):
        raise RequestError(
            _("closed_before=%(value)s has no time zone; pass an aware datetime.")
            % {"value": closed_before.isoformat()}
        )
    requests = SubjectRequest.objects.filter(
        status__in=[Status.CLOSED, Status.REFUSED], closed_at__lt=closed_before
    )
    if dry_run:
        return requests.count()
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
