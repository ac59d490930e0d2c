"""Spreadsheet-safe export helpers shared by every export.

Excel and LibreOffice run a cell whose text starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula (CSV injection). Such text is
prefixed with an apostrophe, which spreadsheets show as plain text.
Text made only of digits, spaces and ``+-().,/`` (an E.164 phone number, a
negative amount) cannot call a function, so it is left intact.
"""

import csv
import io
import re
from collections.abc import Iterable
from collections.abc import Sequence

from openpyxl import Workbook

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A signed number or a phone number written with spaces, dots or brackets. A
# further sign or slash would let a spreadsheet compute it ("-2+3" shows 1).
NUMERIC_TEXT = re.compile(r"[+-][\d\s().,]*\Z")


def neutralize_formula(value):
    """Return ``value`` with a leading apostrophe if its text could run as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if NUMERIC_TEXT.match(value):
        return value
    return "'" + value


def safe_row(values: Iterable) -> list:
    return [neutralize_formula(value) for value in values]


def write_csv(
    stream, headers: Sequence[str], rows: Iterable[Sequence], *, delimiter=","
) -> None:
    """Write a formula-safe UTF-8 CSV (with BOM, so Excel reads the accents)."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=delimiter)
    writer.writerow(safe_row(headers))
    for row in rows:
        writer.writerow(safe_row(row))


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    write_csv(buffer, headers, rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(
    headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Export"
) -> bytes:
    """Return a one-sheet, formula-safe XLSX workbook, written in streaming mode."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(safe_row(headers))
    for row in rows:
        sheet.append(safe_row(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
