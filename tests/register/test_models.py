import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import translation

from apps.register.models import RetentionRule
from tests.register.factories import ActivityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _rule(**fields) -> RetentionRule:
    values = {
        "data_category": "Coordonnées",
        "duration": 3,
        "unit": RetentionRule.Unit.YEARS,
        "start_event": RetentionRule.StartEvent.COLLECTION,
        "action": RetentionRule.Action.DELETE,
    }
    values.update(fields)
    return RetentionRule.objects.create(activity=ActivityFactory(), **values)


@pytest.mark.parametrize(
    ("duration", "unit", "expected"),
    [
        (3, RetentionRule.Unit.YEARS, relativedelta(years=3)),
        (18, RetentionRule.Unit.MONTHS, relativedelta(months=18)),
        (30, RetentionRule.Unit.DAYS, relativedelta(days=30)),
    ],
)
def test_duration_as_relativedelta(duration, unit, expected):
    rule = _rule(duration=duration, unit=unit)

    assert rule.duration_as_relativedelta() == expected


def test_relativedelta_handles_leap_day():
    rule = _rule(duration=3, unit=RetentionRule.Unit.YEARS)

    end = datetime.date(2024, 2, 29) + rule.duration_as_relativedelta()

    assert end == datetime.date(2027, 2, 28)


def test_describe_derives_sentence_from_fields():
    rule = _rule()

    with translation.override("en"):
        text = rule.describe()

    assert text == "Coordonnées: 3 years from collection, then delete"


def test_describe_uses_free_text_event():
    rule = _rule(
        start_event=RetentionRule.StartEvent.OTHER,
        start_event_other="versement de la paie",
    )

    with translation.override("en"):
        text = rule.describe()

    assert "from versement de la paie" in text
