"""Reading and writing spreadsheet grids (XLSX, ODS, CSV) for the register.

A grid is a list of sheets; each sheet has a name and rows of cell values
(``str``, ``int``, ``float``, ``date``, ``bool`` or ``None``). Exports build
grids and write them; imports read files into grids and then parse them, so
every format goes through the same layout code.
"""

import csv
import datetime
import functools
import io
import logging
import re
import zipfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from xml.parsers import expat

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from odf import teletype
from odf.namespaces import OFFICENS
from odf.namespaces import TABLENS
from odf.opendocument import OpenDocumentSpreadsheet
from odf.opendocument import load as odf_load
from odf.style import Style
from odf.style import TableColumnProperties
from odf.style import TextProperties
from odf.table import Table
from odf.table import TableColumn
from odf.table import TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl import load_workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Font

from apps.core.archives import MAX_CELL_CHARACTERS
from apps.core.archives import archive_overexpanding_part
from apps.core.exports import neutralize_formula
from apps.core.exports import ods_cell
from apps.core.exports import ods_date_styles
from apps.core.exports import xlsx_cell
from apps.core.text import newlines_unified
from apps.register.cells import apostrophe_escaped

logger = logging.getLogger(__name__)

# The largest part of an XLSX or ODS file that the reader opens. A register
# export needs far less.
MAX_PART_BYTES = 64 * 1024 * 1024
# The maximum number of XML elements in an ODS file. The ODS reader builds the
# whole document in memory, about 800 bytes per element (measured on a file of
# six million tiny elements), so a few megabytes of them would take gigabytes.
# The demo register's export has about 280 elements per activity, which leaves
# room for some 1,700 activities (an estimate).
# NOTE: a file just under the limit still takes about 400 MB while it is read.
MAX_ODS_ELEMENTS = 500_000

# Rows and columns beyond these are ignored when a file repeats empty cells,
# as ODS files do to fill a sheet up to its 1,048,576 rows.
MAX_ROWS = 20_000
MAX_COLUMNS = 200


class SpreadsheetError(ValueError):
    """A file that cannot be read as a spreadsheet."""


@dataclass
class Sheet:
    name: str
    rows: list[list] = field(default_factory=list)
    # Indexes of rows shown in bold (titles and column headers).
    bold_rows: set[int] = field(default_factory=set)
    column_widths: list[int] = field(default_factory=list)

    def append(self, values: list, *, bold: bool = False) -> None:
        if bold:
            self.bold_rows.add(len(self.rows))
        self.rows.append(list(values))


def _safe(value):
    """Return a CSV cell value with LF line breaks and formula-like text neutralised."""
    if not isinstance(value, str):
        return value
    return neutralize_formula(_unified(value))


def _unified(value):
    """Return a cell value with LF line breaks, and an apostrophe the import removes.

    Text typed with a leading apostrophe before a formula character gets one
    more, because the import takes the first one away (``apostrophe_escaped``).
    """
    if not isinstance(value, str):
        return value
    value = newlines_unified(value)
    if apostrophe_escaped(value):
        return "'" + value
    return value


def xlsx_write(sheets: list[Sheet]) -> bytes:
    """Return an XLSX workbook of the sheets, where every text is a text cell."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.name[:31])
        for index, row in enumerate(sheet.rows):
            worksheet.append([xlsx_cell(worksheet, _unified(value)) for value in row])
            for cell in worksheet[index + 1]:
                cell.alignment = wrap
                if index in sheet.bold_rows:
                    cell.font = bold
                if isinstance(cell.value, datetime.datetime):
                    cell.number_format = "DD/MM/YYYY HH:MM:SS"
                elif isinstance(cell.value, datetime.date):
                    cell.number_format = "DD/MM/YYYY"
        for column, width in enumerate(sheet.column_widths):
            letter = worksheet.cell(row=1, column=column + 1).column_letter
            worksheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ods_write(sheets: list[Sheet]) -> bytes:
    """Return an ODS document of the sheets, where every text is a string cell.

    An ODS cell is a formula only through its ``table:formula`` attribute, so
    text that starts with ``=`` is kept as it is.
    """
    document = OpenDocumentSpreadsheet()
    bold = Style(name="registre-bold", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    date_styles = ods_date_styles(document)
    widths = {}
    for sheet in sheets:
        table = Table(name=sheet.name[:31])
        for column, width in enumerate(sheet.column_widths):
            style_name = f"registre-col-{width}"
            if style_name not in widths:
                widths[style_name] = Style(name=style_name, family="table-column")
                widths[style_name].addElement(
                    TableColumnProperties(columnwidth=f"{width * 0.19:.2f}cm")
                )
                document.automaticstyles.addElement(widths[style_name])
            table.addElement(TableColumn(stylename=widths[style_name]))
            del column
        for index, row in enumerate(sheet.rows):
            table_row = TableRow()
            for value in row:
                value = _unified(value)
                style = bold if index in sheet.bold_rows else None
                if isinstance(value, datetime.date) and style is None:
                    style = date_styles[isinstance(value, datetime.datetime)]
                table_row.addElement(ods_cell(value, style))
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


# The register is exported in the CNIL's French wording whatever the reader's
# language, so its CSV uses the separator French Excel expects.
CSV_DELIMITER = ";"


def csv_write(rows: list[list]) -> bytes:
    """Return UTF-8 CSV (with BOM) of the rows, with formula-like text neutralised."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER)
    for row in rows:
        writer.writerow(
            ["" if value is None else _safe(_csv_text(value)) for value in row]
        )
    return buffer.getvalue().encode("utf-8")


