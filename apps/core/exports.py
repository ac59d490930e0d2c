"""Spreadsheet-safe export helpers shared by every export.

Excel and LibreOffice run a CSV cell whose text starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula (CSV injection). In CSV
such text is prefixed with an apostrophe, which spreadsheets show as plain
text. Text made only of digits, spaces and ``+-().,/`` (an E.164 phone number,
a negative amount) cannot call a function, so it is left intact. An XLSX cell
has a type of its own, so ``xlsx_cell`` stores such text as a text cell,
unchanged, and ``ods_cell`` as a string cell.
"""

import csv
import datetime
import io
import itertools
import re
from collections.abc import Iterable
from collections.abc import Sequence

from django.utils.translation import get_language
from odf import teletype
from odf.number import DateStyle
from odf.number import Day
from odf.number import Hours
from odf.number import Minutes
from odf.number import Month
from odf.number import Text
from odf.number import Year
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style
from odf.table import Table
from odf.table import TableCell
from odf.table import TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.cell.cell import WriteOnlyCell

from apps.core.text import newlines_unified

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A signed number or a phone number written with spaces, dots or brackets. A
# further sign or slash would let a spreadsheet compute it ("-2+3" shows 1).
NUMERIC_TEXT = re.compile(r"[+-][\d\s().,]*\Z")


# Characters that XML 1.0, and so XLSX and ODS, cannot hold: most C0 control
# characters, lone surrogates and the non-characters U+FFFE and U+FFFF. Text
# pasted from Word carries a vertical tab for each Shift+Enter line break.
XML_ILLEGAL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
)
LINE_BREAK_CHARACTERS = {"\x0b": "\n", "\x0c": "\n"}


def xml_text(value: str) -> str:
    """Return ``value`` without the characters an XML document cannot hold.

    A vertical tab or a form feed becomes a line break, and any other such
    character is dropped: openpyxl would raise on a control character or
    write a file that spreadsheets refuse to open, and so would odfpy.
    """
    return XML_ILLEGAL_CHARACTERS.sub(
        lambda match: LINE_BREAK_CHARACTERS.get(match.group(0), ""), value
    )


def neutralize_formula(value):
    """Return ``value`` with a leading apostrophe if its text could run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if NUMERIC_TEXT.match(value):
        return value
    return "'" + value


def safe_row(values: Iterable) -> list:
    return [neutralize_formula(value) for value in values]


# The separator Excel expects when it opens a CSV file by double-click: the
# list separator of Windows' regional settings, ";" for French and most of
# continental Europe, "," for English.
LIST_SEPARATORS = {"fr": ";"}


def csv_delimiter() -> str:
    """Return the CSV delimiter that the active language's spreadsheets expect."""
    language = (get_language() or "en").split("-")[0]
    return LIST_SEPARATORS.get(language, ",")


