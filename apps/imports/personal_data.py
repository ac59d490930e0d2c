"""Personal data stored by imports: staged rows and uploaded source files.

Row results contain no personal data (row number, outcome, reason, contact
id). Erasing a person unlinks those results from the contact, so the job's
report no longer points at the person.
"""

import codecs
import contextlib
import html
import logging
import os
import re
from collections.abc import Iterable
from unicodedata import normalize

from django.db.models import Q
from django.db.models import Value
from django.db.models.functions import Concat
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.personal_data import ContactIdColumn
from apps.core.personal_data import IdentifierColumns
from apps.core.personal_data import PersonalDataMatch
from apps.imports.damaged_archives import ZIP_SIGNATURE
from apps.imports.damaged_archives import ArchiveNotSearchable
from apps.imports.damaged_archives import DecompressionBudget
from apps.imports.damaged_archives import archive_members
from apps.imports.models import ImportJob
from apps.imports.models import RowResult
from apps.imports.models import StagingRow
from apps.imports.normalizers import InvalidValue
from apps.imports.normalizers import cell_text
from apps.imports.normalizers import email_normalize
from apps.imports.normalizers import phone_normalize
from apps.imports.readers import FileReader
from apps.imports.readers import UnreadableFile
from apps.imports.readers import layout_detect
from apps.imports.selectors import active_jobs
from apps.imports.selectors import job_is_active
from apps.imports.storage import upload_root

logger = logging.getLogger(__name__)


def _staging_matches(*, emails, phones, names):
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(email__in=list(emails))
    if phones:
        condition |= Q(phone__in=list(phones))
    lowered = [name.strip().lower() for name in names if name.strip()]
    rows = StagingRow.objects.annotate(
        full_name_lower=Lower(Concat("first_name", Value(" "), "last_name"))
    )
    if lowered:
        condition |= Q(full_name_lower__in=lowered)
    return rows.filter(condition)


class _IdentifierProbe:
    """A check of which rows of a file contain one of the normalised ``identifiers``.

    Normalising every cell of a large file takes seconds per hundred thousand
    rows, so a row's cells are normalised only when the row could match. The
    normal form of an address is its lower-cased NFKC text, which therefore
    contains the local part. The digits of any written form of a phone
    number contain its last six digits, since formats differ only in their
    prefixes and separators. Letters, as in ``1-800-FLOWERS``, count as the
    keypad's digits, as phonenumbers reads them.
    """

    TAIL_DIGITS = 6
    # A contact row contains a few numbers, so a line with more digits is not one.
    RAW_LINE_MAX_DIGITS = 200

    def __init__(self, identifiers: set[str]):
        self.identifiers = identifiers
        self.local_parts = {
            value.split("@", 1)[0] for value in identifiers if "@" in value
        }
        self.phone_tails = {
            value[-self.TAIL_DIGITS :] for value in identifiers if value.startswith("+")
        }
        # The pattern matches a tail's digits in order with anything but
        # digits and line breaks between them, so it finds the tail among the
        # digits of one line.
        self.raw_tail_pattern = re.compile(
            "|".join(_RAW_DIGIT_GAP.join(tail) for tail in sorted(self.phone_tails))
        )

    def row_holds(self, cells) -> bool:
        texts = [cell_text(cell).strip() for cell in cells if cell]
        if not self._may_hold(" ".join(texts)):
            return False
        return any(self._cell_holds(text) for text in texts)

    def _may_hold(self, text: str) -> bool:
        folded = text.lower() if text.isascii() else normalize("NFKC", text).lower()
        if any(local in folded for local in self.local_parts):
            return True
        digits = _NOT_DIGIT.sub("", text)
        if not digits.isascii():
            # Digits of other scripts are left to the full normalisation.
            return bool(self.phone_tails)
        dialled = _NOT_DIGIT.sub("", text.translate(_KEYPAD))
        return any(tail in digits or tail in dialled for tail in self.phone_tails)

    def raw_text_may_hold(self, text: str) -> bool:
        """Tell whether text read from a file's bytes may hold an identifier.

        An address's local part may be anywhere. A phone's tail must be among
        the digits of one short line, because the digits of a whole file, or
        of a long binary line, contain any six digits by chance.
        """
        folded = text.lower() if text.isascii() else normalize("NFKC", text).lower()
        if any(local in folded for local in self.local_parts):
            return True
        if not self.phone_tails:
            return False
        position = 0
        while found := self.raw_tail_pattern.search(text, position):
            line_start = 1 + max(
                text.rfind(line_break, 0, found.start()) for line_break in _LINE_BREAKS
            )
            line_end = _LINE_BREAK.search(text, found.end())
            position = line_end.start() if line_end else len(text)
            digits = _NOT_DIGIT.sub("", text[line_start:position])
            if len(digits) <= self.RAW_LINE_MAX_DIGITS:
                return True
        return False

    def _cell_holds(self, text: str) -> bool:
        return bool((cell_emails(text) | cell_phones(text)) & self.identifiers)


