"""Parsing of register sheets: this app's exports and the CNIL template.

``RegisterParser`` recognises the kind of each sheet (this app's record sheet or
CSV, the CNIL template's list of activities or record sheet) and turns it into
``ParsedActivity`` items, with a problem for each thing it cannot read. The
module is named for parsing rather than for workbooks because a CSV file, read
as a single sheet, goes through the same parser. ``apps.register.cnil`` reads
the CNIL record sheet, and ``apps.register.activity_reading`` converts the cell
values and completes each activity.
"""

from django.utils.translation import gettext as _

from apps.core.text import text_shortened
from apps.register.activity_reading import _BOOLEANS
from apps.register.activity_reading import ActivityReader
from apps.register.activity_reading import LocationKey
from apps.register.activity_reading import ParsedActivity
from apps.register.cells import ERROR
from apps.register.cells import INFO
from apps.register.cells import WARNING
from apps.register.cells import CellLocation
from apps.register.cells import cell_text
from apps.register.cells import cell_value
from apps.register.cells import column_letter
from apps.register.cells import last_line
from apps.register.cnil import CnilRecordReader
from apps.register.exports import CSV_ACTIVITY_KIND
from apps.register.exports import CSV_KIND_COLUMN
from apps.register.layout import EXPORT_TIME_LABEL
from apps.register.layout import MAINTAINED_FIELDS
from apps.register.layout import PART_TABLES
from apps.register.layout import PROCESSOR_SUMMARY_TITLE
from apps.register.layout import RECORD_TITLE
from apps.register.layout import SUMMARY_TITLE
from apps.register.layout import normalize_label
from apps.register.layout import organisation_labels
from apps.register.layout import record_labels
from apps.register.models import ProcessingActivity
from apps.register.services import ActivityData
from apps.register.spreadsheets import Sheet


class RegisterParser(ActivityReader):
    """Turn sheets into ``ParsedActivity`` items and collect problems."""

    # Dispatch ----------------------------------------------------------------

    def parse(self, sheets: list[Sheet]) -> list[ParsedActivity]:
        found: dict[str, ParsedActivity] = {}
        listed: list[tuple[ParsedActivity, bool]] = []
        exported_at = None

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
                exported_at = self._summary_export_time(sheet) or exported_at
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
        # The summary sheet's export time applies to every record sheet of the
        # workbook, while a CSV row contains its own.
        for item in found.values():
            item.exported_at = item.exported_at or exported_at
        return list(found.values())

    def _summary_export_time(self, sheet: Sheet):
        label = normalize_label(EXPORT_TIME_LABEL)
        for index, row in enumerate(sheet.rows):
            if normalize_label(cell_value(row, 0)) == label:
                return self._export_time(cell_value(row, 1), sheet, index, 1)
        return None

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

    # This app's record sheet -------------------------------------------------

    def _parse_record(self, sheet: Sheet) -> ParsedActivity | None:
        labels = record_labels()
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
                elif name in MAINTAINED_FIELDS:
                    pass
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
                    _("Unknown label “%(label)s”; the row is ignored.")
                    % {"label": text_shortened(cell_text(cell_value(row, 0)))},
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
                    _("Unknown column “%(header)s”; it is ignored.")
                    % {"header": text_shortened(cell_text(header))},
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

    # This app's CSV ----------------------------------------------------------

    def _parse_csv(self, sheet: Sheet) -> list[ParsedActivity]:
        header = sheet.rows[0]
        field_columns = {}
        part_columns: dict[str, dict[int, tuple[str, str]]] = {
            p: {} for p in PART_TABLES
        }
        labels = record_labels()
        part_headers = {}
        for part, (title, columns) in PART_TABLES.items():
            for name, column_header, kind in columns:
                key = normalize_label(f"{title} : {column_header}")
                part_headers[key] = (part, name, kind)
        titles = {
            normalize_label(title): part for part, (title, _c) in PART_TABLES.items()
        }
        identity = organisation_labels()
        export_column = None

        for column, value in enumerate(header[1:], start=1):
            key = normalize_label(cell_value(header, column))
            if key == normalize_label(EXPORT_TIME_LABEL):
                export_column = column
            elif key in identity:
                # The organisation's identity is exported for the reader. The
                # organisation profile is edited in Registre, not imported.
                continue
            elif key in labels:
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
                    _("Unknown column “%(header)s”; it is ignored.")
                    % {"header": text_shortened(cell_text(value))},
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
                    elif name not in MAINTAINED_FIELDS:
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
                    if export_column is not None:
                        item.exported_at = self._export_time(
                            cell_value(row, export_column), sheet, index, export_column
                        )
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
                        "Rows of type “%(kind)s” need their columns in the header, "
                        "named '%(kind)s : <column>'."
                    )
                    % {"kind": text_shortened(cell_text(cell_value(row, 0)))},
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
                    _("Unknown row type “%(kind)s”; use %(activity)s or a part title.")
                    % {
                        "kind": text_shortened(cell_text(cell_value(row, 0))),
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
                    _("The activity “%(name)s” has no N° / RÉF; fill in column B.")
                    % {"name": text_shortened(name)},
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
