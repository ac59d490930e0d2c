"""Reading of cells into parsed activities, shared by the register sheet parsers.

``ActivityReader`` contains what the parsers of every layout have in common. It
converts a cell by the kind that the register layout gives its field (text,
date, yes/no answer, whole number, person in charge, or one of the field's
choices), records the cell that each value was read from, and completes an
activity once its sheet is read. A value it cannot read becomes a problem that
points at the cell. ``RegisterParser`` in ``apps.register.parsing`` extends it
with the reading of each kind of sheet, and ``CnilRecordReader`` calls it
through that parser.
"""

import datetime
import re
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from decimal import InvalidOperation

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.forms import EARLIEST_YEAR
from apps.core.forms import latest_plausible_date
from apps.core.text import text_shortened
from apps.register.cells import ERROR
from apps.register.cells import WARNING
from apps.register.cells import CellLocation
from apps.register.cells import Problem
from apps.register.cells import cell_text
from apps.register.cells import column_letter
from apps.register.layout import RECORD_FIELDS
from apps.register.layout import UNKNOWN
from apps.register.layout import choice_label
from apps.register.layout import choice_lookup
from apps.register.layout import normalize_label
from apps.register.services import ActivityData
from apps.register.spreadsheets import Sheet

# Key of a value in ``ParsedActivity.locations``: the part (None for the
# activity's own fields), the row's index in that part, and the field name. A
# key whose field is None locates a part's whole row.
LocationKey = tuple[str | None, int | None, str | None]


@dataclass
class ParsedActivity:
    data: ActivityData
    sheet: str
    row: int | None
    created_on: datetime.date | None = None
    # When the file was exported, if the file contains the date. A file that
    # gives only the day counts from the start of that day, so that a change
    # made later that day is taken as made after the export.
    exported_at: datetime.datetime | None = None
    # The cell each value was read from, so that errors found on saving point
    # at it.
    locations: dict[LocationKey, CellLocation] = field(default_factory=dict)


_BOOLEANS = {
    "oui": True,
    "yes": True,
    "true": True,
    "vrai": True,
    "1": True,
    "x": True,
    "non": False,
    "no": False,
    "false": False,
    "faux": False,
    "0": False,
}

_DATE_TEXT = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
# A day-first date with a time, as a spreadsheet writes a date cell when it
# saves the sheet as CSV: "05/12/2026 13:02:27" or "05/12/2026 13:02".
_DATE_TIME_TEXT = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})[ T]+(\d{1,2})[:h](\d{2})(?::(\d{2}))?$"
)


def _moment_from_text(text: str) -> datetime.date | None:
    """Read a date or date and time from text, or return None if unreadable.

    Accepted forms: ISO 8601 (date, or date and time), DD/MM/YYYY, and
    DD/MM/YYYY HH:MM with optional seconds. "/", "." and "-" separate the day,
    month and year.
    """
    date_match = _DATE_TEXT.match(text)
    time_match = _DATE_TIME_TEXT.match(text)
    try:
        if date_match:
            day, month, year = (int(part) for part in date_match.groups())
            return datetime.date(year, month, day)
        if time_match:
            day, month, year, hour, minute, second = (
                int(part or 0) for part in time_match.groups()
            )
            # Naive, like the exports' text: the caller reads it as local time.
            return datetime.datetime(year, month, day, hour, minute, second)  # noqa: DTZ001
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


