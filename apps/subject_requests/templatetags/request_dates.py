from django import template

from apps.subject_requests.labels import format_date
from apps.subject_requests.labels import format_datetime

register = template.Library()


@register.filter
def request_date(value) -> str:
    """Render a date in the active language, "1er février 2027" in French."""
    return format_date(value)


@register.filter
def request_datetime(value) -> str:
    """Render an aware datetime in local time and the active language."""
    return format_datetime(value)
