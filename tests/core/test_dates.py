"""Long dates in the active language: the French ordinal of a first day."""

import datetime

import pytest
from django import forms
from django.template import Context
from django.template import Template
from django.utils import timezone
from django.utils import translation
from django.utils.formats import date_format

from apps.core.dates import format_date
from apps.core.dates import format_datetime
from apps.core.forms import LocalDateTimeField
from apps.core.forms import PlausibleDateField
from apps.core.forms import latest_plausible_date


@pytest.mark.parametrize(
    ("language", "day", "expected"),
    [
        ("fr", datetime.date(2027, 2, 1), "1er février 2027"),
        ("fr", datetime.date(2027, 2, 11), "11 février 2027"),
        ("fr", datetime.date(2027, 2, 21), "21 février 2027"),
        ("en", datetime.date(2027, 2, 1), "1 February 2027"),
    ],
)
def test_format_date_first_day(language, day, expected):
    with translation.override(language):
        assert format_date(day) == expected


def test_format_datetime_first_day_in_french():
    moment = datetime.datetime(2027, 1, 31, 23, 30, tzinfo=datetime.UTC)

    with translation.override("fr"), timezone.override("Europe/Paris"):
        text = format_datetime(moment)

    assert text == "1er février 2027 00:30"


def test_long_datetime_filter_in_french():
    template = Template("{% load registre %}{{ moment|long_datetime }}")
    moment = datetime.datetime(2027, 3, 1, 9, 5, tzinfo=datetime.UTC)

    with translation.override("fr"), timezone.override("Europe/Paris"):
        text = template.render(Context({"moment": moment}))

    assert text == "1er mars 2027 10:05"


def test_long_date_filter_empty():
    template = Template("{% load registre %}{{ day|long_date|default:'-' }}")

    assert template.render(Context({"day": None})) == "-"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_numeric_date_input_reads_day_first(language):
    field = forms.DateField()

    with translation.override(language):
        day = field.clean("01/12/2026")

    assert day == datetime.date(2026, 12, 1)


def test_english_rejects_month_first_date():
    field = forms.DateField()

    with translation.override("en"), pytest.raises(forms.ValidationError):
        field.clean("12/25/2026")


def test_english_short_date_is_day_first():
    template = Template("{{ day|date:'SHORT_DATE_FORMAT' }}")

    with translation.override("en"):
        text = template.render(Context({"day": datetime.date(2026, 12, 1)}))

    assert text == "01/12/2026"


PARIS = "Europe/Paris"


def test_repeated_time_shows_its_offset(settings):
    settings.TIME_ZONE = PARIS
    first = datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.UTC)
    second = first + datetime.timedelta(hours=1)
    ordinary = datetime.datetime(2026, 10, 26, 1, 30, tzinfo=datetime.UTC)

    with translation.override("en"), timezone.override(PARIS):
        texts = [format_datetime(value) for value in (first, second, ordinary)]

    assert texts[0].endswith("02:30 (UTC+02:00)")
    assert texts[1].endswith("02:30 (UTC+01:00)")
    assert "UTC" not in texts[2]


def test_local_field_reads_repeated_time_first():
    field = LocalDateTimeField(input_formats=["%Y-%m-%dT%H:%M"])

    with timezone.override(PARIS):
        value = field.clean("2026-10-25T02:30")

    # Python never finds a time of the repeated hour equal to one in another
    # zone (PEP 495), so the comparison is in UTC.
    assert value.astimezone(datetime.UTC) == datetime.datetime(
        2026, 10, 25, 0, 30, tzinfo=datetime.UTC
    )


def test_local_field_rejects_skipped_time():
    field = LocalDateTimeField(input_formats=["%Y-%m-%dT%H:%M"])

    with timezone.override(PARIS), pytest.raises(forms.ValidationError) as error:
        field.clean("2026-03-29T02:30")

    message = error.value.messages[0]
    assert "29/03/2026 02:30" in message
    assert "clocks went forward" in message


def test_local_field_rejects_year_one():
    field = LocalDateTimeField(input_formats=["%Y-%m-%dT%H:%M"])

    with timezone.override(PARIS), pytest.raises(forms.ValidationError) as error:
        field.clean("0001-01-01T00:00")

    message = error.value.messages[0]
    assert "01/01/0001 00:00" in message
    assert "1900 or later" in message


def test_local_field_names_invalid_value():
    field = LocalDateTimeField(input_formats=["%Y-%m-%dT%H:%M"])

    with pytest.raises(forms.ValidationError) as error:
        field.clean("2026-02-31T10:00")

    assert "“2026-02-31T10:00” is not a valid date and time" in error.value.messages[0]


def test_local_field_reads_repeated_time_last():
    field = LocalDateTimeField(input_formats=["%Y-%m-%dT%H:%M"], repeated_hour="last")

    with timezone.override(PARIS):
        value = field.clean("2026-10-25T02:30")

    assert value.astimezone(datetime.UTC) == datetime.datetime(
        2026, 10, 25, 1, 30, tzinfo=datetime.UTC
    )


def test_local_field_keeps_stored_repeated_time():
    field = LocalDateTimeField(input_formats=["%Y-%m-%dT%H:%M"])
    field.stored_value = datetime.datetime(2026, 10, 25, 1, 30, tzinfo=datetime.UTC)

    with timezone.override(PARIS):
        value = field.clean("2026-10-25T02:30")

    assert value == field.stored_value


def test_plausible_date_accepts_century_ahead():
    latest = latest_plausible_date()

    assert PlausibleDateField().clean(latest.isoformat()) == latest
    assert latest.year == timezone.localdate().year + 100


def test_plausible_date_rejects_year_9999():
    with translation.override("en"):
        value = date_format(datetime.date(9999, 12, 31), "SHORT_DATE_FORMAT")
        latest = date_format(latest_plausible_date(), "SHORT_DATE_FORMAT")
        with pytest.raises(forms.ValidationError) as error:
            PlausibleDateField().clean("9999-12-31")

    message = error.value.messages[0]
    assert error.value.code == "too_late"
    assert f"{value} is too far in the future" in message
    assert f"must be {latest} or earlier" in message


def test_plausible_date_rejects_day_after_latest():
    day_after = latest_plausible_date() + datetime.timedelta(days=1)

    with pytest.raises(forms.ValidationError) as error:
        PlausibleDateField().clean(day_after.isoformat())

    assert error.value.code == "too_late"