class ActivityReader:
    """Read cells into the values of activities and collect problems."""

    def __init__(self):
        self.problems: list[Problem] = []
        self._lookups = {}
        self._users = {}

    # Problems ----------------------------------------------------------------

    def _problem(self, level, sheet, row_index, column_index, message) -> None:
        self.problems.append(
            Problem(
                level,
                sheet.name if isinstance(sheet, Sheet) else sheet,
                None if row_index is None else row_index + 1,
                "" if column_index is None else column_letter(column_index),
                message,
            )
        )

    @staticmethod
    def _locate(locations, key: LocationKey, sheet, row_index, column_index, header):
        """Record that the value of ``key`` was read from this cell."""
        locations[key] = CellLocation(
            sheet.name, row_index + 1, column_letter(column_index), cell_text(header)
        )

    # Values ------------------------------------------------------------------

    def _convert(self, kind: str, value, sheet, row_index, column_index):
        """Return the field value of a cell, or None after recording a problem."""
        text = cell_text(value)
        if kind == "text":
            return text
        if kind == "date":
            return self._date(value, text, sheet, row_index, column_index)
        if kind in ("bool", "optional_bool"):
            normalized = normalize_label(text)
            if kind == "optional_bool" and normalized in (
                "",
                normalize_label(UNKNOWN),
                "unknown",
            ):
                return None
            if isinstance(value, bool):
                return value
            if normalized == "":
                return False
            if normalized in _BOOLEANS:
                return _BOOLEANS[normalized]
            self._problem(
                ERROR,
                sheet,
                row_index,
                column_index,
                _("“%(value)s” is not a yes/no answer; write Oui or Non.")
                % {"value": text_shortened(text)},
            )
            return None
        if kind == "int":
            return self._whole_number(text, sheet, row_index, column_index)
        if kind == "owner":
            return self._owner(text, sheet, row_index, column_index)
        return self._choice(kind, text, sheet, row_index, column_index)

    def _whole_number(self, text, sheet, row_index, column_index):
        # Decimal keeps "2.5" exact, so a fraction is rejected instead of being
        # truncated, and a spreadsheet's "3.0" still reads as 3.
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            number = Decimal(0)
        if not number.is_finite() or number <= 0:
            message = _("“%(value)s” is not a whole number above zero.")
        elif number != number.to_integral_value():
            message = _(
                "“%(value)s” is not a whole number. Write the duration in a smaller "
                "unit, such as months instead of years."
            )
        elif number.adjusted() > 9:
            # Converting a text such as "1e999999999" to int would build a number
            # of a billion digits.
            message = _("“%(value)s” is too large for a duration.")
        else:
            return int(number)

        self._problem(
            ERROR,
            sheet,
            row_index,
            column_index,
            message % {"value": text_shortened(text)},
        )
        return None

    def _date(self, value, text, sheet, row_index, column_index):
        day = self._date_read(value, text, sheet, row_index, column_index)
        if day is None:
            return None
        latest = latest_plausible_date()
        if day.year < EARLIEST_YEAR:
            message = _(
                "%(value)s is too far in the past: check the year, which must "
                "be %(year)d or later."
            ) % {"value": day.strftime("%d/%m/%Y"), "year": EARLIEST_YEAR}
        elif day > latest:
            message = _(
                "%(value)s is too far in the future: check the year, because "
                "the date must be %(latest)s or earlier."
            ) % {
                "value": day.strftime("%d/%m/%Y"),
                "latest": latest.strftime("%d/%m/%Y"),
            }
        else:
            return day

        self._problem(ERROR, sheet, row_index, column_index, message)
        return None

    def _date_read(self, value, text, sheet, row_index, column_index):
        if value in (None, ""):
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        match = _DATE_TEXT.match(text)
        try:
            if match:
                day, month, year = (int(part) for part in match.groups())
                return datetime.date(year, month, day)
            return datetime.date.fromisoformat(text)
        except ValueError:
            self._problem(
                ERROR,
                sheet,
                row_index,
                column_index,
                _(
                    "“%(value)s” is not a date. Write it as YYYY-MM-DD, as the CSV "
                    "export does, or as DD/MM/YYYY."
                )
                % {"value": text_shortened(text)},
            )
            return None

    def _export_time(self, value, sheet, row_index, column_index):
        """Return the export's time as an aware datetime, or None if unreadable.

        The exports write local time without a time zone, so it is read in
        the project's time zone.
        """
        if value in (None, ""):
            return None
        moment = value
        if isinstance(value, str):
            moment = _moment_from_text(value.strip())
        if isinstance(moment, datetime.date) and not isinstance(
            moment, datetime.datetime
        ):
            moment = datetime.datetime.combine(moment, datetime.time())
        if not isinstance(moment, datetime.datetime):
            self._problem(
                WARNING,
                sheet,
                row_index,
                column_index,
                _(
                    "“%(value)s” is not the export's date and time, so changes "
                    "made in Registre since the export cannot be detected."
                )
                % {"value": text_shortened(cell_text(value))},
            )
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def _choice(self, kind, text, sheet, row_index, column_index):
        if not text:
            return ""
        lookup = self._lookups.get(kind)
        if lookup is None:
            lookup = self._lookups[kind] = choice_lookup(kind)
        value = lookup.get(normalize_label(text))
        if value is None:
            accepted = sorted({choice_label(kind, code) for code in lookup.values()})
            self._problem(
                ERROR,
                sheet,
                row_index,
                column_index,
                _("“%(value)s” is not an accepted value; use one of: %(accepted)s.")
                % {"value": text_shortened(text), "accepted": " | ".join(accepted)},
            )
            return None
        return value

    def _owner(self, text, sheet, row_index, column_index):
        if not text:
            return None
        if text not in self._users:
            self._users[text] = _user_named(text)
        user = self._users[text]
        if user is None:
            self._problem(
                WARNING,
                sheet,
                row_index,
                column_index,
                _(
                    "No user is named “%(username)s”; the person in charge is left "
                    "empty. Create the user first or choose the owner after the "
                    "import."
                )
                % {"username": text_shortened(text)},
            )
        return user

    # Completion --------------------------------------------------------------

    def _finish(
        self,
        sheet,
        row_index,
        fields,
        parts,
        created_on,
        *,
        reference_column: int | None = 1,
        name_column: int | None = 1,
        locations: dict[LocationKey, CellLocation] | None = None,
    ):
        """Return the parsed activity, or None after recording what is missing.

        The column arguments locate the reference and the name in the sheet. A
        record sheet has both in column B, and a CSV has them where its header
        puts them.
        """
        if not fields.get("reference"):
            self._problem(
                ERROR,
                sheet,
                row_index,
                reference_column,
                _("The N° / RÉF (reference) is missing; every activity needs one."),
            )
            return None
        if not fields.get("name"):
            self._problem(
                ERROR,
                sheet,
                row_index,
                name_column,
                _("The Nom du traitement (activity name) of %(reference)s is missing.")
                % {"reference": fields["reference"]},
            )
            return None
        for name, _label, kind in RECORD_FIELDS:
            if (
                name in fields
                and fields[name] is None
                and kind
                not in (
                    "date",
                    "owner",
                    "optional_bool",
                )
            ):
                fields.pop(name)
        return ParsedActivity(
            data=ActivityData(fields=fields, parts=parts),
            sheet=sheet.name,
            row=row_index + 1,
            created_on=created_on,
            locations=locations or {},
        )


# "Full Name (login)", as the exports write the person in charge.
_NAME_AND_LOGIN = re.compile(r"\((?P<login>[^()]+)\)\s*\Z")


def _user_named(text: str):
    """Return the user whose login is ``text`` or in its closing brackets."""
    users = get_user_model().objects
    user = users.filter(username=text).first()
    if user is None and (match := _NAME_AND_LOGIN.search(text)):
        user = users.filter(username=match.group("login").strip()).first()
    return user
