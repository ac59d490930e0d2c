import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils import translation

from apps.register.deletion import activity_delete
from apps.register.models import MAX_TEXT_LENGTH
from apps.register.models import ProcessingActivity
from apps.register.models import Processor
from apps.register.models import RetentionRule
from apps.register.models import TextLengthValidator
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


@pytest.mark.parametrize(
    ("duration", "unit", "period"),
    [
        (1, RetentionRule.Unit.YEARS, "1 year"),
        (1, RetentionRule.Unit.MONTHS, "1 month"),
        (1, RetentionRule.Unit.DAYS, "1 day"),
        (2, RetentionRule.Unit.YEARS, "2 years"),
        (6, RetentionRule.Unit.MONTHS, "6 months"),
        (30, RetentionRule.Unit.DAYS, "30 days"),
    ],
)
def test_describe_unit_agrees_with_duration(duration, unit, period):
    rule = _rule(duration=duration, unit=unit)

    with translation.override("en"):
        text = rule.describe()

    assert text == f"Coordonnées: {period} from collection, then delete"


def test_describe_uses_free_text_event():
    rule = _rule(
        start_event=RetentionRule.StartEvent.OTHER,
        start_event_other="versement de la paie",
    )

    with translation.override("fr"):
        text = rule.describe()

    assert "à compter de l'événement « versement de la paie »" in text


@pytest.mark.parametrize(
    ("duration", "unit", "maximum"),
    [
        (101, RetentionRule.Unit.YEARS, "100 years"),
        (10000, RetentionRule.Unit.YEARS, "100 years"),
        (1201, RetentionRule.Unit.MONTHS, "1200 months"),
        (36526, RetentionRule.Unit.DAYS, "36525 days"),
    ],
)
def test_rule_rejects_duration_above_maximum(duration, unit, maximum):
    rule = RetentionRule(
        activity=ActivityFactory(),
        data_category="Coordonnées",
        duration=duration,
        unit=unit,
        start_event=RetentionRule.StartEvent.COLLECTION,
    )

    with pytest.raises(ValidationError) as caught:
        rule.full_clean()

    message = caught.value.message_dict["duration"][0]
    assert f"A duration of {duration} {unit}" in message
    assert f"maximum of {maximum}" in message


@pytest.mark.parametrize(
    ("duration", "unit"),
    [
        (100, RetentionRule.Unit.YEARS),
        (1200, RetentionRule.Unit.MONTHS),
        (36525, RetentionRule.Unit.DAYS),
    ],
)
def test_rule_accepts_maximum_duration(duration, unit):
    rule = RetentionRule(
        activity=ActivityFactory(),
        data_category="Coordonnées",
        duration=duration,
        unit=unit,
        start_event=RetentionRule.StartEvent.COLLECTION,
    )

    rule.full_clean()


def test_rule_zero_duration_is_field_error():
    rule = RetentionRule(
        activity=ActivityFactory(),
        data_category="Coordonnées",
        duration=0,
        start_event=RetentionRule.StartEvent.COLLECTION,
    )

    with pytest.raises(ValidationError) as caught:
        rule.full_clean()

    assert list(caught.value.message_dict) == ["duration"]
    assert "at least 1" in caught.value.message_dict["duration"][0]


def test_rule_maximum_message_in_french():
    rule = RetentionRule(
        activity=ActivityFactory(),
        data_category="Coordonnées",
        duration=150,
        unit=RetentionRule.Unit.YEARS,
        start_event=RetentionRule.StartEvent.COLLECTION,
    )

    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        rule.full_clean()

    message = caught.value.message_dict["duration"][0]
    assert "150 ans" in message
    assert "100 ans" in message


def test_reference_unique_ignoring_case(db):
    ActivityFactory(reference="QA-OK1")
    twin = ActivityFactory.build(reference="qa-ok1")

    with pytest.raises(ValidationError) as raised:
        twin.full_clean()

    assert "QA-OK1" in str(raised.value.message_dict["reference"])


