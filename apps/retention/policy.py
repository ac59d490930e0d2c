"""Retention limits: from a rule and a day, the instant before which data is due.

A limit is counted in whole days in Europe/Paris, whatever time zone the server
uses, because the French rules (CNIL guidance on prospect data) count calendar
days there. A record is due on the day its limit is reached: data collected on
4 December 2023 under a 3-year rule goes in the first run of 4 December 2026.
"""

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from apps.register.models import RetentionRule

RETENTION_TIME_ZONE = ZoneInfo("Europe/Paris")

# The CNIL's limit for prospect data when the register states no contact rule:
# 3 years from collection or from the last contact coming from the person,
# whichever is later.
PROSPECT_DEFAULT_YEARS = 3


def local_today(now: datetime | None = None) -> date:
    """Return the current day in Europe/Paris."""
    return (now or timezone.now()).astimezone(RETENTION_TIME_ZONE).date()


def rule_duration(rule: RetentionRule) -> relativedelta:
    """Return the rule's duration, preferring the register's own conversion."""
    convert = getattr(rule, "duration_as_relativedelta", None)
    if convert is not None:
        return convert()
    return relativedelta(**{rule.unit: rule.duration})


def start_cutoff(*, duration: relativedelta, as_of: date) -> datetime:
    """Return the instant before which a start event makes a record due on ``as_of``.

    A start on day D is due when D + duration <= as_of, that is when the start
    comes before midnight (Europe/Paris) of the day after the last such day.
    That day is ``as_of - duration``, or a few days later at a month's end:
    month and year arithmetic ends a shorter month on its last day, so
    31 October + 1 month is 30 November, as the contact page shows, and a
    start on 29 February 2024 ends a year later on 28 February 2025.
    """
    last_due_day = as_of - duration
    while last_due_day + timedelta(days=1) + duration <= as_of:
        last_due_day += timedelta(days=1)
    return datetime.combine(
        last_due_day + timedelta(days=1), time.min, tzinfo=RETENTION_TIME_ZONE
    )
