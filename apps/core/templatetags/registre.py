from datetime import timedelta

from django import template
from django.utils.timesince import timeuntil
from django.utils.timezone import now
from django.utils.translation import gettext

from apps.core.audit import audit_action_label
from apps.core.audit import audit_actor_name
from apps.core.dates import format_date
from apps.core.dates import format_datetime

register = template.Library()


@register.filter
def audit_action(action: str) -> str:
    """Render an audit action code as its label in the active language."""
    return audit_action_label(action)


@register.filter
def audit_actor(event) -> str:
    """Render who acted on an audit event, in the active language."""
    return audit_actor_name(event)


@register.filter
def long_date(value) -> str:
    """Render a date in the active language, "1er février 2027" in French."""
    return format_date(value)


@register.filter
def long_datetime(value) -> str:
    """Render an aware datetime in local time and the active language."""
    return format_datetime(value)


@register.filter
def label_colon(label) -> str:
    """Render ``label`` and a colon, with the space French puts before it."""
    return gettext("%(label)s:") % {"label": label}


@register.filter
def timeuntil_delta(value: timedelta | None) -> str:
    """Render a duration such as "15 minutes" in the active language."""
    if not value:
        return ""
    moment = now()
    return timeuntil(moment + value, moment)


@register.filter
def audit_details(details: dict | None) -> list[tuple[str, str]]:
    """Return an audit event's details as sorted (key, text) pairs for display."""
    if not details:
        return []
    pairs = []
    for key, value in sorted(details.items()):
        if isinstance(value, bool):
            value = gettext("yes") if value else gettext("no")
        elif isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{inner}={item}" for inner, item in value.items())
        pairs.append((key, str(value)))
    return pairs
