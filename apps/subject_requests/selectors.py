import datetime
import re
from dataclasses import dataclass

from django.db.models import Q

from apps.contacts.search import FoldedText
from apps.contacts.search import fold_search_text
from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import normalize_phone
from apps.subject_requests.dates import local_date
from apps.subject_requests.dates import today_local
from apps.subject_requests.models import SubjectRequest

# A request as the pages show it (DSR-00002, any case, leading zeros optional)
# or its bare numeric id.
REFERENCE_PATTERN = re.compile(r"^(?:DSR-)?0*(\d+)$", re.IGNORECASE)


def request_id_from_reference(reference: str) -> int | None:
    """Return the id in ``DSR-00002`` or ``2``, or None when it is neither."""
    match = REFERENCE_PATTERN.match(reference.strip())
    if match is None:
        return None
    return int(match.group(1))


def request_by_reference(reference: str) -> SubjectRequest | None:
    """Return the request that a reference or numeric id names, or None."""
    request_id = request_id_from_reference(reference)
    if request_id is None:
        return None
    return SubjectRequest.objects.filter(pk=request_id).first()


def request_list(*, status: str = "open", query: str = ""):
    """Return requests by due date, each annotated with ``days_left``."""
    requests = SubjectRequest.objects.select_related("handler").order_by("due_on", "pk")
    if status == "open":
        requests = requests.filter(status__in=SubjectRequest.OPEN_STATUSES)
    elif status in SubjectRequest.Status.values:
        requests = requests.filter(status=status)
    if query:
        reference = query.upper().removeprefix("DSR-").lstrip("0")
        # Names match whatever their accents and word order: "martin élodie"
        # finds "Elodie MARTIN".
        requests = requests.annotate(folded_name=FoldedText("requester_name"))
        name_condition = Q()
        for word in fold_search_text(query).split():
            name_condition &= Q(folded_name__contains=word)
        condition = name_condition | Q(requester_email__icontains=query.strip())
        if reference.isdigit():
            condition |= Q(pk=int(reference))
        phone = _phone_query(query)
        if phone:
            condition |= Q(requester_phone=phone)
        requests = requests.filter(condition)
    return requests


def _phone_query(query: str) -> str:
    """Return the E.164 form of a query written as a phone number, or ""."""
    if sum(character.isdigit() for character in query) < 8:
        return ""
    try:
        return normalize_phone(query)
    except InvalidIdentifier:
        return ""


def days_left(request: SubjectRequest, today=None) -> int:
    return (request.due_on - (today or today_local())).days


def days_late(request: SubjectRequest) -> int | None:
    """Return how many days after its due date a request's response was sent.

    Returns 0 for a response on time and None while the request is open. The
    response date is ``response_sent_at``, or the closing date without it.
    """
    answered_at = request.response_sent_at or request.closed_at
    if request.is_open or answered_at is None:
        return None
    return max(0, (local_date(answered_at) - request.due_on).days)


def request_deadline_summary(*, limit: int = 5) -> dict:
    """Return the open requests due first and the overdue count."""
    today = today_local()
    open_requests = SubjectRequest.objects.filter(
        status__in=SubjectRequest.OPEN_STATUSES
    ).order_by("due_on", "pk")
    first = list(open_requests[:limit])
    for request in first:
        request.days_left = days_left(request, today)
        request.days_overdue = -request.days_left
    return {
        "requests": first,
        "open_count": open_requests.count(),
        "overdue_count": open_requests.filter(due_on__lt=today).count(),
    }


def request_timeline(request: SubjectRequest):
    return request.events.select_related("actor").order_by("occurred_at", "pk")


@dataclass(frozen=True)
class ExtensionNotice:
    """The date and channel of one extension notice, and the extension's length."""

    informed_on: datetime.date
    informed_by: str
    months: int


def extension_notices(request: SubjectRequest) -> list[ExtensionNotice]:
    """Return the notice of each extension, oldest first.

    Each "extended" event records its own notice. An extension recorded
    before notices were stored has none, so the request's latest notice is
    used for all of them.
    """
    channel_labels = dict(SubjectRequest.Channel.choices)
    notices = []
    for event in request.events.filter(action="extended").order_by("occurred_at"):
        informed_on = event.details.get("informed_on")
        if not informed_on:
            continue
        informed_by = event.details.get("informed_by", "")
        notices.append(
            ExtensionNotice(
                informed_on=datetime.date.fromisoformat(informed_on),
                informed_by=str(channel_labels.get(informed_by, informed_by)),
                months=event.details.get("months", 0),
            )
        )
    if not notices and request.extension_informed_on:
        notices.append(
            ExtensionNotice(
                informed_on=request.extension_informed_on,
                informed_by=request.get_extension_informed_by_display(),
                months=request.extension_months,
            )
        )
    return notices


def identity_checks(request: SubjectRequest):
    return request.identity_checks.select_related("checked_by")
