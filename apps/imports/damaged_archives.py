"""Reading the members of ZIP archives that may be damaged, such as XLSX or ODS files.

A workbook that no reader accepts may still hold personal data in its
compressed members. ``archive_members`` yields each member's decompressed
content as far as it decompresses: through zipfile when the central directory
is readable, otherwise by walking the local file headers. Output comes in
bounded pieces, and ``DecompressionBudget`` stops an archive that inflates
past a limit (a ZIP bomb).
"""

import struct
import zipfile
import zlib
from collections.abc import Iterable
from collections.abc import Iterator

# Decompressed bytes yielded at a time.
PIECE_BYTES = 1024 * 1024
ZIP_SIGNATURE = b"PK\x03\x04"
_ENCRYPTED_FLAG = 0x01
_DATA_DESCRIPTOR_FLAG = 0x08
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
# Compressed bytes read at a time from a damaged archive's raw deflate stream.
_INFLATE_INPUT_BYTES = 64 * 1024
# Errors that zipfile raises on a damaged member: a broken deflate stream,
# data cut short, or a CRC that does not match.
_DAMAGED_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)


class ArchiveNotSearchable(Exception):
    """A ZIP archive whose members cannot all be searched, with the reason."""


class DecompressionBudget:
    """The decompressed bytes that one archive may still yield."""

    def __init__(self, limit: int):
        self.limit = limit
        self.remaining = limit

    def spend(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.remaining -= len(piece)
            if self.remaining < 0:
                raise ArchiveNotSearchable(
                    f"its ZIP members decompress to more than {self.limit} bytes"
                )
            yield piece


def archive_members(path) -> Iterator[Iterator[bytes]]:
    """Yield the decompressed content of each member, as pieces of bytes.

    The members listed in the central directory are read through zipfile.
    When there is no readable central directory (a truncated download), the
    local file headers are walked instead. Each yielded iterator must be
    consumed before the next.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError):
        yield from _walked_members(path)
        return

    with archive:
        for info in archive.infolist():
            if info.flag_bits & _ENCRYPTED_FLAG:
                raise ArchiveNotSearchable("a ZIP member is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # zipfile inflates bzip2 and LZMA members without an output
                # limit, and XLSX and ODS writers use none of them.
                raise ArchiveNotSearchable(
                    f"a ZIP member uses compression method {info.compress_type}"
                )
            try:
                member = archive.open(info)
            except zipfile.BadZipFile:
                yield _pieces_after_damaged_header(path, info)
                continue
            yield _member_pieces(member)


def _member_pieces(member) -> Iterator[bytes]:
    with member:
        try:
            while piece := member.read(PIECE_BYTES):
                yield piece
        except _DAMAGED_MEMBER_ERRORS:
            return


def _pieces_after_damaged_header(path, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Yield the content of a listed member whose local header zipfile rejects.

    The central directory gives the header's offset and the member's method,
    and the header's name and extra field lengths give where the data starts.
    """
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size:
            return
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[9:]
        start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        if info.compress_type == zipfile.ZIP_DEFLATED:
            yield from _inflated_pieces(handle, start)
        else:
            yield from _stored_pieces(handle, start, info.compress_size)


def _walked_members(path) -> Iterator[Iterator[bytes]]:
    """Yield the content of each member found by a local file header.

    A damaged member's end is unknown, so every occurrence of the header
    signature is tried. One that occurs by chance inside compressed data
    reads random bytes as deflate data, which usually fails within a few
    bytes. Deflated members are inflated until their stream ends or the data
    runs out. Stored members of known size are read as they are. Other
    methods are skipped, because a header found by chance names a random
    method. The raw search of the file's bytes has covered stored members of
    unknown size.
    """
    with open(path, "rb") as handle:
        for offset in _signature_offsets(handle):
            handle.seek(offset)
            header = handle.read(_LOCAL_HEADER.size)
            if len(header) < _LOCAL_HEADER.size:
                return
            fields = _LOCAL_HEADER.unpack(header)
            flags, method, compressed_size = fields[2], fields[3], fields[7]
            name_length, extra_length = fields[9], fields[10]
            start = offset + _LOCAL_HEADER.size + name_length + extra_length
            if method == zipfile.ZIP_DEFLATED:
                yield _inflated_pieces(handle, start)
            elif method == zipfile.ZIP_STORED and not flags & _DATA_DESCRIPTOR_FLAG:
                yield _stored_pieces(handle, start, compressed_size)


def _signature_offsets(handle) -> Iterator[int]:
    """Yield the offset of every local file header signature in the file.

    The handle is shared with the readers of the members, so each read
    seeks to its own position first.
    """
    position = 0
    while True:
        handle.seek(position)
        block = handle.read(PIECE_BYTES)
        found = block.find(ZIP_SIGNATURE)
        while found != -1:
            yield position + found
            found = block.find(ZIP_SIGNATURE, found + 1)
        if len(block) < PIECE_BYTES:
            return
        # A signature cut by the end of the block is found in the next one.
        position += len(block) - len(ZIP_SIGNATURE) + 1


def _inflated_pieces(handle, start: int) -> Iterator[bytes]:
    """Yield the inflated content of the raw deflate stream at ``start``.

    The stream ends at its end marker, at the end of the file, or at the
    first invalid data. Output is produced in bounded pieces, so a stream
    that inflates to gigabytes never sits in memory.
    """
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    position = start
    while not decompressor.eof:
        handle.seek(position)
        compressed = handle.read(_INFLATE_INPUT_BYTES)
        if not compressed:
            return
        position += len(compressed)
        while compressed and not decompressor.eof:
            try:
                piece = decompressor.decompress(compressed, PIECE_BYTES)
            except zlib.error:
                return
            if piece:
                yield piece
            compressed = decompressor.unconsumed_tail


def _stored_pieces(handle, start: int, size: int) -> Iterator[bytes]:
    position = start
    end = start + size
    while position < end:
        handle.seek(position)
        piece = handle.read(min(PIECE_BYTES, end - position))
        if not piece:
            return
        position += len(piece)
        yield piece