@pytest.mark.parametrize(
    ("dates", "field"),
    [
        (
            {"last_reviewed_on": timezone.localdate() + datetime.timedelta(days=30)},
            "last_reviewed_on",
        ),
        (
            {
                "last_reviewed_on": datetime.date(2026, 3, 1),
                "next_review_on": datetime.date(2026, 2, 1),
            },
            "next_review_on",
        ),
    ],
)
def test_review_dates_out_of_order_rejected(db, dates, field):
    activity = ActivityFactory.build(**dates)

    with pytest.raises(ValidationError) as raised:
        activity.full_clean()

    assert field in raised.value.message_dict


def test_every_date_error_reported_at_once(db):
    ActivityFactory(reference="QA-DATES")
    activity = ActivityFactory.build(
        reference="qa-dates",
        started_on=timezone.localdate() + datetime.timedelta(days=3),
        last_reviewed_on=datetime.date(2026, 3, 1),
        next_review_on=datetime.date(2026, 2, 1),
    )

    with pytest.raises(ValidationError) as raised:
        activity.full_clean()

    errors = raised.value.message_dict
    assert "started_on" in errors
    assert "next_review_on" in errors
    assert "reference" in errors


def test_other_start_event_needs_description(db):
    rule = RetentionRule(
        activity=ActivityFactory(),
        data_category="Contrats",
        duration=5,
        unit=RetentionRule.Unit.YEARS,
        start_event=RetentionRule.StartEvent.OTHER,
    )

    with pytest.raises(ValidationError) as raised:
        rule.full_clean()

    assert "start_event_other" in raised.value.message_dict


def test_agreement_signed_in_future_is_rejected(db):
    processor = Processor(
        activity=ActivityFactory(),
        name="Routeur Exemple",
        dpa_signed_on=timezone.localdate() + datetime.timedelta(days=1),
    )

    with pytest.raises(ValidationError) as raised:
        processor.full_clean()

    assert "dpa_signed_on" in raised.value.message_dict


def test_text_length_counts_crlf_once():
    """A browser submits CRLF line breaks, which are stored as LF."""
    validator = TextLengthValidator(MAX_TEXT_LENGTH)
    text = "\r\n".join(["ab"] * 2600)

    validator(text)

    with pytest.raises(ValidationError) as error:
        validator("x" * (MAX_TEXT_LENGTH + 1))
    assert f"has {MAX_TEXT_LENGTH + 1} characters" in error.value.messages[0]


def test_activity_returned_to_draft_is_rejected(db):
    activity = ActivityFactory(reference="BACK-9")
    activity.status = ProcessingActivity.Status.DRAFT

    with pytest.raises(ValidationError) as error:
        activity.full_clean()

    assert "status" in error.value.message_dict
    assert "BACK-9 has been in force" in error.value.message_dict["status"][0]


def test_new_draft_is_valid(db):
    activity = ActivityFactory(status=ProcessingActivity.Status.DRAFT)

    activity.full_clean()

    assert not activity.has_left_draft()


def test_former_activity_in_force_is_not_deleted(db):
    """A draft that was in force before, as an earlier import could leave it,
    stays in the register."""
    activity = ActivityFactory(reference="BACK-10")
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        status=ProcessingActivity.Status.DRAFT
    )
    activity.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        activity_delete(activity=activity)

    assert "BACK-10 is a draft now, but its history shows" in error.value.messages[0]
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()


def test_review_date_errors_in_french_format():
    activity = ActivityFactory.build(
        started_on=datetime.date(2030, 1, 1),
        last_reviewed_on=datetime.date(2026, 3, 1),
        next_review_on=datetime.date(2026, 2, 1),
    )

    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        activity.clean()

    errors = caught.value.message_dict
    assert "01/01/2030" in errors["started_on"][0]
    assert "01/02/2026" in errors["next_review_on"][0]
    assert "01/03/2026" in errors["next_review_on"][0]


def test_future_signature_error_in_french_format():
    processor = Processor(
        activity=ActivityFactory(),
        name="Routeur SA",
        dpa_signed_on=timezone.localdate() + datetime.timedelta(days=1),
    )
    tomorrow = processor.dpa_signed_on.strftime("%d/%m/%Y")

    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        processor.clean()

    assert tomorrow in caught.value.message_dict["dpa_signed_on"][0]
