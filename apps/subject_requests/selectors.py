from django.db.models import Q

from apps.subject_requests.dates import today_local
from apps.subject_requests.models import SubjectRequest


def request_list(*, status: str = "open", query: str = ""):
    """Return requests by due date, each annotated with ``days_left``."""
    requests = SubjectRequest.objects.select_related("handler").order_by("due_on", "pk")
    if status == "open":
        requests = requests.filter(status__in=SubjectRequest.OPEN_STATUSES)
    elif status in SubjectRequest.Status.values:
        requests = requests.filter(status=status)
    if query:
        reference = query.upper().removeprefix("DSR-").lstrip("0")
        condition = Q(requester_name__icontains=query) | Q(
            requester_email__icontains=query
        )
        if reference.isdigit():
            condition |= Q(pk=int(reference))
        requests = requests.filter(condition)
    return requests


def days_left(request: SubjectRequest, today=None) -> int:
    return (request.due_on - (today or today_local())).days


def request_deadline_summary(*, limit: int = 5) -> dict:
    """Return the open requests due first and the overdue count."""
    today = today_local()
    open_requests = SubjectRequest.objects.filter(
        status__in=SubjectRequest.OPEN_STATUSES
    ).order_by("due_on", "pk")
    first = list(open_requests[:limit])
    for request in first:
        request.days_left = days_left(request, today)
    return {
        "requests": first,
        "open_count": open_requests.count(),
        "overdue_count": open_requests.filter(due_on__lt=today).count(),
    }


def request_timeline(request: SubjectRequest):
    return request.events.select_related("actor").order_by("occurred_at", "pk")