def _csv_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        # A space rather than ISO 8601's "T", so that spreadsheet programs
        # read the export's time as a date and time, not as text.
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def read_grid(path: Path | str, *, name: str | None = None) -> list[Sheet]:
    """Read an XLSX, ODS or CSV file into sheets, or raise SpreadsheetError.

    ``name`` is the file name shown to the user, such as the uploaded file's
    original name. The suffix of ``name`` picks the reader, and error messages
    show ``name`` and never the stored path.
    """
    path = Path(path)
    display_name = name or path.name
    suffix = Path(display_name).suffix.lower()
    readers = {
        ".xlsx": _xlsx_read,
        ".ods": _ods_read,
        # A CSV file has no sheet name, so its sheet takes the name the user
        # gave the file, not the stored file's.
        ".csv": functools.partial(_csv_read, display_name=display_name),
    }
    reader = readers.get(suffix)
    if reader is None:
        raise SpreadsheetError(
            _(
                "%(file)s has the extension %(suffix)s, which cannot be imported. "
                "Save the register as an .xlsx, .ods or .csv file and upload it "
                "again."
            )
            % {"file": display_name, "suffix": suffix or _("(none)")}
        )
    try:
        if suffix in (".xlsx", ".ods"):
            _expansion_check(path, display_name)
        if suffix == ".ods":
            _ods_elements_check(path, display_name)
        return reader(path)
    except SpreadsheetError:
        raise
    except Exception as error:  # noqa: BLE001 (every parser raises its own types)
        # The parser's own message is technical and in English, so it goes to
        # the log and the user gets a translated one.
        logger.warning("Register file could not be read as %s: %r", suffix, error)
        raise SpreadsheetError(
            _(
                "%(file)s could not be read as an %(format)s file. Check that "
                "it is a register export or the CNIL's register template saved "
                "in this format, and that it opens in a spreadsheet program, "
                "then upload it again."
            )
            % {"file": display_name, "format": suffix[1:].upper()}
        ) from error


def _expansion_check(path: Path, display_name: str) -> None:
    """Raise ``SpreadsheetError`` when a workbook part expands far beyond its size."""
    with zipfile.ZipFile(path) as archive:
        part = archive_overexpanding_part(archive, max_bytes=MAX_PART_BYTES)
    if part is not None:
        raise SpreadsheetError(
            _(
                "%(file)s would expand to %(size)s bytes once opened, far beyond "
                "what a register needs, so Registre does not open it. Export the "
                "register again and upload the new file."
            )
            % {
                "file": display_name,
                "size": number_format(part.file_size, force_grouping=True),
            }
        )


def _xlsx_read(path: Path) -> list[Sheet]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheets = []
    for worksheet in workbook.worksheets:
        sheet = Sheet(name=worksheet.title)
        for index, row in enumerate(worksheet.iter_rows(values_only=True)):
            if index >= MAX_ROWS:
                break
            values = [_plain(value) for value in row[:MAX_COLUMNS]]
            sheet.rows.append(values)
        _trim(sheet)
        sheets.append(sheet)
    workbook.close()
    return sheets


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.date() if value.time() == datetime.time() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _TooManyElements(Exception):
    pass


