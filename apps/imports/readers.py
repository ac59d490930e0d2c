"""Reading vendor files: CSV, XLSX and ODS, streamed row by row.

``layout_detect`` looks at the start of a file and returns its ``FileLayout``
(format, encoding, delimiter, sheet, header row); ``FileReader`` then yields
every row after the header without loading the file into memory.
"""

import codecs
import csv
import datetime
import io
import logging
import math
import os
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from itertools import islice
from xml.etree import ElementTree

import charset_normalizer
import openpyxl
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from apps.core.archives import MAX_CELL_CHARACTERS
from apps.core.archives import archive_overexpanding_part
from apps.core.text import text_shortened
from apps.imports.mapping import IDENTIFIER_FIELDS
from apps.imports.mapping import field_for_header
from apps.imports.normalizers import InvalidValue
from apps.imports.normalizers import cell_text
from apps.imports.normalizers import email_normalize
from apps.imports.normalizers import phone_normalize

logger = logging.getLogger(__name__)

SAMPLE_BYTES = 1024 * 1024
HEADER_SEARCH_ROWS = 20
DELIMITERS = (";", ",", "\t", "|")
# Single-byte encodings that charset-normalizer may name for a Western
# European file; they are read as Windows-1252, the superset that French
# spreadsheet software writes, unless a byte is undefined there.
WESTERN_ENCODINGS = {
    "cp1252",
    "latin_1",
    "iso8859_15",
    "cp1250",
    "iso8859_2",
    "mac_roman",
    "iso8859_9",
    "cp1254",
    "cp850",
    "cp437",
    "ascii",
}


# Encodings whose text may carry rows in another one: a vendor file pasted
# together from two exports contains UTF-8 rows and Windows-1252 rows. Such files
# are decoded as UTF-8 with ``errors="surrogateescape"``, which turns each byte
# that is not UTF-8 into a code point of U+DC80 to U+DCFF, and the rows with
# such code points are decoded again in the single-byte encoding.
UTF8_ENCODINGS = ("utf-8", "utf-8-sig")
UTF8_STRAY_ROW_ENCODING = "cp1252"
_STRAY_BYTES = re.compile("[\udc80-\udcff]")
_MULTIBYTE_CHARACTERS = re.compile("[^\x00-\x7f\udc80-\udcff]")


class UnreadableFile(ValueError):
    """A file that cannot be read as a table; the message says why and what to do."""


# Exceptions that the zipfile, zlib and XML parsers raise on a workbook that
# was cut short or corrupted. Their messages are in English and name no fix.
# ``SyntaxError`` covers ElementTree's and lxml's parse errors.
DAMAGED_WORKBOOK_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError)


def _damaged_workbook(path, error: Exception) -> UnreadableFile:
    kind = type(error)
    logger.warning(
        "workbook %s unreadable: %s.%s", path, kind.__module__, kind.__qualname__
    )
    return UnreadableFile(
        _(
            "The file is a damaged or truncated spreadsheet: part of its content "
            "cannot be read, often because the file was not saved or copied "
            "completely. "
            "Open it in your spreadsheet program, save it again as XLSX or ODS, "
            "and upload the new file."
        )
    )


def _cell_too_long(row: int) -> UnreadableFile:
    return UnreadableFile(
        _(
            "Row %(row)d has a cell of more than %(limit)s characters, which no "
            "contact field needs. In a CSV file, the usual cause is a quote mark "
            '(") that opens a cell on that row and is never closed, so that the '
            "cell takes in the following rows: close or remove it. Otherwise "
            "remove the long text. Then upload the file again."
        )
        % {
            "row": row,
            "limit": number_format(MAX_CELL_CHARACTERS, force_grouping=True),
        }
    )


@dataclass
class FileLayout:
    file_format: str
    encoding: str = ""
    delimiter: str = ""
    sheet_name: str = ""
    sheet_names: list[str] = field(default_factory=list)
    header_row: int = 1
    headers: list[str] = field(default_factory=list)
    date1904: bool = False
    # The sheets of a workbook that hold e-mail addresses or phone numbers.
    contact_sheets: list[str] = field(default_factory=list)
    # The sheets that the spreadsheet program does not show.
    hidden_sheets: list[str] = field(default_factory=list)

    @property
    def row_encodings(self) -> tuple[str, str]:
        """Return the CSV's encoding of valid UTF-8 rows, then of the others.

        Both are "" for a UTF-16 file, which is decoded as a whole.
        """
        if self.encoding in UTF8_ENCODINGS:
            return self.encoding, UTF8_STRAY_ROW_ENCODING
        if self.encoding.startswith("utf-16"):
            return "", ""
        return "utf-8", self.encoding


