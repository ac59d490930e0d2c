from datetime import UTC
from datetime import date
from datetime import datetime

import phonenumbers
from dateutil.relativedelta import relativedelta
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import normalize_phone
from apps.core.models import Organisation
from apps.core.text import newlines_unified

# Earlier years are typing mistakes, and year 1 cannot even be converted to
# UTC (OverflowError), which SQLite's constraint checks attempt.
EARLIEST_YEAR = 1900
# A date more than a century ahead is a typing mistake, such as 9999-12-31 for
# "no date" or 2206 for 2026.
LATEST_YEARS_AHEAD = 100


def _too_early(displayed: str) -> ValidationError:
    """Return the error of a date before ``EARLIEST_YEAR``, written as ``displayed``."""
    return ValidationError(
        gettext(
            "%(value)s is too far in the past: check the year, which must be "
            "%(year)d or later."
        )
        % {"value": displayed, "year": EARLIEST_YEAR},
        code="too_early",
    )


def latest_plausible_date() -> date:
    """Return the last day that a date field accepts: today in ``LATEST_YEARS_AHEAD``
    years, in the site's time zone."""
    return timezone.localdate() + relativedelta(years=LATEST_YEARS_AHEAD)


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed in the site's time zone, from a datetime-local input.

    A time that occurs twice, on the night the clocks go back, is read as its
    first occurrence, or its last with ``repeated_hour="last"``: pick the one
    that gives the stricter deadline. For an awareness or a receipt time that
    is the earlier one, for the time a notification was sent the later one.
    A repeated time equal to ``stored_value``, the one an edit form shows,
    keeps that value, so saving a form unchanged changes nothing. A time that
    the clocks skipped is rejected with that reason, where Django's message
    reads only that it "may be ambiguous or may not exist".
    """

    def __init__(self, *, repeated_hour: str = "first", **kwargs):
        super().__init__(**kwargs)
        self.fold = {"first": 0, "last": 1}[repeated_hour]
        self.stored_value = None

    def to_python(self, value):
        try:
            moment = super().to_python(value)
        except ValidationError as error:
            if error.code == "invalid":
                raise ValidationError(
                    gettext(
                        "“%(value)s” is not a valid date and time: enter one such "
                        "as 2027-01-31 14:30."
                    )
                    % {"value": str(value)[:40]},
                    code="invalid",
                ) from error
            if error.code != "ambiguous_timezone":
                raise
            moment = self._repeated_or_skipped(value)
        if moment is not None and moment.year < EARLIEST_YEAR:
            raise _too_early(date_format(moment, "SHORT_DATETIME_FORMAT"))
        return moment

    def _repeated_or_skipped(self, value):
        """Return the first occurrence of a repeated time; reject a skipped one."""
        text = str(value).strip()
        # The parent's parsing without its time-zone step: the input formats.
        naive = parse_datetime(text) or forms.BaseTemporalField.to_python(self, text)
        zone = timezone.get_current_timezone()
        stored = self.stored_value
        if stored is not None and timezone.localtime(stored, zone).replace(
            tzinfo=None
        ) == naive.replace(tzinfo=None):
            return stored
        chosen = naive.replace(tzinfo=zone, fold=self.fold)
        # In UTC, because Python never finds a time of the repeated hour equal
        # to a time in another zone (PEP 495), which would upset comparisons.
        chosen_utc = chosen.astimezone(UTC)
        if chosen_utc.astimezone(zone).replace(tzinfo=None) == naive:
            return chosen_utc
        raise ValidationError(
            gettext(
                "%(value)s did not exist in %(zone)s, because the clocks went "
                "forward at that time. Enter the time that a clock showed after "
                "the change."
            )
            % {
                "value": date_format(naive, "SHORT_DATETIME_FORMAT"),
                "zone": zone.key,
            },
            code="skipped_time",
        )


class PlausibleDateField(forms.DateField):
    """A date whose errors name the value typed, and that rejects years before
    1900 and dates more than ``LATEST_YEARS_AHEAD`` years after today.

    Earlier years are typing mistakes ("0001-01-01" for an empty date), and a
    spreadsheet cannot show them: the XLSX export wrote such a date as ####.
    The upper bound matters for dates that may be in the future, such as the
    next review, because the register's models reject any future date in its
    other date fields.
    """

    def to_python(self, value):
        try:
            day = super().to_python(value)
        except ValidationError as error:
            if error.code != "invalid":
                raise
            raise ValidationError(
                gettext(
                    "“%(value)s” is not a valid date: enter one such as 2027-01-31."
                )
                % {"value": str(value)[:40]},
                code="invalid",
            ) from error
        if day is None:
            return day
        if day.year < EARLIEST_YEAR:
            raise _too_early(date_format(day, "SHORT_DATE_FORMAT"))
        latest = latest_plausible_date()
        if day > latest:
            raise ValidationError(
                gettext(
                    "%(value)s is too far in the future: check the year, because "
                    "the date must be %(latest)s or earlier."
                )
                % {
                    "value": date_format(day, "SHORT_DATE_FORMAT"),
                    "latest": date_format(latest, "SHORT_DATE_FORMAT"),
                },
                code="too_late",
            )
        return day


def plausible_dates(model_field, **kwargs):
    """Return the form field of ``model_field``, a ``PlausibleDateField`` for a date.

    Set it as a model form's ``formfield_callback``.
    """
    if type(model_field) is models.DateField:
        kwargs.setdefault("form_class", PlausibleDateField)
    return model_field.formfield(**kwargs)


class MultiLineTextField(forms.CharField):
    """Text from a textarea, with every line break written as LF.

    Browsers submit CRLF line breaks and the stored text has LF, so without
    this a form's ``changed_data`` lists a text that did not change.
    """

    def to_python(self, value):
        text = super().to_python(value)
        return newlines_unified(text) if isinstance(text, str) else text


def model_form_field(model_field, **kwargs):
    """Return the form field of ``model_field``: a ``PlausibleDateField`` for a
    date, a ``MultiLineTextField`` for a text.

    Set it as a model form's ``formfield_callback``.
    """
    if isinstance(model_field, models.TextField):
        kwargs.setdefault("form_class", MultiLineTextField)
    return plausible_dates(model_field, **kwargs)


class LoadedVersionField(forms.CharField):
    """A hidden copy of the record's ``updated_at`` when its edit page was opened.

    A damaged value counts as missing, because an error on a hidden field
    would not show.
    """

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value) -> datetime | None:
        text = super().to_python(value)
        if not text:
            return None
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None


class LoadedVersionMixin:
    """Reject an edit whose page does not carry the version it showed.

    The form declares ``loaded_version = LoadedVersionField()`` and a
    ``version_missing_message``. Its service compares the version with the
    saved ``updated_at`` under a row lock and rejects a save over a later one,
    which would send back the older values of the fields the user left alone.
    """

    version_missing_message = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["loaded_version"] = self.instance.updated_at.isoformat()

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk and cleaned_data.get("loaded_version") is None:
            self.add_error(
                None,
                forms.ValidationError(self.version_missing_message, code="missing"),
            )
        return cleaned_data


# The maximum length of the profile's multi-line texts: a postal address, or a
# name with one. Every register export prints them, and the PDF repeats the
# address in the header of each page.
ORGANISATION_TEXT_MAX_LENGTH = 1_000


class OrganisationForm(LoadedVersionMixin, forms.ModelForm):
    loaded_version = LoadedVersionField()
    version_missing_message = _(
        "The page does not say which version of the organisation profile it "
        "shows, so saving it could undo a later change. Reload the page and "
        "enter your changes again."
    )
    # No ``max_length``, on the field or in the browser: the browser would cut
    # "France" to "Fr" without a word, and Django's error would not name the
    # value, so ``clean_country`` checks the code.
    country = forms.CharField(
        label=capfirst(_("country")),
        help_text=_("Two-letter ISO code, e.g. FR."),
    )

    class Meta:
        model = Organisation
        fields = [
            "name",
            "address",
            "country",
            "registration_number",
            "phone",
            "email",
            "legal_representative",
            "eu_representative",
            "dpo_name",
            "dpo_email",
            "dpo_phone",
            "dpo_address",
        ]
        formfield_callback = model_form_field
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "eu_representative": forms.Textarea(attrs={"rows": 3}),
            "dpo_address": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_country(self) -> str:
        """Return the upper-case ISO 3166-1 alpha-2 code, or raise ValidationError.

        The codes accepted are the regions that phonenumbers supports (245 in the
        installed version), which leave out uninhabited territories such as
        Antarctica (AQ).
        """
        country = self.cleaned_data["country"].strip().upper()
        if country not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(
                _(
                    "“%(value)s” is not a country code: type the two letters of "
                    "ISO 3166-1, such as FR for France or DE for Germany."
                ),
                params={"value": country},
            )
        return country

    def clean_phone(self) -> str:
        return _phone_checked(self.cleaned_data["phone"])

    def clean_registration_number(self) -> str:
        """Check a French number: a SIREN (9 digits) or a SIRET (14 digits).

        Spaces, non-breaking ones included, may separate the digits, and the
        last digit must be the Luhn check digit. Numbers of other countries
        have forms of their own and are kept as typed.
        """
        number = self.cleaned_data["registration_number"].strip()
        if (self.cleaned_data.get("country") or "").upper() != "FR" or not number:
            return number
        digits = "".join(number.split())
        if not (digits.isascii() and digits.isdigit() and len(digits) in (9, 14)):
            raise forms.ValidationError(
                _(
                    "“%(value)s” is neither a SIREN nor a SIRET number: type the "
                    "9 digits of the SIREN or the 14 digits of the SIRET, spaces "
                    "allowed."
                ),
                params={"value": number[:40]},
            )
        if not french_registration_checks(digits):
            raise forms.ValidationError(
                _(
                    "“%(value)s” has a wrong check digit for a SIREN or SIRET "
                    "number: copy it again from the company's Kbis extract."
                ),
                params={"value": number[:40]},
            )
        return number

    def clean_dpo_phone(self) -> str:
        return _phone_checked(self.cleaned_data["dpo_phone"])

    def clean_address(self) -> str:
        return _length_checked(self.cleaned_data["address"])

    def clean_eu_representative(self) -> str:
        return _length_checked(self.cleaned_data["eu_representative"])

    def clean_dpo_address(self) -> str:
        return _length_checked(self.cleaned_data["dpo_address"])


def _length_checked(value: str) -> str:
    """Return ``value`` if it has at most ``ORGANISATION_TEXT_MAX_LENGTH``
    characters, a line break counting as one, or raise ValidationError."""
    length = len(newlines_unified(value))
    if length > ORGANISATION_TEXT_MAX_LENGTH:
        raise forms.ValidationError(
            _(
                "This text has %(length)d characters, above the maximum of "
                "%(max)d. Keep only the postal address and the name it goes "
                "with."
            ),
            code="max_length",
            params={"length": length, "max": ORGANISATION_TEXT_MAX_LENGTH},
        )
    return value


def french_registration_checks(digits: str) -> bool:
    """Return whether a SIREN or SIRET passes its check.

    Both end with a Luhn check digit. La Poste's establishments share the
    SIREN 356000000, and many of their SIRET numbers fail Luhn but have a
    digit sum that is a multiple of 5, which is their check.
    """
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    if total % 10 == 0:
        return True
    return (
        len(digits) == 14
        and digits.startswith("356000000")
        and sum(int(digit) for digit in digits) % 5 == 0
    )


def _phone_checked(value: str) -> str:
    """Return ``value`` as typed if it is a phone number, or raise ValidationError.

    The number must be international with its country code, as in E.164
    (+33 6 12 34 56 78, spaces allowed), or national in ``PHONE_DEFAULT_REGION``
    (France by default), and be a valid number for its region. The text is
    kept as typed, because the register's exports show it to readers.
    """
    if not value.strip():
        return value
    try:
        normalize_phone(value)
    except InvalidIdentifier as error:
        raise forms.ValidationError(str(error), code="invalid_phone") from error
    return value


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), required=False)
    target_type = forms.CharField(label=_("Target type"), required=False)
    target_id = forms.CharField(label=_("Target id"), required=False)
    actor = forms.CharField(label=_("Actor (username)"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
