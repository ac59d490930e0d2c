import re
from datetime import datetime
from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timeuntil
from django.utils.timezone import now
from django.utils.translation import gettext

from apps.core.audit import FIELD_LIST_KEYS
from apps.core.audit import audit_action_label
from apps.core.audit import audit_actor_name
from apps.core.audit import audit_detail_label
from apps.core.audit import audit_detail_value_label
from apps.core.audit import audit_field_labels
from apps.core.dates import ambiguous_time_offset
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
def short_datetime(value) -> str:
    """Render an aware datetime as the short local format, with the UTC offset
    of a time in the hour repeated in autumn."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return date_format(local, "SHORT_DATETIME_FORMAT") + ambiguous_time_offset(local)


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
def audit_details(event) -> list[tuple[str, str, str]]:
    """Return an audit event's details as (key, label, text), sorted by key.

    Coded values, such as a request's kind, and field names read as their
    labels.
    """
    if not event.details:
        return []
    return [
        (key, audit_detail_label(key), _detail_text(_detail_value(event, key, value)))
        for key, value in sorted(event.details.items())
    ]


def _detail_value(event, key: str, value):
    if key in FIELD_LIST_KEYS and isinstance(value, list):
        return audit_field_labels(event.target_type, value)
    return audit_detail_value_label(event.action, key, value)


# An aware instant as services store it in details: 2026-12-04T14:00:00+00:00.
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}")


def _detail_text(value, *, nested: bool = False) -> str:
    """Write a detail value as text: no Python notation, nested parts in brackets.

    Instants read in local time and the active language.
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list | tuple):
        text = ", ".join(_detail_text(item, nested=True) for item in value)
        return f"[{text}]" if nested else text
    if isinstance(value, dict):
        text = ", ".join(
            f"{audit_detail_label(key)} {_detail_text(item, nested=True)}"
            for key, item in value.items()
        )
        return f"({text})" if nested else text
    if isinstance(value, str) and _ISO_INSTANT.fullmatch(value):
        return format_datetime(datetime.fromisoformat(value))
    return str(value)