def _compression_check(archive: zipfile.ZipFile) -> None:
    """Raise ``UnreadableFile`` when a large part decompresses far beyond its size."""
    part = archive_overexpanding_part(archive)
    if part is not None:
        ratio = part.file_size / max(part.compress_size, 1)
        raise UnreadableFile(
            _(
                "The spreadsheet part %(part)s would grow from %(packed)s to "
                "%(unpacked)s bytes, %(ratio)d times, which no list of "
                "contacts needs, so Registre does not open it. Export the list "
                "again as CSV, XLSX or ODS."
            )
            % {
                "part": part.filename,
                "packed": number_format(part.compress_size, force_grouping=True),
                "unpacked": number_format(part.file_size, force_grouping=True),
                "ratio": ratio,
            }
        )


def _zip_kind(path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            _compression_check(archive)
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace")
                if mimetype.strip() == "application/vnd.oasis.opendocument.spreadsheet":
                    return "ods"
            if "xl/workbook.xml" in names:
                return "xlsx"
    except DAMAGED_WORKBOOK_ERRORS as error:
        raise _damaged_workbook(path, error) from error
    raise UnreadableFile(
        _(
            "The file is a ZIP archive but neither an XLSX nor an ODS spreadsheet; "
            "export the list as CSV, XLSX or ODS."
        )
    )


def _detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    if b"\x00" in sample:
        raise UnreadableFile(
            _(
                "The file is not a text file (it contains NUL bytes). Upload a CSV, "
                "XLSX or ODS file; a renamed binary file cannot be imported."
            )
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(sample):
        return "utf-8"
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise UnreadableFile(
            _(
                "The file's text encoding could not be detected, so it is probably "
                "not a text file. Save it as CSV in UTF-8 and upload it again."
            )
        )
    encoding = best.encoding
    if encoding not in WESTERN_ENCODINGS and _mostly_other_script(str(best)):
        return _other_script_encoding(sample, encoding)
    # A short French sample can read as another Latin code page ("Société"
    # as "Sociķtķ" in cp775), so a guess whose letters stay Latin is read as
    # the Western encoding that French spreadsheet software writes.
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin_1"


def _mostly_utf8(sample: bytes) -> bool:
    """Tell whether text that is not valid UTF-8 has more UTF-8 characters
    than stray bytes.

    Single-byte text almost never forms a valid multi-byte UTF-8 sequence, so
    such sequences are UTF-8 rows beside rows in another encoding.
    """
    text = sample.decode("utf-8", errors="surrogateescape")
    stray = len(_STRAY_BYTES.findall(text))
    return len(_MULTIBYTE_CHARACTERS.findall(text)) > stray


# Windows code pages of the non-Latin scripts of EU contact lists, tried
# beside charset-normalizer's guess: on a short Cyrillic sample it may name
# mac_cyrillic, which reads the capitals of Windows-1251 as punctuation.
OTHER_SCRIPT_ENCODINGS = ("cp1251", "cp1253")


def _other_script_encoding(sample: bytes, guess: str) -> str:
    """Return the encoding, of ``guess`` and the Windows code pages, whose text
    has the largest share of non-Latin letters among its non-ASCII characters.

    ``guess`` wins a tie.
    """

    def score(encoding: str) -> float:
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            return -1.0
        characters = [character for character in text if ord(character) > 127]
        if not characters:
            return 0.0
        letters = sum(
            character.isalpha()
            and not unicodedata.name(character, "").startswith("LATIN")
            for character in characters
        )
        return letters / len(characters)

    return max((guess, *OTHER_SCRIPT_ENCODINGS), key=score)


def _mostly_other_script(text: str) -> bool:
    """Tell whether most non-ASCII letters of ``text`` are not Latin letters.

    In an EU contact list, a non-Western single-byte encoding contains
    Cyrillic or Greek text, whose letters Windows-1252 cannot write.
    """
    letters = [
        character for character in text if ord(character) > 127 and character.isalpha()
    ]
    if not letters:
        return False
    latin = sum(
        unicodedata.name(character, "").startswith("LATIN") for character in letters
    )
    return latin < len(letters) / 2


def _utf16_without_bom(sample: bytes) -> str:
    """Return "utf-16-le" or "utf-16-be" for such text without a BOM, else "".

    Text of Latin letters in UTF-16 has a NUL byte in every pair: the second
    one in little-endian, the first in big-endian. A binary file has NULs
    scattered, and fails the decoding or contains control characters.
    """
    pairs = len(sample) // 2
    if pairs < 8:
        return ""
    for encoding, nul_at, text_at in (("utf-16-le", 1, 0), ("utf-16-be", 0, 1)):
        nuls = sample[nul_at::2][:pairs].count(0)
        if nuls < 0.9 * pairs or sample[text_at::2][:pairs].count(0) > 0:
            continue
        try:
            text = sample[: pairs * 2].decode(encoding)
        except UnicodeDecodeError:
            continue
        if all(character.isprintable() or character in "\r\n\t" for character in text):
            return encoding
    return ""


def _detect_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()][:50]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
        except csv.Error:
            # A field over the cell limit with this delimiter; reading the
            # rows raises the error that names the row.
            continue
        widths = Counter(len(row) for row in rows if len(row) > 1)
        if not widths:
            continue
        width, frequency = widths.most_common(1)[0]
        score = (frequency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header_index(rows: list[list]) -> int:
    """Return the index of the row that looks most like a header.

    A row's score is the number of fields its cells name. The first row
    that names at least two fields, and half as many as the best row, wins.
    So a header repeated further down with one more column (two exports
    pasted together) does not turn the rows above it into a preamble.
    """
    scores = []
    for row in rows[:HEADER_SEARCH_ROWS]:
        fields = {field_for_header(cell) for cell in row if cell not in (None, "")}
        scores.append(len(fields - {""}))
    best_score = max(scores, default=0)
    if best_score:
        enough = max(2, (best_score + 1) // 2) if best_score >= 2 else best_score
        return next(index for index, score in enumerate(scores) if score >= enough)
    for index, row in enumerate(rows):
        if sum(1 for cell in row if cell not in (None, "")) >= 1:
            return index
    return 0


def _is_blank(row) -> bool:
    return all(cell is None or str(cell).strip() == "" for cell in row)


def _trim(row: list) -> list:
    end = len(row)
    while end and (row[end - 1] is None or row[end - 1] == ""):
        end -= 1
    return list(row[:end])


# The start of a JSON document (an object, or an array of objects, arrays
# or strings) and of an XML or HTML one.
# NOTE: a CSV whose first header cell starts with "{" or "<" is rejected
# too. None of the vendor files seen so far starts that way.
_JSON_START = re.compile(r"\s*(\{|\[\s*[\[{\"])")
_MARKUP_START = re.compile(r"\s*<[?!a-zA-Z]")


def _markup_reject(text: str) -> None:
    """Raise ``UnreadableFile`` for a JSON, XML or HTML file, which is not a table."""
    text = text.lstrip("\ufeff")
    if _JSON_START.match(text):
        kind = "JSON"
    elif _MARKUP_START.match(text):
        kind = _("XML or HTML")
    else:
        return
    raise UnreadableFile(
        _(
            "The file is %(kind)s, which Registre does not import. Export the "
            "list as CSV, XLSX or ODS and upload it again."
        )
        % {"kind": kind}
    )


def layout_detect(path, *, sheet_name: str = "") -> FileLayout:
    """Return the layout of the file at ``path``, or raise ``UnreadableFile``."""
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise UnreadableFile(_("The file is empty."))
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(
            _(
                "Old Excel files (.xls) are not supported; save the sheet as .xlsx "
                "or CSV and upload it again."
            )
        )
    if sample.lstrip(b" \t\r\n" + codecs.BOM_UTF8).startswith(b"%PDF-"):
        # A PDF without images or compressed streams is plain text, so it
        # would otherwise be read as a CSV of one column.
        raise UnreadableFile(
            _(
                "The file is a PDF document, which Registre does not import. "
                "Export the list as CSV, XLSX or ODS and upload it again."
            )
        )
    if sample.startswith(b"PK\x03\x04"):
        layout = FileLayout(file_format=_zip_kind(path))
    else:
        layout = FileLayout(file_format="csv", encoding=_detect_encoding(sample))
        text = sample.decode(layout.encoding, errors="ignore")
        _markup_reject(text)
        if len(sample) == SAMPLE_BYTES:
            text = text[: text.rfind("\n") + 1] or text
        layout.delimiter = _detect_delimiter(text)

    reader = FileReader(path, layout)
    if layout.file_format != "csv":
        layout.sheet_names = reader.sheet_names()
        layout.hidden_sheets = reader.hidden_sheet_names()
        if len(layout.sheet_names) < 2:
            layout.sheet_name = reader.choose_sheet(sheet_name)
        else:
            layout.sheet_name = _contact_sheet(reader, layout, chosen=sheet_name)
    _header_find(reader, layout)
    return layout


# How many data rows of each contact sheet are counted to choose between them.
SHEET_ROWS_COMPARED = 100


def _contact_sheet(reader: "FileReader", layout: FileLayout, chosen: str = "") -> str:
    """Return the sheet of contacts: rows under an e-mail or phone header.

    A workbook often opens with a cover or "read me" sheet, which may even
    give the vendor's own e-mail. A sheet counts when one of its first rows
    contains a valid e-mail address or phone number under such a header. A
    form with a "Téléphone :" label does not. Of those, the one with the
    most rows wins (counted up to ``SHEET_ROWS_COMPARED``), the first one on
    a tie. Without such a sheet, the first sheet that is not blank is chosen.
    A sheet ``chosen`` by the user is read instead, if the workbook has it.
    Every sheet of contacts is listed in ``layout.contact_sheets``. A hidden
    sheet, often a vendor's archive or opt-out list, is chosen only when no
    visible sheet holds contacts.
    """
    best = {True: ("", 0), False: ("", 0)}
    for name in layout.sheet_names:
        layout.sheet_name = name
        try:
            _header_find(reader, layout)
        except UnreadableFile:
            continue
        if not _holds_identifiers(reader, layout):
            continue
        layout.contact_sheets.append(name)
        rows = sum(1 for _row in islice(reader.data_rows(), SHEET_ROWS_COMPARED))
        visible = name not in layout.hidden_sheets
        if rows > best[visible][1]:
            best[visible] = (name, rows)
    if chosen:
        return reader.choose_sheet(chosen)
    return best[True][0] or best[False][0] or reader.choose_sheet("")


def _holds_identifiers(reader: "FileReader", layout: FileLayout) -> bool:
    """Return whether one of the sheet's first rows has a valid e-mail or phone."""
    columns = [
        index
        for index, header in enumerate(layout.headers)
        if field_for_header(header) in IDENTIFIER_FIELDS
    ]
    if not columns:
        return False
    for checked, (_number, row) in enumerate(reader.data_rows()):
        if checked >= HEADER_SEARCH_ROWS:
            break
        for index in columns:
            text = cell_text(row[index]).strip() if index < len(row) else ""
            if not text:
                continue
            try:
                if "@" in text:
                    email_normalize(text)
                else:
                    phone_normalize(text)
            except InvalidValue:
                continue
            return True
    return False


def _header_find(reader: "FileReader", layout: FileLayout) -> None:
    """Set the header row and headers of the layout's sheet, or raise UnreadableFile."""
    head = []
    for _number, row in reader.raw_rows():
        head.append(row)
        if len(head) >= HEADER_SEARCH_ROWS * 3:
            break
    non_blank = [(index, row) for index, row in enumerate(head) if not _is_blank(row)]
    if not non_blank:
        raise UnreadableFile(_("The file is empty."))
    header_at = _header_index([row for _index, row in non_blank])
    raw_index, header = non_blank[header_at]
    layout.header_row = raw_index + 1
    read_whole_file = len(head) < HEADER_SEARCH_ROWS * 3
    if read_whole_file and header_at == len(non_blank) - 1:
        raise UnreadableFile(
            _(
                "The file has no contact rows: row %(row)s, read as the column "
                "headers, is its last non-blank row. Upload the file with its "
                "contact rows."
            )
            % {"row": layout.header_row}
        )
    layout.headers = [
        " ".join(str(cell).split()) if cell is not None else "" for cell in header
    ]
    layout.date1904 = reader.date1904


class FileReader:
    """Streams the rows of one file; ``fraction_read`` reports progress (0 to 1)."""

    def __init__(self, path, layout: FileLayout):
        self.path = path
        self.layout = layout
        # CSV rows decoded in another encoding than the file's, by row number.
        self.recoded_rows: dict[int, str] = {}
        self.date1904 = False
        self._size = max(1, _file_size(path))
        self._position = 0
        self._workbook = None

    def fraction_read(self) -> float | None:
        """Return the share of a CSV file read so far; None for spreadsheets."""
        if self.layout.file_format != "csv":
            return None
        return min(1.0, self._position / self._size)

    def sheet_names(self) -> list[str]:
        if self.layout.file_format == "xlsx":
            return list(self._open_xlsx().sheetnames)
        try:
            return [name for name, _rows in _ods_sheets(self.path, names_only=True)]
        except DAMAGED_WORKBOOK_ERRORS as error:
            raise _damaged_workbook(self.path, error) from error

    def hidden_sheet_names(self) -> list[str]:
        """Return the sheets that the spreadsheet program hides."""
        if self.layout.file_format == "xlsx":
            return [
                sheet.title
                for sheet in self._open_xlsx().worksheets
                if sheet.sheet_state != "visible"
            ]
        try:
            return _ods_hidden_tables(self.path)
        except (KeyError, *DAMAGED_WORKBOOK_ERRORS) as error:
            raise _damaged_workbook(self.path, error) from error

    def choose_sheet(self, requested: str) -> str:
        names = self.sheet_names()
        if requested:
            if requested not in names:
                raise UnreadableFile(
                    _(
                        "The workbook has no sheet named %(sheet)s; its sheets are: "
                        "%(sheets)s."
                    )
                    % {"sheet": requested, "sheets": ", ".join(names)}
                )
            return requested
        hidden = set(self.hidden_sheet_names())
        # Visible sheets first, in workbook order, then the hidden ones.
        for name in sorted(names, key=lambda name: name in hidden):
            for _number, row in self._sheet_rows(name):
                if not _is_blank(row):
                    return name
        return names[0] if names else ""

    def raw_rows(self) -> Iterator[tuple[int, list]]:
        """Yield ``(row number, cells)`` for every row, blank ones included."""
        if self.layout.file_format == "csv":
            yield from self._csv_rows()
        else:
            yield from self._sheet_rows(self.layout.sheet_name)

    def data_rows(self) -> Iterator[tuple[int, list]]:
        """Yield ``(row number, cells)`` after the header, skipping blank rows."""
        for number, row in self.raw_rows():
            if number <= self.layout.header_row or _is_blank(row):
                continue
            yield number, row

    def _csv_rows(self):
        delimiter = self.layout.delimiter or ","
        width = len(self.layout.headers)
        utf8, single_byte = self.layout.row_encodings
        with open(self.path, "rb") as binary:
            if utf8:
                text = io.TextIOWrapper(
                    binary, encoding=utf8, errors="surrogateescape", newline=""
                )
            else:
                text = io.TextIOWrapper(
                    binary, encoding=self.layout.encoding, newline=""
                )
            reader = csv.reader(text, delimiter=delimiter)
            number = 0
            line = 1
            try:
                for row in reader:
                    number += 1
                    if number % 1024 == 0:
                        self._position = binary.tell()
                    if utf8:
                        row = self._row_decoded(number, row, single_byte)
                    if reader.line_num > line:
                        _unclosed_quote_check(
                            row, delimiter, line, reader.line_num, width=width
                        )
                    line = reader.line_num + 1
                    yield number, row
            except UnicodeDecodeError as error:
                raise UnreadableFile(
                    _(
                        "Row %(row)d is not valid %(encoding)s text although the "
                        "start of the file is; save the file again in UTF-8."
                    )
                    % {"row": number + 1, "encoding": self.layout.encoding}
                ) from error
            except csv.Error as error:
                if "field larger than field limit" in str(error):
                    raise _cell_too_long(number + 1) from error
                raise UnreadableFile(
                    _("Row %(row)d cannot be read as CSV: %(error)s")
                    % {"row": number + 1, "error": error}
                ) from error
        self._position = self._size

    def _row_decoded(self, number: int, row: list[str], single_byte: str) -> list:
        """Return the row in the encoding of its own bytes, and note a change.

        A row with stray bytes is decoded in ``single_byte``, and any other
        row with non-ASCII text is UTF-8. A row in the encoding that the rest
        of the file does not use goes into ``recoded_rows``.
        """
        joined = "".join(row)
        if joined.isascii():
            return row
        if _STRAY_BYTES.search(joined):
            row = [_single_byte_decode(cell, single_byte) for cell in row]
            encoding = single_byte
        else:
            encoding = "utf-8"
        if encoding != _encoding_name(self.layout.encoding):
            self.recoded_rows[number] = encoding
        return row

    def _open_xlsx(self):
        if self._workbook is None:
            # A file object, because openpyxl rejects a path whose extension
            # is not .xlsx, and stored uploads keep no extension.
            self._handle = open(self.path, "rb")  # noqa: SIM115
            try:
                self._workbook = openpyxl.load_workbook(
                    self._handle, read_only=True, data_only=True
                )
            except (KeyError, ValueError, OSError, *DAMAGED_WORKBOOK_ERRORS) as error:
                # A missing part (KeyError) or an invalid one (ValueError)
                # has the same fix for the user: save the file again.
                self._handle.close()
                raise _damaged_workbook(self.path, error) from error
            self.date1904 = self._workbook.epoch == CALENDAR_MAC_1904
        return self._workbook

    def _sheet_rows(self, name: str):
        """Yield the rows of sheet ``name``, raising ``UnreadableFile`` on damage.

        A workbook whose central directory is intact can still hold a
        corrupted part, which only fails when that part is read.
        """
        try:
            for number, row in self._sheet_rows_unchecked(name):
                if any(
                    isinstance(cell, str) and len(cell) > MAX_CELL_CHARACTERS
                    for cell in row
                ):
                    raise _cell_too_long(number)
                yield number, row
        except DAMAGED_WORKBOOK_ERRORS as error:
            raise _damaged_workbook(self.path, error) from error

    def _sheet_rows_unchecked(self, name: str):
        if self.layout.file_format == "xlsx":
            sheet = self._open_xlsx()[name]
            # Declared dimensions can be wrong (a million empty rows, or none
            # at all), so iterate over the rows the sheet really stores.
            sheet.reset_dimensions()
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            merges = _row_merges_cached(self.path, name, sheet)
            if merges:
                rows = _merged_values_copied(rows, merges)
            for number, row in rows:
                yield number, _trim(row)
        else:
            for sheet_name, rows in _ods_sheets(self.path):
                if sheet_name == name:
                    yield from rows
                    return

    def close(self):
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
            self._handle.close()


# A merged range in a worksheet's XML, such as <mergeCell ref="A2:A5"/>.
_MERGE_CELL = re.compile(
    rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})([0-9]+):([A-Z]{1,3})([0-9]+)"'
)
_MERGE_SCAN_CHUNK = 1 << 20


# The merged ranges of recently read sheets, by file, size, modification
# time and sheet: a job page reads the first rows of a file several times.
_ROW_MERGES_CACHE: dict[tuple, list[tuple[int, int, int, int]]] = {}
_ROW_MERGES_CACHE_SIZE = 16


def _row_merges_cached(path, name: str, sheet) -> list[tuple[int, int, int, int]]:
    """Return ``_xlsx_row_merges(sheet)``, scanning each file's sheet once."""
    status = os.stat(path)
    key = (str(path), status.st_size, status.st_mtime_ns, name)
    if key not in _ROW_MERGES_CACHE:
        if len(_ROW_MERGES_CACHE) >= _ROW_MERGES_CACHE_SIZE:
            _ROW_MERGES_CACHE.pop(next(iter(_ROW_MERGES_CACHE)))
        _ROW_MERGES_CACHE[key] = _xlsx_row_merges(sheet)
    return _ROW_MERGES_CACHE[key]


def _xlsx_row_merges(sheet) -> list[tuple[int, int, int, int]]:
    """Return the merged ranges of ``sheet`` that span several rows.

    Each range is ``(first row, last row, first column, last column)``,
    1-based, sorted by first row. openpyxl's read-only mode skips the merged
    ranges, which the XML lists after the rows, so the sheet's XML is scanned
    once more for them. A sheet damaged part-way gives no ranges: its rows
    stop the reading at the damage, as without merged cells.
    """
    merges = set()
    tail = b""
    # NOTE: _get_source is openpyxl's own (private) way to open the sheet's XML.
    try:
        with sheet._get_source() as source:
            while chunk := source.read(_MERGE_SCAN_CHUNK):
                text = tail + chunk
                if b"mergeCell" in text:
                    merges.update(_MERGE_CELL.findall(text))
                tail = text[-200:]
    except DAMAGED_WORKBOOK_ERRORS:
        return []
    ranges = []
    for first_column, first_row, last_column, last_row in merges:
        first, last = int(first_row), int(last_row)
        if last > first:
            ranges.append(
                (
                    first,
                    last,
                    column_index_from_string(first_column.decode()),
                    column_index_from_string(last_column.decode()),
                )
            )
    return sorted(ranges)


def _merged_values_copied(rows, merges):
    """Yield the rows with the top value of each merged column copied down.

    A vendor merges a company's cell over the rows of its people, and only
    the top cell keeps the value. Values are copied down their own column
    only: a range merged across columns, such as a title over two headers,
    leaves the columns to its right empty.
    """
    pending = iter(merges)
    upcoming = next(pending, None)
    active = []
    for number, cells in rows:
        active = [merge for merge in active if merge[0] >= number]
        row = list(cells)
        for _last_row, first_column, last_column, values in active:
            _padded(row, last_column)
            row[first_column - 1 : last_column] = values
        while upcoming is not None and upcoming[0] <= number:
            first_row, last_row, first_column, last_column = upcoming
            if first_row == number:
                _padded(row, last_column)
                active.append(
                    (
                        last_row,
                        first_column,
                        last_column,
                        row[first_column - 1 : last_column],
                    )
                )
            upcoming = next(pending, None)
        yield number, row


def _padded(row: list, width: int) -> None:
    if len(row) < width:
        row.extend([None] * (width - len(row)))


def _encoding_name(encoding: str) -> str:
    return "utf-8" if encoding in UTF8_ENCODINGS else encoding


def _single_byte_decode(cell: str, encoding: str) -> str:
    """Decode again the bytes of a cell that ``surrogateescape`` kept.

    Windows-1252 leaves five bytes undefined, so a cell with one of them is
    read as Latin-1, as a file of such cells is.
    """
    data = cell.encode("utf-8", errors="surrogateescape")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode("latin_1")


def _row_like(line: str, delimiter: str, width: int) -> bool:
    """Tell whether a line inside a quoted cell reads as a row of the file.

    It contains as many delimiters as a row of ``width`` columns, at least two,
    or in a narrower file one delimiter beside an address or a number. A
    legitimate multi-line cell, such as an address, rarely does.
    """
    delimiters = line.count(delimiter)
    if delimiters >= max(2, width - 1):
        return True
    return delimiters >= 1 and width <= 2 and ("@" in line or _DIGITS.search(line))


_DIGITS = re.compile(r"\d{6}")


def _unclosed_quote_check(
    row: list, delimiter: str, first: int, last: int, *, width: int
) -> None:
    """Reject a row whose quoted cell swallowed the next rows of the file.

    A quote mark that opens a cell and is never closed makes the CSV reader
    take every following line, up to the next quote mark, as that cell's text:
    those rows would vanish from the counts.
    """
    for cell in row:
        continuation = cell.splitlines()[1:]
        if any(_row_like(line, delimiter, width) for line in continuation):
            raise UnreadableFile(
                _(
                    'Line %(line)d opens a cell with a quote mark (") that is not '
                    "closed, so the cell takes in lines %(next)d to %(last)d, which "
                    "look like rows of their own: %(excerpt)s. Remove that quote "
                    "mark or close it, then upload the file again."
                )
                % {
                    "line": first,
                    "next": first + 1,
                    "last": last,
                    "excerpt": text_shortened(cell, 60),
                }
            )


def _file_size(path) -> int:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, io.SEEK_END)
            return handle.tell()
    except OSError:
        return 0


_TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = f"{_TABLE_NS}table"
_ROW = f"{_TABLE_NS}table-row"
_CELLS = {f"{_TABLE_NS}table-cell", f"{_TABLE_NS}covered-table-cell"}
_NAME = f"{_TABLE_NS}name"
_ROWS_REPEATED = f"{_TABLE_NS}number-rows-repeated"
_COLUMNS_REPEATED = f"{_TABLE_NS}number-columns-repeated"
_ROWS_SPANNED = f"{_TABLE_NS}number-rows-spanned"
_COVERED_CELL = f"{_TABLE_NS}covered-table-cell"
# The lexical form of an XML Schema positiveInteger, which the repeat counts
# are: an optional plus sign and ASCII digits, with spaces around.
_REPEAT_COUNT = re.compile(r"\s*\+?[0-9]+\s*")
_VALUE_TYPE = f"{_OFFICE_NS}value-type"
_PARAGRAPH = f"{_TEXT_NS}p"
# Repeated empty rows or columns pad ODS sheets to the sheet's full size.
_MAX_REPEAT = 1000
# Copies of non-empty rows that an ODS sheet may ask for with
# ``number-rows-repeated``. A spreadsheet program writes a row once per
# person; a few kilobytes of repeated rows could otherwise stand for millions.
MAX_REPEATED_ROWS = 10_000


