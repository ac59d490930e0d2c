"""Long dates in the active language, with the French ordinal of a first day.

Pages, messages and documents use these for "1er février 2027 14:05" in
French and "1 February 2027, 14:05" in English. Short numeric dates keep
Django's ``SHORT_DATE_FORMAT``.
"""

import datetime
import re

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.formats import get_format
from django.utils.translation import get_language

# French writes the first day of a month as an ordinal, "1er février", which
# Django's French formats ("j F Y" in Django 5.2) leave out.
FIRST_DAY_SUFFIXES = {"fr": "er"}

# The day-of-month character of Django's date format syntax, unless escaped.
DAY_OF_MONTH = re.compile(r"(?<!\\)j")


def _date_format_for(format_name: str, day: int) -> str:
    """Return the active language's format, with the ordinal of a first day."""
    date_format_text = get_format(format_name)
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    suffix = FIRST_DAY_SUFFIXES.get(language)
    if day != 1 or not suffix:
        return date_format_text
    escaped = "".join(f"\\{character}" for character in suffix)
    return DAY_OF_MONTH.sub(lambda _match: "j" + escaped, date_format_text, count=1)


def format_datetime(value: datetime.datetime | str | None) -> str:
    """Format an aware datetime (or its ISO text) in the active language."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    value = timezone.localtime(value)
    text = date_format(value, _date_format_for("DATETIME_FORMAT", value.day))
    return text + ambiguous_time_offset(value)


def ambiguous_time_offset(value: datetime.datetime) -> str:
    """Return " (UTC+02:00)" when the local time shown occurs twice that day.

    On the night the clocks go back, Paris shows 02:00 to 02:59 twice, first
    at UTC+02:00 and then at UTC+01:00, and the offset distinguishes them.
    Any other time gets "".
    """
    offset = value.utcoffset()
    if offset is None or value.replace(fold=1 - value.fold).utcoffset() == offset:
        return ""
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f" (UTC{sign}{hours:02d}:{minutes:02d})"


def format_date(value: datetime.date | str | None) -> str:
    """Format a date (or its ISO text) in the active language."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:10])
    return date_format(value, _date_format_for("DATE_FORMAT", value.day))
