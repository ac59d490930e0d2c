"""Where the limit falls: whole days in Europe/Paris, due on the anniversary."""

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from apps.register.models import RetentionRule
from apps.retention.policy import RETENTION_TIME_ZONE
from apps.retention.policy import local_today
from apps.retention.policy import rule_duration
from apps.retention.policy import start_cutoff
from apps.retention.selectors import DEFAULT_CONTACTS_KEY
from apps.retention.services import retention_apply
from tests.retention.dates import AS_OF
from tests.retention.dates import paris
from tests.retention.dates import years_before
from tests.retention.factories import ContactFactory
from tests.retention.factories import RuleFactory

pytestmark = pytest.mark.postgres


def _due_ids(step_key: str, as_of: date = AS_OF) -> set[int]:
    run, ids = retention_apply(
        trigger="command", dry_run=True, as_of=as_of, collect_ids=True
    )
    assert run.status == "succeeded"
    return set(ids.get(step_key, []))


def test_cutoff_is_midnight_after_last_due_day():
    cutoff = start_cutoff(duration=relativedelta(years=3), as_of=date(2026, 12, 4))

    assert cutoff == datetime(2023, 12, 5, 0, 0, tzinfo=RETENTION_TIME_ZONE)


@pytest.mark.parametrize(
    ("duration", "as_of", "last_due_day"),
    [
        (relativedelta(months=1), date(2026, 11, 30), date(2026, 10, 31)),
        (relativedelta(months=1), date(2026, 11, 29), date(2026, 10, 29)),
        (relativedelta(months=1), date(2027, 2, 28), date(2027, 1, 31)),
        (relativedelta(months=1), date(2027, 3, 30), date(2027, 2, 28)),
        (relativedelta(years=1), date(2025, 2, 28), date(2024, 2, 29)),
        (relativedelta(years=3), date(2026, 12, 4), date(2023, 12, 4)),
    ],
)
def test_cutoff_follows_month_end_days(duration, as_of, last_due_day):
    """The last start day due on ``as_of`` is the one whose end day, as the
    contact page computes it (start + duration), is ``as_of`` at the latest."""
    cutoff = start_cutoff(duration=duration, as_of=as_of)

    expected = datetime.combine(
        last_due_day + timedelta(days=1), time.min, tzinfo=RETENTION_TIME_ZONE
    )
    assert cutoff == expected
    assert last_due_day + duration <= as_of
    assert last_due_day + timedelta(days=1) + duration > as_of


def test_cutoff_in_summer_time_is_paris_midnight():
    cutoff = start_cutoff(duration=relativedelta(days=10), as_of=date(2026, 7, 11))

    assert cutoff.utcoffset() == timedelta(hours=2)
    assert cutoff.isoformat() == "2026-07-02T00:00:00+02:00"


def test_local_today_uses_paris_day():
    late_evening_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)

    assert local_today(late_evening_utc) == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("unit", "duration", "expected"),
    [
        ("days", 45, relativedelta(days=45)),
        ("months", 13, relativedelta(months=13)),
        ("years", 3, relativedelta(years=3)),
    ],
)
def test_rule_duration_per_unit(unit, duration, expected):
    rule = RetentionRule(duration=duration, unit=unit)

    assert rule_duration(rule) == expected


def test_anniversary_boundaries(contact_rule):
    step = f"contacts:rule:{contact_rule.pk}"
    three_years_ago = years_before(AS_OF, 3)
    exactly = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=paris(three_years_ago - timedelta(days=400)),
        last_contact_at=paris(three_years_ago),
    )
    day_less = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=paris(three_years_ago - timedelta(days=400)),
        last_contact_at=paris(three_years_ago + timedelta(days=1)),
    )
    day_more = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=paris(three_years_ago - timedelta(days=400)),
        last_contact_at=paris(three_years_ago - timedelta(days=1)),
    )

    due = _due_ids(step)

    assert exactly.pk in due
    assert day_less.pk not in due
    assert day_more.pk in due


def test_later_last_contact_extends_limit(contact_rule):
    step = f"contacts:rule:{contact_rule.pk}"
    collected_long_ago = paris(years_before(AS_OF, 5))
    replied = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=collected_long_ago,
        last_contact_at=paris(years_before(AS_OF, 1)),
    )
    silent = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=collected_long_ago
    )

    due = _due_ids(step)

    assert replied.pk not in due
    assert silent.pk in due


def test_midnight_in_paris_decides_the_day(contact_rule):
    """Both contacts were collected on 4 December in UTC, a day apart in Paris."""
    step = f"contacts:rule:{contact_rule.pk}"
    three_years_ago = years_before(AS_OF, 3)
    before_midnight = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=paris(three_years_ago, time(23, 30)),
    )
    after_midnight = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=paris(three_years_ago + timedelta(days=1), time(0, 30)),
    )
    utc = UTC
    assert before_midnight.collected_at.astimezone(utc).date() == three_years_ago
    assert after_midnight.collected_at.astimezone(utc).date() == three_years_ago

    due = _due_ids(step)

    assert before_midnight.pk in due
    assert after_midnight.pk not in due


def test_collection_rule_ignores_last_contact(activity):
    rule = RuleFactory(
        activity=activity,
        duration=18,
        unit="months",
        start_event=RetentionRule.StartEvent.COLLECTION,
    )
    collected = paris(AS_OF - relativedelta(months=18))
    replied_recently = ContactFactory(
        processing_activity=activity,
        collected_at=collected,
        last_contact_at=paris(AS_OF - timedelta(days=2)),
    )

    due = _due_ids(f"contacts:rule:{rule.pk}")

    assert replied_recently.pk in due


def test_last_contact_rule_falls_back_on_collection(activity):
    rule = RuleFactory(
        activity=activity, start_event=RetentionRule.StartEvent.LAST_CONTACT
    )
    never_replied = ContactFactory(
        processing_activity=activity, collected_at=paris(years_before(AS_OF, 4))
    )

    due = _due_ids(f"contacts:rule:{rule.pk}")

    assert never_replied.pk in due


def test_default_rule_covers_contacts_without_rule(activity, expired_at, recent_at):
    no_activity = ContactFactory(processing_activity=None, collected_at=expired_at)
    activity_without_rule = ContactFactory(
        processing_activity=activity, collected_at=expired_at
    )
    recent = ContactFactory(processing_activity=None, collected_at=recent_at)

    due = _due_ids(DEFAULT_CONTACTS_KEY)

    assert no_activity.pk in due
    assert activity_without_rule.pk in due
    assert recent.pk not in due


def test_register_rule_overrides_default(activity, expired_at):
    rule = RuleFactory(activity=activity, duration=5)
    contact = ContactFactory(processing_activity=activity, collected_at=expired_at)

    run, ids = retention_apply(
        trigger="command", dry_run=True, as_of=AS_OF, collect_ids=True
    )

    assert contact.pk not in ids.get(f"contacts:rule:{rule.pk}", [])
    assert contact.pk not in ids.get(DEFAULT_CONTACTS_KEY, [])