def _ods_cell(cell):
    """Return a cell's typed value, or its text when the value is missing or invalid.

    The text is what the spreadsheet program shows, so a file written by a
    tool that leaves out ``office:value`` still reads as the user sees it.
    """
    kind = cell.get(_VALUE_TYPE)
    try:
        if kind in ("float", "percentage", "currency"):
            value = float(cell.get(f"{_OFFICE_NS}value"))
            if math.isfinite(value):
                return int(value) if value.is_integer() else value
        if kind == "date":
            text = cell.get(f"{_OFFICE_NS}date-value")
            if "T" in text:
                return datetime.datetime.fromisoformat(text)
            return datetime.date.fromisoformat(text)
    except (TypeError, ValueError, OverflowError):
        pass
    if kind == "boolean":
        return cell.get(f"{_OFFICE_NS}boolean-value") == "true"
    paragraphs = ["".join(p.itertext()) for p in cell.iter(_PARAGRAPH)]
    return "\n".join(paragraphs) if paragraphs else None


def _ods_sheets(path, names_only=False):
    """Yield ``(sheet name, row iterator)`` from an ODS file's content.xml.

    The XML is parsed incrementally and each row element is cleared once
    read, so memory stays flat whatever the sheet's length.
    """
    try:
        archive = zipfile.ZipFile(path)
        content = archive.open("content.xml")
    except (KeyError, *DAMAGED_WORKBOOK_ERRORS) as error:
        raise _damaged_workbook(path, error) from error
    with archive, content:
        events = ElementTree.iterparse(content, events=("start", "end"))
        for event, element in events:
            if event == "start" and element.tag == _TABLE:
                name = element.get(_NAME, "")
                if names_only:
                    yield name, iter(())
                    _skip_table(events)
                else:
                    yield name, _ods_rows(events)
    return


_STYLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"


def _ods_hidden_tables(path) -> list[str]:
    """Return the tables of an ODS file whose style hides them.

    A hidden table has a table style with ``table:display="false"``; the
    automatic styles come before the tables in content.xml.
    """
    hidden_styles = set()
    hidden = []
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
        events = ElementTree.iterparse(content, events=("start", "end"))
        for event, element in events:
            if event == "end" and element.tag == f"{_STYLE_NS}style":
                properties = element.find(f"{_STYLE_NS}table-properties")
                if (
                    element.get(f"{_STYLE_NS}family") == "table"
                    and properties is not None
                    and properties.get(f"{_TABLE_NS}display") == "false"
                ):
                    hidden_styles.add(element.get(f"{_STYLE_NS}name"))
            elif event == "start" and element.tag == _TABLE:
                if element.get(f"{_TABLE_NS}style-name") in hidden_styles:
                    hidden.append(element.get(_NAME, ""))
                _skip_table(events)
    return hidden


def _skip_table(events):
    for event, element in events:
        if event == "end" and element.tag == _TABLE:
            element.clear()
            return


def _too_many_repeated_rows(row: int) -> UnreadableFile:
    return UnreadableFile(
        _(
            "From row %(row)d, the sheet asks for more than %(limit)s copies of "
            "rows that repeat the row above them exactly, which no list of "
            "people needs. Open the file in your spreadsheet program, remove "
            "the repeated rows and upload it again."
        )
        % {
            "row": row,
            "limit": number_format(MAX_REPEATED_ROWS, force_grouping=True),
        }
    )


