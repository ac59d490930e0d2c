"""Checks on ZIP-based spreadsheets (XLSX, ODS) before a parser opens them."""

import zipfile

# A part that decompresses to more than this many bytes must not grow more
# than ``MAX_COMPRESSION_RATIO`` times. XLSX and ODS sheets compress 10 to 20
# times; a ZIP bomb, a small file that expands to gigabytes, about 1,000 times.
LARGE_PART_BYTES = 20 * 1024 * 1024
MAX_COMPRESSION_RATIO = 250


def archive_overexpanding_part(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """Return a large part that expands far beyond its compressed size, if any.

    The sizes come from the archive's directory. Python's ``zipfile`` stops
    reading a part at its stated size, so a part cannot expand beyond it.
    """
    for part in archive.infolist():
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > LARGE_PART_BYTES and ratio > MAX_COMPRESSION_RATIO:
            return part
    return None
