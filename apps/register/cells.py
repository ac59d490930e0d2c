"""Cell helpers and the problem record shared by the register import readers."""

import datetime
from dataclasses import dataclass

from apps.core.exports import FORMULA_PREFIXES

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass
class Problem:
    """One remark on the file; an ``error`` blocks the import."""

    level: str
    sheet: str
    row: int | None
    column: str
    message: str


@dataclass(frozen=True)
class CellLocation:
    """The cell the import read a value from: the sheet, the row (from 1), the
    column letter, and the column header or row label that the file gives it."""

    sheet: str
    row: int
    column: str
    header: str = ""


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def apostrophe_escaped(text: str) -> bool:
    """Tell whether ``text`` is apostrophes then something a spreadsheet computes.

    The exports add an apostrophe to such text, and to text that already
    starts with one ("'=1+1" is written "''=1+1"), so that the import can
    take one away and give back the text as it was typed.
    """
    return text.startswith("'") and text.lstrip("'").startswith(FORMULA_PREFIXES)


def cell_value(row: list, index: int):
    value = row[index] if index < len(row) else None
    if isinstance(value, str):
        if apostrophe_escaped(value):
            # Undo the apostrophe that the exports add to formula-like text.
            value = value[1:]
        return value
    return value


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def last_line(value) -> str:
    lines = [line for line in cell_text(value).split("\n") if line.strip()]
    return lines[-1].strip() if lines else ""