def _repeat_count(element, attribute: str, row: int) -> int:
    """Return a row's or cell's repeat count, or raise ``UnreadableFile``."""
    text = element.get(attribute, "1")
    count = int(text) if _REPEAT_COUNT.fullmatch(text) else 0
    if count < 1:
        raise UnreadableFile(
            _(
                "Row %(row)d has the repeat count %(value)s, where a whole number "
                "of 1 or more is expected. Open the file in your spreadsheet "
                "program, save it again as ODS and upload the new file."
            )
            % {"row": row, "value": repr(text[:20])}
        )
    return count


def _ods_rows(events):
    """Yield the rows of a table, with the top value of a merged column copied
    down into the cells it covers, as ``_merged_values_copied`` does."""
    number = copies = 0
    # Column index -> (top value, last row) of each range merged over rows.
    spans = {}
    for event, element in events:
        if event == "end" and element.tag == _TABLE:
            return
        if event != "end" or element.tag != _ROW:
            continue
        cells = []
        for cell in element:
            if cell.tag not in _CELLS:
                continue
            repeat = min(
                _repeat_count(cell, _COLUMNS_REPEATED, number + 1), _MAX_REPEAT
            )
            column = len(cells)
            value = _ods_cell(cell)
            if cell.tag == _COVERED_CELL:
                # One element may cover several columns, each under its own
                # spanning cell or under none (a block merged both ways).
                for offset in range(repeat):
                    top_value, last_row = spans.get(column + offset, (None, 0))
                    cells.append(top_value if last_row > number else value)
                continue
            if _REPEAT_COUNT.fullmatch(cell.get(_ROWS_SPANNED, "")):
                spans[column] = (value, number + int(cell.get(_ROWS_SPANNED)))
            cells.extend([value] * repeat)
        row = _trim(cells)
        repeat = _repeat_count(element, _ROWS_REPEATED, number + 1)
        element.clear()
        if not row:
            number += repeat
            continue
        copies += repeat - 1
        if copies > MAX_REPEATED_ROWS:
            raise _too_many_repeated_rows(number + 1)
        for _index in range(repeat):
            number += 1
            yield number, row
