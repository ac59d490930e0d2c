"""Reads of import jobs for pages, the JSON progress view and the command."""

import datetime
import re
from collections.abc import Iterator

from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import pgettext

from apps.imports.models import ImportJob
from apps.imports.models import Outcome
from apps.imports.models import RowResult

# A running job whose worker has not reported for this long may be resumed.
# NOTE: the heartbeat is written between merge statements only. A single
# statement on a file of several million rows on a loaded server could outlast
# this limit, so raise it if such jobs get cancelled while running.
STALE_AFTER = datetime.timedelta(minutes=15)
ACTIVE_STATUSES = (
    ImportJob.Status.CHECKING,
    ImportJob.Status.QUEUED,
    ImportJob.Status.RUNNING,
)


def active_jobs() -> Q:
    """Return the condition of jobs that a worker runs or is about to run.

    A job queued or running whose worker stopped reporting is stalled, not
    active: it can be resumed, cancelled or purged.
    """
    fresh = timezone.now() - STALE_AFTER
    return Q(status__in=ACTIVE_STATUSES, heartbeat_at__gte=fresh)


def job_is_active(job: ImportJob) -> bool:
    """Tell whether ``job`` matches ``active_jobs`` now."""
    fresh = timezone.now() - STALE_AFTER
    return job.status in ACTIVE_STATUSES and (
        job.heartbeat_at is not None and job.heartbeat_at >= fresh
    )


def job_is_stalled(job: ImportJob) -> bool:
    """Tell whether a worker should run ``job`` but has stopped reporting.

    Such a job keeps its status (queued, running or dry run in progress)
    until it is resumed or rolled back, so the pages show it as stalled.
    """
    return job.status in ACTIVE_STATUSES and not job_is_active(job)


def job_status_mark(job: ImportJob) -> ImportJob:
    """Set ``stalled`` and ``status_label``, which ``status_badge.html`` shows."""
    job.stalled = job_is_stalled(job)
    job.status_label = gettext("stalled") if job.stalled else job.get_status_display()
    return job


def job_list(*, user=None) -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("vendor", "contact_list", "created_by")


def job_recent(*, limit: int = 5) -> list[ImportJob]:
    return [job_status_mark(job) for job in job_list()[:limit]]


def job_summary(job: ImportJob, *, with_row_reasons: bool = True) -> dict:
    """Return the job's state and counts as plain data.

    The dry run's first problems are rows with their reasons, which name the
    file's columns and can quote a cell (a collection date, or characters of
    an invalid e-mail address). Pass ``with_row_reasons=False`` to leave them
    out.
    """
    summary = {
        "id": job.pk,
        "status": job.status,
        "progress": job.progress,
        "rows_read": job.rows_read,
        "file_name": job.file_name,
        "file_sha256": job.file_sha256,
        "file_size": job.file_size,
        "format": job.file_format,
        "encoding": job.encoding,
        "delimiter": job.delimiter,
        "sheet": job.sheet_name,
        "header_row": job.header_row,
        "vendor": job.vendor_name,
        "list": job.list_name,
        "list_id": job.contact_list_id,
        "mapping": job.mapping,
        "phone_country": job.phone_country,
        "row_count": job.row_count,
        "counts": {str(key): value for key, value in job.counts.items()},
        "error": job.error,
    }
    if job.status == ImportJob.Status.DONE:
        summary["noted_count"] = job_noted_rows(job).count()
    if job.dry_run_summary:
        summary["dry_run"] = dict(job.dry_run_summary)
        if not with_row_reasons:
            summary["dry_run"].pop("problems", None)
    return summary


def job_problem_rows(job: ImportJob, *, limit: int | None = None) -> QuerySet:
    rows = RowResult.objects.filter(job=job).exclude(
        outcome__in=[Outcome.CREATED, Outcome.MERGED]
    )
    return rows[:limit] if limit else rows


def job_noted_rows(job: ImportJob, *, limit: int | None = None) -> QuerySet:
    """Return the imported rows that carry a note, in row order.

    The note is a value left out (an invalid phone, country or collection
    date) or, on a merged row, that the contact was already in this list.
    """
    rows = (
        RowResult.objects.filter(job=job, outcome__in=[Outcome.CREATED, Outcome.MERGED])
        .exclude(reason="")
        .order_by("row_number")
    )
    return rows[:limit] if limit else rows


