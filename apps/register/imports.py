"""Import of a register spreadsheet: this app's exports and the CNIL template.

``register_import`` reads the file, parses every sheet into activities and a
list of problems (each with its sheet, row and column), and applies the result
only when there is no error and the run is not a dry run. The dry run performs
the same database writes inside a transaction that is rolled back, so the
preview reports exactly what the real import would do. When reading the file
already found errors, the values read are still checked without writing, so
that the report lists the errors of every cell at once.
"""

import datetime
import logging
import re
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import audit_record
from apps.register.cells import ERROR
from apps.register.cells import INFO
from apps.register.cells import WARNING
from apps.register.cells import CellLocation
from apps.register.cells import Problem
from apps.register.cells import cell_text
from apps.register.cells import cell_value
from apps.register.cells import column_letter
from apps.register.cells import last_line
from apps.register.cnil import CnilRecordReader
from apps.register.exports import CSV_ACTIVITY_KIND
from apps.register.exports import CSV_KIND_COLUMN
from apps.register.layout import PART_TABLES
from apps.register.layout import PROCESSOR_SUMMARY_TITLE
from apps.register.layout import RECORD_FIELDS
from apps.register.layout import RECORD_TITLE
from apps.register.layout import SUMMARY_TITLE
from apps.register.layout import UNKNOWN
from apps.register.layout import choice_label
from apps.register.layout import choice_lookup
from apps.register.layout import normalize_label
from apps.register.models import ProcessingActivity
from apps.register.services import CHILD_MODELS
from apps.register.services import ActivityData
from apps.register.services import FieldError
from apps.register.services import RegisterError
from apps.register.services import activity_validate
from apps.register.services import activity_write
from apps.register.spreadsheets import Sheet
from apps.register.spreadsheets import SpreadsheetError
from apps.register.spreadsheets import read_grid
from apps.register.text import text_excerpt

logger = logging.getLogger(__name__)


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
    # The cell each value was read from, so that errors found on saving point
    # at it.
    locations: dict[LocationKey, CellLocation] = field(default_factory=dict)


@dataclass
class ImportReport:
    """Outcome of one import run.

    ``activities`` lists each activity's reference, name and outcome (created,
    updated or unchanged).
    """

    file_name: str
    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)
    applied: bool = False

    @property
    def has_errors(self) -> bool:
        return any(problem.level == ERROR for problem in self.problems)

    def as_dict(self) -> dict:
        return {
            "file": self.file_name,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "activities": self.activities,
            "problems": [asdict(problem) for problem in self.problems],
        }


def register_import(
    *,
    path: Path | str,
    file_name: str | None = None,
    actor=None,
    actor_label: str = "",
    dry_run: bool,
) -> ImportReport:
    """Import a register file; write nothing on errors or when ``dry_run``.

    The report lists the problems by sheet, in the order a first problem was
    found in each, then by row.
    """
    report = _register_import(
        path=path,
        file_name=file_name,
        actor=actor,
        actor_label=actor_label,
        dry_run=dry_run,
    )
    sheets = list(dict.fromkeys(problem.sheet for problem in report.problems))
    report.problems.sort(
        key=lambda problem: (sheets.index(problem.sheet), problem.row or 0)
    )
    return report


def _register_import(
    *,
    path: Path | str,
    file_name: str | None,
    actor,
    actor_label: str,
    dry_run: bool,
) -> ImportReport:
    file_name = file_name or Path(path).name
    report = ImportReport(file_name=file_name, dry_run=dry_run)
    try:
        sheets = read_grid(path, name=file_name)
    except SpreadsheetError as error:
        report.problems.append(Problem(ERROR, "", None, "", str(error)))
        return report

    report.problems.extend(_nul_characters_removed(sheets))
    parser = RegisterParser()
    parsed = parser.parse(sheets)
    report.problems.extend(parser.problems)
    if not parsed and not report.has_errors:
        report.problems.append(
            Problem(
                ERROR,
                "",
                None,
                "",
                _(
                    "No processing activity was found in %(file)s. Expected an "
                    "export of this register or the CNIL's register template "
                    "with at least one record sheet whose 'Nom du traitement' "
                    "is filled in."
                )
                % {"file": file_name},
            )
        )
    if report.has_errors:
        # The file is rejected, but the checks that saving would make still
        # run, so that the report lists every error at once.
        for item in parsed:
            _check_one(item=item, report=report)
        return report

    with transaction.atomic():
        for item in parsed:
            _apply_one(item=item, actor=actor, report=report)
        if report.has_errors or dry_run:
            transaction.set_rollback(True)

    report.applied = not (report.has_errors or dry_run)
    if report.applied:
        audit_record(
            action="register.imported",
            actor=actor,
            actor_label=actor_label,
            target_type="register.processingactivity",
            count=len(report.activities),
            details={
                "outcomes": {
                    outcome: sum(
                        1 for entry in report.activities if entry["outcome"] == outcome
                    )
                    for outcome in ("created", "updated", "unchanged")
                },
                "references": [entry["reference"] for entry in report.activities],
            },
        )
    logger.info(
        "register import file=%s dry_run=%s activities=%d problems=%d applied=%s",
        file_name,
        dry_run,
        len(report.activities),
        len(report.problems),
        report.applied,
    )
    return report