def _ods_elements_check(path: Path, display_name: str) -> None:
    """Raise ``SpreadsheetError`` when the ODS content has too many elements.

    The count streams through the XML with expat, in constant memory, and
    stops at the limit.
    """
    count = 0

    def counted(_name, _attributes):
        nonlocal count
        count += 1
        if count > MAX_ODS_ELEMENTS:
            raise _TooManyElements

    parser = expat.ParserCreate()
    parser.StartElementHandler = counted
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
        try:
            parser.ParseFile(content)
        except _TooManyElements:
            raise SpreadsheetError(
                _(
                    "%(file)s holds more than %(limit)s spreadsheet elements, far "
                    "more than a register needs, so Registre does not open it. "
                    "Export the register again and upload the new file."
                )
                % {
                    "file": display_name,
                    "limit": number_format(MAX_ODS_ELEMENTS, force_grouping=True),
                }
            ) from None


def _ods_read(path: Path) -> list[Sheet]:
    document = odf_load(str(path))
    sheets = []
    for table in document.spreadsheet.getElementsByType(Table):
        sheet = Sheet(name=table.getAttribute("name"))
        for row in table.getElementsByType(TableRow):
            repeat = int(row.getAttrNS(TABLENS, "number-rows-repeated") or 1)
            values = _ods_row(row)
            if not any(value not in (None, "") for value in values):
                # Empty rows keep their place but are not copied a million times.
                sheet.rows.extend([[]] * min(repeat, MAX_ROWS - len(sheet.rows)))
            else:
                sheet.rows.extend([values] * min(repeat, MAX_ROWS - len(sheet.rows)))
            if len(sheet.rows) >= MAX_ROWS:
                break
        _trim(sheet)
        sheets.append(sheet)
    return sheets


def _ods_row(row) -> list:
    values: list = []
    for cell in row.childNodes:
        if cell.qname[1] not in ("table-cell", "covered-table-cell"):
            continue
        repeat = int(cell.getAttrNS(TABLENS, "number-columns-repeated") or 1)
        value = _ods_value(cell)
        values.extend([value] * min(repeat, MAX_COLUMNS - len(values)))
        if len(values) >= MAX_COLUMNS:
            break
    return values


def _ods_value(cell):
    if cell.qname[1] == "covered-table-cell":
        return None
    kind = cell.getAttrNS(OFFICENS, "value-type")
    if kind == "date":
        text = cell.getAttrNS(OFFICENS, "date-value") or ""
        try:
            # A date and time, such as the export's, keeps its time, like
            # ``_plain`` does for XLSX.
            return _plain(datetime.datetime.fromisoformat(text))
        except ValueError:
            return text
    if kind in ("float", "percentage", "currency"):
        number = float(cell.getAttrNS(OFFICENS, "value"))
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return cell.getAttrNS(OFFICENS, "boolean-value") == "true"
    lines = [teletype.extractText(paragraph) for paragraph in cell.getElementsByType(P)]
    text = "\n".join(lines)
    return text if text else None


def _csv_read(path: Path, *, display_name: str) -> list[Sheet]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # newline="" lets the csv module split rows on CRLF, LF and the bare CR of
    # old Mac files, and keep line breaks inside quoted cells.
    buffer = io.StringIO(text, newline="")
    reader = csv.reader(buffer, delimiter=delimiter)
    rows = []
    # The line where the row being read starts, because a quoted cell can span
    # several lines.
    row_start = 1
    try:
        for row in reader:
            rows.append([newlines_unified(value) for value in row])
            row_start = reader.line_num + 1
    except csv.Error as error:
        raise SpreadsheetError(
            _csv_error_message(error, file=display_name, line=row_start)
        ) from error
    return [Sheet(name=Path(display_name).stem, rows=rows[:MAX_ROWS])]


def _csv_error_message(error: csv.Error, *, file: str, line: int) -> str:
    """Return the user's message for a CSV file that the csv module fails on."""
    if "field limit" in str(error):
        return _(
            "%(file)s has a cell longer than %(limit)s characters on line "
            "%(line)s, far more than a register entry holds. Shorten that cell "
            "and upload the file again."
        ) % {
            "file": file,
            "limit": number_format(MAX_CELL_CHARACTERS, force_grouping=True),
            "line": line,
        }
    return _(
        "%(file)s could not be read as CSV on line %(line)s. Check that the "
        "file opens in a spreadsheet program, save it again as CSV and upload it."
    ) % {"file": file, "line": line}


def _trim(sheet: Sheet) -> None:
    """Drop trailing empty cells and rows, which spreadsheets pad generously."""
    for row in sheet.rows:
        while row and row[-1] in (None, ""):
            row.pop()
    while sheet.rows and not sheet.rows[-1]:
        sheet.rows.pop()