def job_rejected_rows(job: ImportJob) -> Iterator[tuple[int, str, str]]:
    """Yield ``(row number, outcome, reason)`` of the rows not imported, in order."""
    rows = job_problem_rows(job).order_by("row_number")
    yield from rows.values_list("row_number", "outcome", "reason").iterator(
        chunk_size=5000
    )


# Text the preview shows in place of a national identifier, and of every cell
# of a row whose person is on the suppression list.
MASKED_CELL = "•••"


class PreviewRow(list):
    """The texts of one previewed row.

    ``suppressed`` is true when its person objected or was erased, so the
    import skips it. ``mentions_suppressed`` is true when only a column the
    import does not read, such as a referent's address, holds such a
    person's identifier. Every cell is masked in both cases.
    """

    suppressed = False
    mentions_suppressed = False


def job_preview(job: ImportJob, *, limit: int = 10) -> list[PreviewRow]:
    """Return the first data rows of the job's file as text, for the preview.

    The cells of columns that are never imported, such as social-security
    numbers, are masked, because mapping the file does not need them, and so
    is any cell that reads as a social-security number. So are
    all the cells of a row whose e-mail address or phone number is on the
    suppression list, whether read with the saved mapping or found in any
    cell: the import skips that row, and the people who saw the file need
    not see the person again.
    """
    from apps.imports.mapping import is_forbidden_header
    from apps.imports.mapping import is_nir
    from apps.imports.normalizers import cell_text
    from apps.imports.readers import FileReader
    from apps.imports.services import job_layout
    from apps.imports.services import job_row_normalizer

    layout = job_layout(job)
    masked = {
        index
        for index, header in enumerate(layout.headers)
        if is_forbidden_header(header)
    }
    reader = FileReader(job.source_file.path, layout)
    normalizer = job_row_normalizer(job, layout, reader)
    rows = []
    try:
        for number, cells in reader.data_rows():
            texts = [cell_text(cell) for cell in cells][: len(layout.headers)]
            row = PreviewRow(
                MASKED_CELL if (index in masked and text) or is_nir(text) else text
                for index, text in enumerate(texts)
            )
            read = _identifier_hashes(normalizer.normalize(number, cells))
            cells_hashes = _cell_identifier_hashes(
                texts, _row_regions(texts, normalizer)
            )
            rows.append((row, read, cells_hashes))
            if len(rows) >= limit:
                break
    finally:
        reader.close()
    return _suppressed_rows_masked(rows)


def _identifier_hashes(staged: tuple) -> set[str]:
    from apps.imports.rows import STAGING_COLUMNS

    hashes = {
        staged[STAGING_COLUMNS.index(name)]
        for name in ("email_hash", "email_base_hash", "phone_hash")
        if staged[STAGING_COLUMNS.index(name)]
    }
    hashes.update(staged[STAGING_COLUMNS.index("other_hashes")].split())
    return hashes


# A phone number inside a cell's text: digits with spaces, dots, dashes or
# brackets, and an optional +.
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d .()-]{6,22}\d")
# Separators of several values written in one cell.
_VALUE_SEPARATORS = re.compile(r"[,;/|]")


def _row_regions(texts: list[str], normalizer) -> list[str]:
    """Return the regions in which the row's national phone numbers may be read.

    The import reads them in the row's country when a mapped column names
    one, and in the job's region otherwise, so both are tried.
    """
    from apps.imports.normalizers import InvalidValue
    from apps.imports.normalizers import country_normalize

    regions = [normalizer.region]
    index = normalizer.columns.get("country")
    if index is None or index >= len(texts) or not texts[index]:
        return regions
    try:
        region = country_normalize(texts[index])
    except InvalidValue:
        return regions
    return regions if region in regions else [*regions, region]


def _cell_identifier_hashes(texts: list[str], regions: list[str]) -> set[str]:
    """Return the hashes of the e-mail addresses and phone numbers in the cells.

    Every column counts, mapped or not, so that a row whose headers the
    mapping did not recognise still hides a suppressed person. A cell may
    hold several values, or a number inside text ("Tél. 06 12 34 56 78").
    """
    from apps.core.identifiers import identifier_hash
    from apps.imports.normalizers import InvalidValue
    from apps.imports.normalizers import email_candidates
    from apps.imports.normalizers import phone_normalize

    hashes = set()
    for text in texts:
        if "@" in text:
            hashes.update(identifier_hash(email) for email in email_candidates(text))
            continue
        for part in _VALUE_SEPARATORS.split(text):
            for match in _PHONE_IN_TEXT.finditer(part):
                for region in regions:
                    try:
                        phone = phone_normalize(match.group(0), region)
                    except InvalidValue:
                        continue
                    hashes.add(identifier_hash(phone))
    return hashes


