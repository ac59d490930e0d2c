"""Deadline arithmetic for subject-rights requests, in Europe/Paris dates.

GDPR Art. 12(3): the controller responds within one month of receipt, and may
extend by two further months. A month runs to the same day of the next month,
or to that month's last day when it is shorter (31 January -> 28 or 29
February), which is what ``dateutil.relativedelta`` computes.
"""

import datetime
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.utils import timezone

DEADLINE_TIME_ZONE = ZoneInfo("Europe/Paris")
ANSWER_MONTHS = 1
MAX_EXTENSION_MONTHS = 2


# The day the GDPR began to apply (Art. 99(2)).
GDPR_APPLIES_FROM = datetime.date(2018, 5, 25)


def local_date(moment: datetime.datetime) -> datetime.date:
    """Return the Paris calendar date of an aware datetime."""
    return timezone.localtime(moment, DEADLINE_TIME_ZONE).date()


def today_local(now: datetime.datetime | None = None) -> datetime.date:
    return local_date(now or timezone.now())


def due_date(received_on: datetime.date, *, extension_months: int = 0):
    """Return the due date for a request received on ``received_on``.

    Raises ``ValueError`` when ``extension_months`` is outside 0 to 2.
    """
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(
            f"extension_months={extension_months} is invalid: "
            f"use 0 to {MAX_EXTENSION_MONTHS}."
        )
    return received_on + relativedelta(months=ANSWER_MONTHS + extension_months)
