"""Wording of the time left on the 72-hour clock, shared by pages and e-mails."""

from django.utils.translation import gettext as _


def left_template() -> str:
    return _("%(hours)s h %(minutes)s min left")


def overdue_template() -> str:
    return _("overdue by %(hours)s h %(minutes)s min")


def notified_late_text(seconds_late: int) -> str:
    """Return "notified 28 h 30 min late" for a notification ``seconds_late``."""
    minutes = seconds_late // 60
    return _("notified %(hours)s h %(minutes)s min late") % {
        "hours": minutes // 60,
        "minutes": f"{minutes % 60:02d}",
    }


def time_left_text(seconds: int) -> str:
    """Return "5 h 07 min left" or "overdue by 2 h 00 min" for ``seconds``."""
    minutes = abs(seconds) // 60
    values = {"hours": minutes // 60, "minutes": f"{minutes % 60:02d}"}
    if seconds >= 0:
        return left_template() % values
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