def cell_emails(text: str) -> set[str]:
    """Return the normalised e-mail addresses in a cell.

    A cell may hold one address, or several with a name around them, such as
    "Nina Durand <nina@example.com>, assistante@example.com".
    """
    if not text.isascii():
        # Full-width letters and at signs (＠) are read as the normaliser reads them.
        text = normalize("NFKC", text)
    if "@" not in text:
        return set()
    found = set()
    for candidate in (text, *_EMAIL_CANDIDATE.findall(text)):
        with contextlib.suppress(InvalidValue):
            found.add(email_normalize(candidate))
    return found


def cell_phones(text: str) -> set[str]:
    """Return the normalised phone numbers in a cell, alone or in a list."""
    found = set()
    for candidate in (text, *_PHONE_LIST_SEPARATOR.split(text)):
        # Letters count as keypad digits, and an extension can take the count
        # past E.164's fifteen digits, so only a lower bound applies here.
        if len(_NOT_DIGIT.sub("", candidate.translate(_KEYPAD))) >= 8:
            with contextlib.suppress(InvalidValue):
                found.add(phone_normalize(candidate.strip()))
    return found


# An address inside longer text: no spaces, separators or brackets around "@".
_EMAIL_CANDIDATE = re.compile(r"[^\s,;<>()\[\]\"']+@[^\s,;<>()\[\]\"']+")
# The separators of several phone numbers in one cell.
_PHONE_LIST_SEPARATOR = re.compile(r"[,;/|]")


_NOT_DIGIT = re.compile(r"\D+")
# The characters at which ``str.splitlines`` breaks lines.
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[{re.escape(_LINE_BREAKS)}]")
_RAW_DIGIT_GAP = f"[^\\d{re.escape(_LINE_BREAKS)}]*"
_KEYPAD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "22233344455566677778889999" * 2,
)


def _files_holding(identifiers: set[str]):
    """Yield ``(job, row numbers)`` for each stored file containing an identifier.

    Every cell is checked, not only the mapped columns, because a person's
    address may sit in a column that the import ignored. A file that cannot
    be read as a table to its end is searched as text instead, and yielded
    without row numbers.
    """
    if not identifiers:
        return
    probe = _IdentifierProbe(identifiers)
    jobs = ImportJob.objects.exclude(source_file="").order_by("pk")
    for job in jobs.iterator():
        path = job.source_file.path
        try:
            layout = layout_detect(path, sheet_name=job.sheet_name)
            rows = _rows_holding(path, layout, probe)
        except OSError:
            continue
        except UnreadableFile:
            if _bytes_may_hold(path, probe, job_id=job.pk):
                yield job, []
            continue
        if rows:
            yield job, rows


def _rows_holding(path, layout, probe: _IdentifierProbe) -> list[int]:
    """Return the numbers of the file's rows that contain an identifier.

    A workbook damaged past its first rows raises ``UnreadableFile`` here.
    """
    reader = FileReader(path, layout)
    try:
        return [number for number, cells in reader.raw_rows() if probe.row_holds(cells)]
    finally:
        reader.close()


