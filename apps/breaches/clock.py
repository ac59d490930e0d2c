"""Wording of the time left on the 72-hour clock, shared by pages and e-mails.

Under 72 hours a duration reads in hours and minutes, which compare directly
with the deadline. From 72 hours on it reads in days, hours and minutes:
"overdue by 39 d 1 h 55 min" rather than "overdue by 937 h 55 min".
"""

from django.utils.translation import gettext as _

DAYS_FROM_HOURS = 72


def left_template() -> str:
    return _("%(hours)s h %(minutes)s min left")


def overdue_template() -> str:
    return _("overdue by %(hours)s h %(minutes)s min")


def overdue_days_template() -> str:
    return _("overdue by %(days)s d %(hours)s h %(minutes)s min")


def duration_values(seconds: int) -> dict:
    """Return the days (from 72 hours on), hours and minutes of ``seconds``."""
    hours, minutes = divmod(abs(seconds) // 60, 60)
    values = {"hours": hours, "minutes": f"{minutes:02d}"}
    if hours >= DAYS_FROM_HOURS:
        values["days"], values["hours"] = divmod(hours, 24)
    return values


def notified_late_text(seconds_late: int) -> str:
    """Return "notified 28 h 30 min late" for a notification ``seconds_late``."""
    values = duration_values(seconds_late)
    if "days" in values:
        return _("notified %(days)s d %(hours)s h %(minutes)s min late") % values
    return _("notified %(hours)s h %(minutes)s min late") % values


def time_left_text(seconds: int) -> str:
    """Return "5 h 07 min left" or "overdue by 2 h 00 min" for ``seconds``."""
    values = duration_values(seconds)
    if seconds >= 0:
        return left_template() % values
    if "days" in values:
        return overdue_days_template() % values
    return overdue_template() % values


def urgency(seconds: int) -> str:
    """Return the badge class: bad when passed or under 6 hours, warn under 48.

    48 hours left is the first alert e-mail, so the badge turns with it.
    """
    if seconds < 6 * 3600:
        return "bad"
    if seconds < 48 * 3600:
        return "warn"
    return "ok"
