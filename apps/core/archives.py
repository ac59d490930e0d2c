"""Limits on uploaded spreadsheets, checked before or while a parser reads them."""

import csv
import zipfile

# Maximum length of a cell, in characters. Excel stops a cell at 32,767
# characters, so the rest leaves room for long notes in CSV files that other
# tools write. A longer cell rejects the file, because a decompressed workbook
# or a CSV field could otherwise fill the memory with one value. The csv
# module's limit is process-wide, so it is set here, once, for every reader.
MAX_CELL_CHARACTERS = 100_000
csv.field_size_limit(MAX_CELL_CHARACTERS)

# A part that decompresses to more than this many bytes must not grow more
# than ``MAX_COMPRESSION_RATIO`` times. XLSX and ODS sheets compress 10 to 20
# times; a ZIP bomb, a small file that expands to gigabytes, about 1,000 times.
LARGE_PART_BYTES = 20 * 1024 * 1024
MAX_COMPRESSION_RATIO = 250
# NOTE: a part that grows just under this ratio still reaches the parser, and
# one huge cell in it is built in memory before the cell limit rejects it.


def archive_overexpanding_part(
    archive: zipfile.ZipFile, *, max_bytes: int | None = None
) -> zipfile.ZipInfo | None:
    """Return a large part that expands far beyond its compressed size, if any.

    With ``max_bytes``, a part larger than that is returned whatever its
    ratio. The sizes come from the archive's directory. Python's ``zipfile``
    stops reading a part at its stated size, so a part cannot expand beyond it.
    """
    for part in archive.infolist():
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > LARGE_PART_BYTES and ratio > MAX_COMPRESSION_RATIO:
            return part
        if max_bytes is not None and part.file_size > max_bytes:
            return part
    return None