# Size of each piece of an unreadable file that is searched as text. The last
# bytes of a piece are searched again with the next, so an identifier cut
# between two pieces is still found. Decompressed ZIP members are searched in
# pieces of the same size, with the same overlap in characters.
RAW_CHUNK_BYTES = 1024 * 1024
RAW_OVERLAP_BYTES = 512
# Decompressed bytes searched in one ZIP file, all members together. A ZIP
# bomb inflates a few kilobytes into gigabytes, so a file past this limit
# counts as containing the identifier without being read further, and an
# erasure deletes it. Spreadsheet XML compresses about tenfold (an estimate),
# so a damaged XLSX or ODS file above roughly 50 MB may reach the limit too.
ARCHIVE_MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024


def _bytes_may_hold(path, probe: _IdentifierProbe, *, job_id: int) -> bool:
    """Tell whether a file that cannot be read as a table may hold an identifier.

    Its bytes are searched as UTF-8 and Windows-1252 text for the identifiers'
    local parts and phone tails (``raw_text_may_hold``). A ZIP archive, such
    as a damaged XLSX or ODS file, also has the text of its members searched
    after decompression (``_archive_may_hold``). This errs towards a match, so
    an erasure deletes such a file when in doubt.
    """
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(RAW_CHUNK_BYTES):
            data = tail + chunk
            for encoding in ("utf-8", "cp1252"):
                if probe.raw_text_may_hold(data.decode(encoding, errors="ignore")):
                    return True
            tail = data[-RAW_OVERLAP_BYTES:]
        handle.seek(0)
        is_archive = handle.read(len(ZIP_SIGNATURE)) == ZIP_SIGNATURE
    return is_archive and _archive_may_hold(path, probe, job_id=job_id)


def _archive_may_hold(path, probe: _IdentifierProbe, *, job_id: int) -> bool:
    """Tell whether the decompressed members of a ZIP archive may hold an identifier.

    Each member is searched as far as it decompresses, so the text before a
    damaged part is searched too. An archive with an encrypted member, with a
    member compressed by a method other than deflate, or past the
    decompression limit counts as a match.
    """
    budget = DecompressionBudget(ARCHIVE_MAX_DECOMPRESSED_BYTES)
    try:
        with contextlib.closing(archive_members(path)) as members:
            for pieces in members:
                if _xml_pieces_may_hold(budget.spend(pieces), probe):
                    return True
    except ArchiveNotSearchable as error:
        logger.warning(
            "import job %s: upload not fully searched because %s, so it counts "
            "as containing the identifier",
            job_id,
            error,
        )
        return True
    return False


def _xml_pieces_may_hold(pieces: Iterable[bytes], probe: _IdentifierProbe) -> bool:
    """Tell whether the decompressed content of a member may hold an identifier.

    The content is decoded as UTF-16 after a UTF-16 byte order mark, which
    XML 1.0 requires in that encoding, and as UTF-8 otherwise. Office Open
    XML packages allow no other encoding for their XML. The markup is
    removed and escapes are resolved before the search, so that
    ``jean.dupont&#64;example.com`` is found. Each text node is searched as
    its own line, because a phone's tail must be on a short line. The text
    joined across tags is searched too, for an identifier split between two
    formatting runs of one cell.
    """
    decoder = None
    tail = ""
    for piece in pieces:
        if decoder is None:
            decoder = _text_decoder(piece)
        text = tail + decoder.decode(piece)
        # A piece may start inside a text node, so it counts as after a tag.
        nodes = _TEXT_NODE.findall(">" + text)
        for separator in ("\n", ""):
            if probe.raw_text_may_hold(_xml_unescape(separator.join(nodes))):
                return True
        tail = text[-RAW_OVERLAP_BYTES:]
    return False


def _text_decoder(first_piece: bytes) -> codecs.IncrementalDecoder:
    utf16_boms = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    encoding = "utf-16" if first_piece.startswith(utf16_boms) else "utf-8"
    return codecs.getincrementaldecoder(encoding)(errors="ignore")


