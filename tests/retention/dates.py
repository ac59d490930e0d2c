"""The fixed day that the retention tests apply the rules on, and date helpers."""

from datetime import date
from datetime import datetime
from datetime import time

from apps.retention.policy import RETENTION_TIME_ZONE

# Every test that passes ``as_of`` applies the rules as of this day, so that
# boundaries are exact whatever day the suite runs.
AS_OF = date(2026, 12, 4)


def paris(day: date, at: time = time(12, 0)) -> datetime:
    """Return ``day`` at ``at`` (Europe/Paris) as an aware datetime."""
    return datetime.combine(day, at, tzinfo=RETENTION_TIME_ZONE)


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)
