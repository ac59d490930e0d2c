from datetime import timedelta

import pytest
from django.utils import timezone

from tests.retention.dates import AS_OF
from tests.retention.dates import paris
from tests.retention.dates import years_before
from tests.retention.factories import ActivityFactory
from tests.retention.factories import RuleFactory


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