def _nul_characters_removed(sheets: list[Sheet]) -> list[Problem]:
    """Remove NUL characters from the cells, with an error for each cell.

    PostgreSQL cannot store a NUL in a text column. The error rejects the
    file, and removing the character lets the other checks run.
    """
    problems = []
    for sheet in sheets:
        for row_index, row in enumerate(sheet.rows):
            for column_index, value in enumerate(row):
                if not (isinstance(value, str) and "\x00" in value):
                    continue
                problems.append(
                    Problem(
                        ERROR,
                        sheet.name,
                        row_index + 1,
                        column_letter(column_index),
                        _(
                            "The cell %(value)s contains a NUL character (\\x00), "
                            "which cannot be stored. Remove it and import the "
                            "file again."
                        )
                        % {"value": text_excerpt(value)},
                    )
                )
                row[column_index] = value.replace("\x00", "")
    return problems


def _check_one(*, item: ParsedActivity, report: ImportReport) -> None:
    reference = item.data.fields["reference"]
    existing = ProcessingActivity.objects.filter(reference=reference).first()
    errors = activity_validate(
        data=item.data, activity=existing, check_transition=False
    )
    _errors_report(item=item, errors=errors, report=report)


def _apply_one(*, item: ParsedActivity, actor, report: ImportReport) -> None:
    reference = item.data.fields["reference"]
    existing = ProcessingActivity.objects.filter(reference=reference).first()
    try:
        with transaction.atomic():
            outcome = activity_write(
                data=item.data,
                actor=actor,
                activity=existing,
                check_transition=False,
            )
    except RegisterError as error:
        _errors_report(item=item, errors=error.field_errors, report=report)
        return

    activity = outcome.activity
    if outcome.created and item.created_on is not None:
        # Noon keeps the local date whatever the time zone's offset.
        created_at = timezone.make_aware(
            datetime.datetime.combine(item.created_on, datetime.time(12))
        )
        ProcessingActivity.objects.filter(pk=activity.pk).update(created_at=created_at)
    if outcome.created:
        result = "created"
    elif outcome.changed:
        result = "updated"
    else:
        result = "unchanged"
    report.activities.append(
        {"reference": reference, "name": activity.name, "outcome": result}
    )


def _errors_report(
    *, item: ParsedActivity, errors: list[FieldError], report: ImportReport
) -> None:
    """Add a problem for each error, at the cell its value was read from.

    A cell that already has an error from reading the file gets no second one,
    such as "this field cannot be blank" after an unreadable value.
    """
    reported = {
        (problem.sheet, problem.row, problem.column)
        for problem in report.problems
        if problem.level == ERROR
    }
    reference = item.data.fields["reference"]
    for error in errors:
        location = _error_location(item, error)
        if (location.sheet, location.row, location.column) in reported:
            continue
        report.problems.append(
            Problem(
                ERROR,
                location.sheet,
                location.row,
                location.column,
                _error_message(reference, error, location.header),
            )
        )


def _error_location(item: ParsedActivity, error: FieldError) -> CellLocation:
    # A part's row is located as a whole when its field has no cell of its own.
    for key in ((error.part, error.row, error.field), (error.part, error.row, None)):
        if key in item.locations:
            return item.locations[key]
    # The value has no cell, such as the status of a CNIL record, which the
    # template lacks: the error points at the activity's row.
    return CellLocation(item.sheet, item.row, "")