_TEXT_NODE = re.compile(r">([^<>]+)")
# Office Open XML writes some characters of a string as ``_xHHHH_``, the
# character's code in hexadecimal.
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _xml_unescape(text: str) -> str:
    text = _OOXML_ESCAPE.sub(lambda match: chr(int(match[1], 16)), text)
    return html.unescape(text)


def find(*, emails, phones, names) -> list[PersonalDataMatch]:
    matches = []
    for row in _staging_matches(emails=emails, phones=phones, names=names):
        matches.append(
            PersonalDataMatch(
                kind="import_staging_row",
                record_id=row.pk,
                label=f"import #{row.job_id}, row {row.row_number}",
                matched_on="email, phone or name",
            )
        )
    for job, rows in _files_holding(set(emails) | set(phones)):
        where = (
            f"rows {', '.join(map(str, rows[:10]))}"
            if rows
            else "not readable as a table; its text holds the identifier"
        )
        matches.append(
            PersonalDataMatch(
                kind="import_source_file",
                record_id=job.pk,
                label=f"{job.file_name} ({where})",
                matched_on="email or phone",
                url=reverse("imports:job-detail", args=[job.pk]),
            )
        )
    return matches


CONTACT_ID_COLUMNS = [
    ContactIdColumn(StagingRow, "contact_id", "import_staging_row"),
    ContactIdColumn(RowResult, "contact_id", "import_row_result_unlinked", unlink=True),
]


def _rows_of_active_jobs() -> Q:
    return Q(job__in=ImportJob.objects.filter(active_jobs()))


def _upload_folder_holds_files() -> bool:
    """Tell whether any uploaded file is kept, without a database round trip.

    Staged rows are read from a kept upload, and whatever deletes the upload
    (the end of its retention period, a cancellation, an erasure) deletes the
    job's staged rows too: with no file kept, no row is staged.
    """
    return any(files for _folder, _subfolders, files in os.walk(upload_root()))


# Staged rows holding an erased person's identifiers go in the contacts
# eraser's statement. Those of an active job (queued or running, with a worker
# that reports) stay, because its merge checks each row against the
# suppression list, which the erasure fills, and deletes its rows at the end.
IDENTIFIER_COLUMNS = [
    IdentifierColumns(
        StagingRow,
        "import_staging_row",
        keep=_rows_of_active_jobs,
        may_hold_rows=_upload_folder_holds_files,
    )
]


def erase(*, contact_ids, emails, phones) -> dict[str, int]:
    """Delete the uploaded files that hold the identifiers.

    Rows that name an erased contact's id or hold an identifier go with the
    contacts (see ``CONTACT_ID_COLUMNS`` and ``IDENTIFIER_COLUMNS``); the job's
    report and counts stay. A file is deleted whole, because rewriting an
    XLSX or ODS file without one row is not reliable.
    The file of an active job is left alone: its rows go through the
    suppression check, which the erasure request fills. A job whose file is
    deleted before it finished is cancelled, and its other staged rows go too.
    """
    identifiers = {value for value in (*emails, *phones) if value}
    if not identifiers or not _upload_folder_holds_files():
        return {}
    files = 0
    for job, _rows in list(_files_holding(identifiers)):
        if job_is_active(job):
            continue
        job.source_file.delete(save=False)
        job.save(update_fields=["source_file"])
        ImportJob.objects.filter(pk=job.pk, file_deleted_at__isnull=True).update(
            file_deleted_at=timezone.now()
        )
        if job.status not in (ImportJob.Status.DONE, ImportJob.Status.CANCELLED):
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.CANCELLED,
                error=_(
                    "The uploaded file was deleted because it held the data of "
                    "a person whose erasure was requested. Upload the file "
                    "again to import the other rows: the erased person is now "
                    "on the suppression list and will be skipped."
                ),
                dry_run_summary={},
            )
            StagingRow.objects.filter(job=job).delete()
        files += 1
    return {"import_source_file": files}
