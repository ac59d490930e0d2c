from apps.core.models import AuditEvent


def audit_event_list(*, filters: dict):
    """Return audit events matching the cleaned filter form's data."""
    events = AuditEvent.objects.select_related("actor")
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("target_type"):
        events = events.filter(target_type=filters["target_type"])
    if filters.get("target_id"):
        events = events.filter(target_id=filters["target_id"])
    if filters.get("actor"):
        events = events.filter(actor__username=filters["actor"])
    if filters.get("since"):
        events = events.filter(occurred_at__date__gte=filters["since"])
    if filters.get("until"):
        events = events.filter(occurred_at__date__lte=filters["until"])
    return events