def _error_message(reference: str, error: FieldError, header: str) -> str:
    names = []
    if error.part is not None:
        names.append(str(CHILD_MODELS[error.part]._meta.verbose_name))
    if error.label:
        names.append(error.label)
    values = {
        "reference": reference,
        "field": ", ".join(names),
        "header": header,
        "messages": " ".join(error.messages),
    }
    if names and header:
        message = _(
            "Activity %(reference)s, %(field)s (“%(header)s” in the file): %(messages)s"
        )
        return message % values
    if names:
        return _("Activity %(reference)s, %(field)s: %(messages)s") % values
    return _("Activity %(reference)s: %(messages)s") % values


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


class RegisterParser:
    """Turn sheets into ``ParsedActivity`` items and collect problems."""

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

    # Dispatch ----------------------------------------------------------------

    def parse(self, sheets: list[Sheet]) -> list[ParsedActivity]:
        found: dict[str, ParsedActivity] = {}
        listed: list[tuple[ParsedActivity, bool]] = []

        for sheet in sheets:
            kind = self._sheet_kind(sheet)
            if kind == "record":
                self._add(found, self._parse_record(sheet), sheet)
            elif kind == "csv":
                for item in self._parse_csv(sheet):
                    self._add(found, item, sheet)
            elif kind == "cnil_record":
                item = self._parse_cnil_record(sheet)
                if item is not None:
                    self._add(found, item, sheet)
            elif kind == "cnil_list":
                listed.extend(self._parse_cnil_list(sheet))
            elif kind == "summary":
                continue
            else:
                self._problem(
                    INFO,
                    sheet,
                    None,
                    None,
                    _(
                        "Sheet skipped: it is neither a record sheet (fiche de "
                        "registre) nor a list of activities."
                    ),
                )

        for item, sensitive in listed:
            self._merge_listed(found, item, sensitive)
        return list(found.values())

    def _sheet_kind(self, sheet: Sheet) -> str:
        if not sheet.rows:
            return "empty"
        first = normalize_label(cell_value(sheet.rows[0], 0))
        if first == normalize_label(RECORD_TITLE):
            return "record"
        if first in (
            normalize_label(SUMMARY_TITLE),
            normalize_label(PROCESSOR_SUMMARY_TITLE),
        ):
            return "summary"
        if first == normalize_label(CSV_KIND_COLUMN):
            return "csv"
        labels_a = {
            normalize_label(last_line(cell_value(row, 0))) for row in sheet.rows
        }
        for row in sheet.rows:
            if (
                normalize_label(cell_value(row, 0)) == "nom du traitement"
                and normalize_label(cell_value(row, 1)) == "n° / réf"
            ):
                return "cnil_list"
        if {"nom du traitement", "n° / réf"} <= labels_a:
            return "cnil_record"
        return "other"

    def _add(self, found, item: ParsedActivity | None, sheet) -> None:
        if item is None:
            return
        reference = item.data.fields.get("reference", "")
        if reference in found:
            self._problem(
                ERROR,
                sheet,
                item.row,
                None,
                _(
                    "The reference %(reference)s is used twice (also on sheet "
                    "%(other)s); give each activity its own N° / RÉF."
                )
                % {"reference": reference, "other": found[reference].sheet},
            )
            return
        found[reference] = item

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
                _("%(value)r is not a yes/no answer; write Oui or Non.")
                % {"value": text},
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
            message = _("%(value)r is not a whole number above zero.")
        elif number != number.to_integral_value():
            message = _(
                "%(value)r is not a whole number. Write the duration in a smaller "
                "unit, such as months instead of years."
            )
        elif number.adjusted() > 9:
            # Converting a text such as "1e999999999" to int would build a number
            # of a billion digits.
            message = _("%(value)r is too large for a duration.")
        else:
            return int(number)

        self._problem(ERROR, sheet, row_index, column_index, message % {"value": text})
        return None

    def _date(self, value, text, sheet, row_index, column_index):
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
                    "%(value)r is not a date. Write it as YYYY-MM-DD, as the CSV "
                    "export does, or as DD/MM/YYYY."
                )
                % {"value": text},
            )
            return None

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
                _("%(value)r is not an accepted value; use one of: %(accepted)s.")
                % {"value": text, "accepted": " | ".join(accepted)},
            )
            return None
        return value

    def _owner(self, text, sheet, row_index, column_index):
        if not text:
            return None
        if text not in self._users:
            self._users[text] = get_user_model().objects.filter(username=text).first()
        user = self._users[text]
        if user is None:
            self._problem(
                WARNING,
                sheet,
                row_index,
                column_index,
                _(
                    "No user is named %(username)r; the person in charge is left "
                    "empty. Create the user first or choose the owner after the "
                    "import."
                )
                % {"username": text},
            )
        return user

    # This app's record sheet -------------------------------------------------

    def _parse_record(self, sheet: Sheet) -> ParsedActivity | None:
        labels = {
            normalize_label(label): (name, kind) for name, label, kind in RECORD_FIELDS
        }
        titles = {
            normalize_label(title): part for part, (title, _c) in PART_TABLES.items()
        }
        fields: dict = {}
        # Only the part tables present in the sheet replace the stored parts.
        parts: dict[str, list[dict]] = {}
        locations: dict[LocationKey, CellLocation] = {}
        created_on = None
        reference_row = 0
        index = 1
        rows = sheet.rows

        while index < len(rows):
            row = rows[index]
            label = normalize_label(cell_value(row, 0))
            if label in titles and not any(cell_text(v) for v in row[1:]):
                index = self._parse_part_table(
                    sheet, index, titles[label], parts, locations
                )
                continue
            if label in labels:
                name, kind = labels[label]
                value = self._convert(kind, cell_value(row, 1), sheet, index, 1)
                if name == "created_at":
                    created_on = value
                elif name == "updated_at":
                    pass  # Maintained by Registre on every save.
                else:
                    fields[name] = value
                    self._locate(locations, (None, None, name), sheet, index, 1, row[0])
                    if name == "reference":
                        reference_row = index
            elif label:
                self._problem(
                    WARNING,
                    sheet,
                    index,
                    0,
                    _("Unknown label %(label)r; the row is ignored.")
                    % {"label": cell_text(cell_value(row, 0))},
                )
            index += 1

        return self._finish(
            sheet, reference_row, fields, parts, created_on, locations=locations
        )

    def _parse_part_table(self, sheet, title_index, part, parts, locations) -> int:
        """Read one part table starting at its title row; return the next row."""
        title, columns = PART_TABLES[part]
        headers = {
            normalize_label(header): (name, kind) for name, header, kind in columns
        }
        index = title_index + 1
        header_row = sheet.rows[index] if index < len(sheet.rows) else []

        mapping = {}
        for column, header in enumerate(header_row):
            key = normalize_label(cell_value(header_row, column))
            if key in headers:
                mapping[column] = headers[key]
            elif key:
                self._problem(
                    WARNING,
                    sheet,
                    index,
                    column,
                    _("Unknown column %(header)r; it is ignored.")
                    % {"header": cell_text(header)},
                )
        found = {name for name, _kind in mapping.values()}
        missing = [header for name, header, _kind in columns if name not in found]
        if missing:
            self._problem(
                ERROR,
                sheet,
                index,
                None,
                _("The table %(title)s is missing the columns: %(columns)s.")
                % {"title": title, "columns": ", ".join(missing)},
            )

        index += 1
        parts[part] = []
        while index < len(sheet.rows) and any(cell_text(v) for v in sheet.rows[index]):
            row = sheet.rows[index]
            position = len(parts[part])
            values = {}
            for column, (name, kind) in mapping.items():
                values[name] = self._convert(
                    kind, cell_value(row, column), sheet, index, column
                )
                self._locate(
                    locations,
                    (part, position, name),
                    sheet,
                    index,
                    column,
                    cell_value(header_row, column),
                )
            self._locate(locations, (part, position, None), sheet, index, 0, "")
            parts[part].append(values)
            index += 1
        return index

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

    # This app's CSV ----------------------------------------------------------

    def _parse_csv(self, sheet: Sheet) -> list[ParsedActivity]:
        header = sheet.rows[0]
        field_columns = {}
        part_columns: dict[str, dict[int, tuple[str, str]]] = {
            p: {} for p in PART_TABLES
        }
        labels = {
            normalize_label(label): (name, kind) for name, label, kind in RECORD_FIELDS
        }
        part_headers = {}
        for part, (title, columns) in PART_TABLES.items():
            for name, column_header, kind in columns:
                key = normalize_label(f"{title} : {column_header}")
                part_headers[key] = (part, name, kind)
        titles = {
            normalize_label(title): part for part, (title, _c) in PART_TABLES.items()
        }

        for column, value in enumerate(header[1:], start=1):
            key = normalize_label(cell_value(header, column))
            if key in labels:
                field_columns[column] = labels[key]
            elif key in part_headers:
                part, name, kind = part_headers[key]
                part_columns[part][column] = (name, kind)
            elif key:
                self._problem(
                    WARNING,
                    sheet,
                    0,
                    column,
                    _("Unknown column %(header)r; it is ignored.") % {"header": value},
                )
        reference_column = next(
            (c for c, (name, _k) in field_columns.items() if name == "reference"), None
        )
        name_column = next(
            (c for c, (name, _k) in field_columns.items() if name == "name"), None
        )
        if reference_column is None:
            self._problem(
                ERROR, sheet, 0, None, _("The column N° / RÉF (reference) is missing.")
            )
            return []

        activities: dict[str, ParsedActivity] = {}
        # References of activity rows already reported as invalid, whose part
        # rows need no second error.
        rejected: set[str] = set()
        pending: list[tuple[int, str, str, dict]] = []
        for index, row in enumerate(sheet.rows[1:], start=1):
            if not any(cell_text(v) for v in row):
                continue
            kind = normalize_label(cell_value(row, 0))
            reference = cell_text(cell_value(row, reference_column))
            if kind == normalize_label(CSV_ACTIVITY_KIND):
                fields = {}
                locations: dict[LocationKey, CellLocation] = {}
                created_on = None
                for column, (name, field_kind) in field_columns.items():
                    value = self._convert(
                        field_kind, cell_value(row, column), sheet, index, column
                    )
                    if name == "created_at":
                        created_on = value
                    elif name != "updated_at":
                        fields[name] = value
                        self._locate(
                            locations,
                            (None, None, name),
                            sheet,
                            index,
                            column,
                            cell_value(header, column),
                        )
                # A part without columns in the file keeps its stored rows.
                parts = {part: [] for part, columns in part_columns.items() if columns}
                item = self._finish(
                    sheet,
                    index,
                    fields,
                    parts,
                    created_on,
                    reference_column=reference_column,
                    name_column=name_column,
                    locations=locations,
                )
                if item is None:
                    rejected.add(reference)
                else:
                    if reference in activities:
                        self._problem(
                            ERROR,
                            sheet,
                            index,
                            reference_column,
                            _("The reference %(reference)s is used twice.")
                            % {"reference": reference},
                        )
                    activities[reference] = item
            elif kind in titles and not part_columns[titles[kind]]:
                self._problem(
                    ERROR,
                    sheet,
                    index,
                    0,
                    _(
                        "Rows of type %(kind)r need their columns in the header, "
                        "named '%(kind)s : <column>'."
                    )
                    % {"kind": cell_text(cell_value(row, 0))},
                )
            elif kind in titles:
                part = titles[kind]
                values = {
                    name: self._convert(
                        field_kind, cell_value(row, column), sheet, index, column
                    )
                    for column, (name, field_kind) in part_columns[part].items()
                }
                pending.append((index, reference, part, values))
            else:
                self._problem(
                    ERROR,
                    sheet,
                    index,
                    0,
                    _("Unknown row type %(kind)r; use %(activity)s or a part title.")
                    % {
                        "kind": cell_text(cell_value(row, 0)),
                        "activity": CSV_ACTIVITY_KIND,
                    },
                )

        for index, reference, part, values in pending:
            if not reference:
                self._problem(
                    ERROR,
                    sheet,
                    index,
                    reference_column,
                    _(
                        "The N° / RÉF (reference) is missing, so this row belongs "
                        "to no activity. Fill in column %(column)s with the "
                        "reference of its activity."
                    )
                    % {"column": column_letter(reference_column)},
                )
                continue
            if reference in rejected:
                continue
            if reference not in activities:
                self._problem(
                    ERROR,
                    sheet,
                    index,
                    reference_column,
                    _("No activity row has the reference %(reference)s.")
                    % {"reference": reference},
                )
                continue
            item = activities[reference]
            position = len(item.data.parts[part])
            for column, (name, _kind) in part_columns[part].items():
                self._locate(
                    item.locations,
                    (part, position, name),
                    sheet,
                    index,
                    column,
                    cell_value(header, column),
                )
            self._locate(item.locations, (part, position, None), sheet, index, 0, "")
            item.data.parts[part].append(values)
        return list(activities.values())

    # The CNIL template -------------------------------------------------------

    def _parse_cnil_list(self, sheet: Sheet) -> list[tuple[ParsedActivity, bool]]:
        header_index = next(
            index
            for index, row in enumerate(sheet.rows)
            if normalize_label(cell_value(row, 0)) == "nom du traitement"
        )
        groups = sheet.rows[header_index - 1] if header_index else []
        headers = sheet.rows[header_index]
        columns = {"name": 0, "reference": 1}
        for column in range(max(len(groups), len(headers))):
            group = normalize_label(cell_value(groups, column))
            label = normalize_label(cell_value(headers, column))
            if "date de création" in label:
                columns["created"] = column
            elif group.startswith("finalité"):
                columns["purposes"] = column
            elif group.startswith("données sensibles"):
                columns["sensitive"] = column

        listed = []
        for index in range(header_index + 1, len(sheet.rows)):
            row = sheet.rows[index]
            name = cell_text(cell_value(row, columns["name"]))
            reference = cell_text(cell_value(row, columns["reference"]))
            if not name and not reference:
                continue
            if not reference:
                self._problem(
                    ERROR,
                    sheet,
                    index,
                    columns["reference"],
                    _("The activity %(name)r has no N° / RÉF; fill in column B.")
                    % {"name": name},
                )
                continue
            fields = {
                "reference": reference,
                "name": name,
                "status": ProcessingActivity.Status.DRAFT,
            }
            if "purposes" in columns:
                fields["purposes"] = cell_text(cell_value(row, columns["purposes"]))
            created_on = None
            if "created" in columns:
                created_on = self._convert(
                    "date",
                    cell_value(row, columns["created"]),
                    sheet,
                    index,
                    columns["created"],
                )
            sensitive = False
            if "sensitive" in columns:
                answer = normalize_label(
                    cell_text(cell_value(row, columns["sensitive"]))
                )
                sensitive = _BOOLEANS.get(answer, False)
            if name.lower().startswith("(exemple)"):
                self._problem(
                    WARNING,
                    sheet,
                    index,
                    0,
                    _(
                        "This row is the CNIL's example; it is imported as a "
                        "draft activity that you can delete."
                    ),
                )
            item = ParsedActivity(
                data=ActivityData(fields=fields, parts={}),
                sheet=sheet.name,
                row=index + 1,
                created_on=created_on,
            )
            for name in ("name", "reference", "purposes"):
                if name in columns:
                    self._locate(
                        item.locations,
                        (None, None, name),
                        sheet,
                        index,
                        columns[name],
                        cell_value(headers, columns[name])
                        or cell_value(groups, columns[name]),
                    )
            listed.append((item, sensitive))
        return listed

    def _merge_listed(self, found, item: ParsedActivity, sensitive: bool) -> None:
        reference = item.data.fields["reference"]
        record = found.get(reference)
        if record is None:
            self._problem(
                WARNING,
                item.sheet,
                item.row - 1,
                None,
                _(
                    "The activity %(reference)s has no record sheet; it is imported "
                    "with its name and purposes only, as a draft."
                )
                % {"reference": reference},
            )
            found[reference] = item
            return
        for name in ("purposes",):
            if not record.data.fields.get(name) and item.data.fields.get(name):
                record.data.fields[name] = item.data.fields[name]
                key = (None, None, name)
                if key in item.locations:
                    record.locations[key] = item.locations[key]
        record.created_on = record.created_on or item.created_on
        has_sensitive = any(
            row.get("sensitivity") != "standard"
            for row in record.data.parts.get("data_categories", [])
        )
        if sensitive and not has_sensitive:
            self._problem(
                WARNING,
                item.sheet,
                item.row - 1,
                None,
                _(
                    "The list says %(reference)s processes sensitive data but its "
                    "record sheet lists none; check the categories of data."
                )
                % {"reference": reference},
            )

    def _parse_cnil_record(self, sheet: Sheet) -> ParsedActivity | None:
        return CnilRecordReader(self, sheet).read()