def write_csv(
    stream, headers: Sequence[str], rows: Iterable[Sequence], *, delimiter=","
) -> None:
    """Write a formula-safe UTF-8 CSV (with BOM, so Excel reads the accents)."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=delimiter)
    writer.writerow(safe_row(headers))
    for row in rows:
        writer.writerow(safe_row(row))


def csv_bytes(
    headers: Sequence[str], rows: Iterable[Sequence], *, delimiter=","
) -> bytes:
    buffer = io.StringIO()
    write_csv(buffer, headers, rows, delimiter=delimiter)
    return buffer.getvalue().encode("utf-8")


# Day first, as French and other European readers expect; openpyxl's default
# for a datetime is "yyyy-mm-dd h:mm:ss".
XLSX_DATE_FORMAT = "DD/MM/YYYY"
XLSX_DATETIME_FORMAT = "DD/MM/YYYY HH:MM"


def xlsx_cell(sheet, value):
    """Return ``value`` for a row of ``sheet``, as a text cell where needed.

    Dates and datetimes get a day-first number format.

    openpyxl 3.1 stores a string that starts with ``=`` as a formula and one
    such as ``#N/A`` as an error, so those become cells forced to text. Text
    that starts like a formula also gets the ``quotePrefix`` style, so that
    Excel keeps it as text when the user edits the cell, without showing an
    apostrophe.
    """
    if isinstance(value, datetime.datetime | datetime.date):
        cell = WriteOnlyCell(sheet, value)
        is_datetime = isinstance(value, datetime.datetime)
        cell.number_format = XLSX_DATETIME_FORMAT if is_datetime else XLSX_DATE_FORMAT
        return cell
    if not isinstance(value, str):
        return value
    value = xml_text(value)
    formula_like = value.startswith(FORMULA_PREFIXES)
    if not formula_like and value not in ERROR_CODES:
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    if formula_like:
        cell.quotePrefix = True
    return cell


def xlsx_bytes(
    headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Export"
) -> bytes:
    """Return a one-sheet XLSX workbook of ``xlsx_cell`` values, in streaming mode."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([xlsx_cell(sheet, value) for value in headers])
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ods_date_styles(document) -> dict[bool, Style]:
    """Add day-first cell styles for dates and date-times, keyed by "has a time".

    Without a data style, a spreadsheet program shows an ODS date in its own
    locale's format, such as 12/05/26 in English.
    """
    styles = {}
    for with_time in (False, True):
        name = "registre-datetime" if with_time else "registre-date"
        data_style = DateStyle(name=f"{name}-data")
        parts = [Day(style="long"), Text(text="/"), Month(style="long")]
        parts += [Text(text="/"), Year(style="long")]
        if with_time:
            parts += [Text(text=" "), Hours(style="long"), Text(text=":")]
            parts.append(Minutes(style="long"))
        for part in parts:
            data_style.addElement(part)
        document.automaticstyles.addElement(data_style)
        styles[with_time] = Style(
            name=name, family="table-cell", datastylename=f"{name}-data"
        )
        document.automaticstyles.addElement(styles[with_time])
    return styles


def ods_cell(value, style) -> TableCell:
    """Return ``value`` as a typed ODS cell, with the cell style ``style`` or None.

    A boolean shows as VRAI or FAUX, because the processing register, which
    first used this writer, is exported in the CNIL's French wording.
    """
    extra = {"stylename": style} if style is not None else {}
    if value is None or value == "":
        return TableCell(**extra)
    if isinstance(value, bool):
        cell = TableCell(valuetype="boolean", booleanvalue=str(value).lower(), **extra)
        cell.addElement(P(text="VRAI" if value else "FAUX"))
        return cell
    if isinstance(value, int | float):
        cell = TableCell(valuetype="float", value=value, **extra)
        cell.addElement(P(text=str(value)))
        return cell
    if isinstance(value, datetime.date):
        display_format = (
            "%d/%m/%Y %H:%M:%S" if isinstance(value, datetime.datetime) else "%d/%m/%Y"
        )
        cell = TableCell(valuetype="date", datevalue=value.isoformat(), **extra)
        cell.addElement(P(text=value.strftime(display_format)))
        return cell
    cell = TableCell(valuetype="string", **extra)
    # Each line is a paragraph of the cell, and a CR left in a line would show.
    for line in newlines_unified(xml_text(str(value))).split("\n"):
        paragraph = P()
        teletype.addTextToElement(paragraph, line)
        cell.addElement(paragraph)
    return cell


def ods_bytes(
    headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Export"
) -> bytes:
    """Return a one-sheet ODS document of ``ods_cell`` values.

    Dates and datetimes get a day-first style, as in ``xlsx_bytes``. Text
    that starts like a formula needs no apostrophe, because an ODS cell is a
    formula only through its ``table:formula`` attribute.

    NOTE: unlike ``xlsx_bytes``, this does not stream, because odfpy builds
    the whole document in memory before writing it.
    """
    document = OpenDocumentSpreadsheet()
    date_styles = ods_date_styles(document)
    table = Table(name=title[:31])
    for row in itertools.chain([headers], rows):
        table_row = TableRow()
        for value in row:
            style = None
            if isinstance(value, datetime.date):
                style = date_styles[isinstance(value, datetime.datetime)]
            table_row.addElement(ods_cell(value, style))
        table.addElement(table_row)
    document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()