def _suppressed_flags(row_hashes: list[set[str]]) -> list[bool]:
    """Return, for each set of identifier hashes, whether one is suppressed."""
    from apps.contacts.suppression import suppressed_hashes

    suppressed = suppressed_hashes(set().union(*row_hashes))
    return [bool(hashes & suppressed) for hashes in row_hashes]


def _suppressed_rows_masked(
    rows: list[tuple[PreviewRow, set[str], set[str]]],
) -> list[PreviewRow]:
    """Mask the rows that hold a suppressed identifier, in the columns the
    import reads (``read``) or in any cell (``cells``)."""
    from apps.contacts.suppression import suppressed_hashes

    suppressed = suppressed_hashes(
        set().union(*(read | cells for _row, read, cells in rows))
    )
    previewed = []
    for row, read, cells in rows:
        skips = bool(read & suppressed)
        mentions = bool(cells & suppressed)
        if skips or mentions:
            row = PreviewRow(MASKED_CELL for _text in row)
            row.suppressed = skips
            row.mentions_suppressed = not skips
        previewed.append(row)
    return previewed


def job_rejected_export(job: ImportJob) -> tuple[list[str], Iterator[list]]:
    """Return headers and rows of the rejected rows, with the file's cells.

    The rows are read again from the uploaded file, because row results keep
    no personal data. Once the file is deleted, only the row number and the
    reason remain. Social-security numbers are masked, by their column's
    header or by their form, as in the preview.
    """
    from apps.imports.mapping import is_forbidden_header
    from apps.imports.mapping import is_nir
    from apps.imports.normalizers import cell_text
    from apps.imports.readers import FileReader
    from apps.imports.readers import UnreadableFile
    from apps.imports.services import job_layout
    from apps.imports.services import job_row_normalizer

    rejected = (
        RowResult.objects.filter(job=job, outcome=Outcome.REJECTED)
        .order_by("row_number")
        .values_list("row_number", "reason")
    )
    fixed = [
        pgettext("rejected rows column", "row"),
        pgettext("rejected rows column", "reason"),
    ]
    try:
        layout = job_layout(job) if job.source_file else None
    except (UnreadableFile, OSError):
        layout = None
    if layout is None:
        return fixed, ([number, reason] for number, reason in rejected.iterator())

    masked = {
        index
        for index, header in enumerate(layout.headers)
        if is_forbidden_header(header)
    }

    def masked_text(index: int, cell) -> str:
        text = cell_text(cell)
        if text and (index in masked or is_nir(text)):
            return MASKED_CELL
        return text

    normalizer = job_row_normalizer(job, layout)

    def rows():
        reasons = dict(rejected)
        reader = FileReader(job.source_file.path, layout)
        batch = []
        try:
            for number, cells in reader.raw_rows():
                if number not in reasons:
                    continue
                texts = [masked_text(i, cell) for i, cell in enumerate(cells)]
                batch.append([number, reasons[number], *texts])
                if len(batch) >= REJECTED_BATCH_SIZE:
                    yield from _suppressed_rejected_masked(batch, normalizer)
                    batch = []
            yield from _suppressed_rejected_masked(batch, normalizer)
        finally:
            reader.close()

    return fixed + layout.headers, rows()


# Rejected rows checked against the suppression list in one query.
REJECTED_BATCH_SIZE = 500


def _suppressed_rejected_masked(batch: list[list], normalizer) -> list[list]:
    """Return the rejected rows, with every cell masked where a person is suppressed.

    The import counts a row as suppressed when its mapped identifiers are
    listed. An address in an unmapped column, or a person erased after the
    import, is only found here, by reading every cell as the preview does.
    """
    flags = _suppressed_flags(
        [
            _cell_identifier_hashes(row[2:], _row_regions(row[2:], normalizer))
            for row in batch
        ]
    )
    return [
        [*row[:2], *(MASKED_CELL if text else text for text in row[2:])]
        if suppressed
        else row
        for row, suppressed in zip(batch, flags, strict=True)
    ]
