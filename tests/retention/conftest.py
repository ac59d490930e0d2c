from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.retention.policy import RETENTION_TIME_ZONE
from tests.retention.factories import ActivityFactory
from tests.retention.factories import RuleFactory

# Every test applies the rules as of this day, so boundaries are exact.
AS_OF = date(2026, 12, 4)


def paris(day: date, at: time = time(12, 0)) -> datetime:
    """Return ``day`` at ``at`` (Europe/Paris) as an aware datetime."""
    return datetime.combine(day, at, tzinfo=RETENTION_TIME_ZONE)


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


@pytest.fixture
def activity(db):
    return ActivityFactory()


@pytest.fixture
def contact_rule(activity):
    """Prospects: 3 years from collection or last contact, then delete."""
    return RuleFactory(activity=activity)


@pytest.fixture
def expired_at():
    """Collection time of a contact due on ``AS_OF``: a week past 3 years."""
    return paris(years_before(AS_OF, 3) - timedelta(days=7))


@pytest.fixture
def recent_at():
    return paris(AS_OF - timedelta(days=30))


@pytest.fixture
def recent_today():
    """Collection time of a contact that no run removes today: a month ago."""
    return timezone.now() - timedelta(days=30)
