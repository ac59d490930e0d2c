"""Business rules of imports: create a job, confirm its mapping, run it.

Views, the ``import_contacts`` command and the Celery tasks call these
functions and decide nothing themselves.
"""

import datetime
import hashlib
import itertools
import logging
import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError
from django.db import InterfaceError
from django.db import OperationalError
from django.db import transaction
from django.db.models import Q
from django.db.models import Sum
from django.utils import timezone
from django.utils import translation
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from kombu.exceptions import OperationalError as QueueUnreachable

from apps.contacts.models import Audience
from apps.contacts.models import ConsentClaim
from apps.contacts.models import ContactList
from apps.contacts.models import Vendor
from apps.contacts.statistics import contact_statistics_refresh
from apps.core.audit import audit_record
from apps.core.text import labelled
from apps.core.text import text_shortened
from apps.imports import job_actions
from apps.imports import merge
from apps.imports import pipeline
from apps.imports import runner
from apps.imports.errors import DryRunFileError
from apps.imports.errors import ImportInputError
from apps.imports.job_actions import job_action_rejected
from apps.imports.job_actions import job_pending_check
from apps.imports.list_terms import list_terms_check
from apps.imports.mapping import PROFESSIONAL_FIELDS
from apps.imports.mapping import mapping_guess
from apps.imports.mapping import mapping_problems  # noqa: F401 (views use it)
from apps.imports.mapping import professional_detail_warning
from apps.imports.mapping import saved_mapping_keys
from apps.imports.models import ImportJob
from apps.imports.models import Outcome
from apps.imports.models import StagingRow
from apps.imports.models import VendorMapping
from apps.imports.normalizers import cell_text
from apps.imports.phone_countries import phone_country_check
from apps.imports.readers import FileReader
from apps.imports.readers import UnreadableFile
from apps.imports.readers import layout_detect
from apps.imports.rows import RowNormalizer
from apps.imports.selectors import STALE_AFTER
from apps.imports.selectors import active_jobs
from apps.imports.selectors import job_is_stalled
from apps.register.models import LawfulBasis

logger = logging.getLogger(__name__)

Status = ImportJob.Status
# Widest header row accepted. The mapping form and preview of a file of
# thousands of columns would be megabytes of HTML.
# NOTE: 200 is a judgement. The widest CRM export tested (Zoho contacts) has
# about 50 columns.
MAX_COLUMNS = 200
# An import that creates at least this many contacts refreshes the planner's
# statistics of the contacts tables. ANALYZE reads a fixed sample, which took
# about a second at five million contacts.
ANALYZE_AFTER_CREATED = 10_000


def _sha256(handle) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def activity_in_force_check(activity) -> None:
    """Raise ``ImportInputError`` unless ``activity`` is absent or in force.

    Contacts imported under a draft or retired activity could never be
    contacted, so such a batch is rejected before any file is stored.
    """
    if activity is None or activity.is_in_force:
        return
    raise ImportInputError(
        _(
            "The processing activity %(reference)s (%(name)s) is %(status)s, not in "
            "force; choose an activity in force in the register or put this one "
            "in force first."
        )
        % {
            "reference": activity.reference,
            "name": activity.name,
            "status": activity.get_status_display(),
        }
    )


def import_job_create(
    *,
    upload,
    file_name: str,
    vendor_name: str,
    list_name: str,
    acquired_on: datetime.date,
    acquisition: str = ContactList.Acquisition.PURCHASE,
    licence_ends_on: datetime.date | None = None,
    collection_method: str = "",
    consent_claim: str = ConsentClaim.UNKNOWN,
    audience: str = Audience.B2B,
    processing_activity=None,
    lawful_basis: str = LawfulBasis.LEGITIMATE_INTERESTS,
    phone_country: str | None = None,
    sheet_name: str = "",
    mapping: dict[str, str] | None = None,
    actor=None,
) -> ImportJob:
    """Store an uploaded file, detect its layout and guess its mapping.

    ``upload`` is a binary file object. ``phone_country`` is the country in
    which national phone numbers are read when a row names none, by default
    ``PHONE_DEFAULT_REGION``. Raises ``ImportInputError`` for a file that is
    too large or unreadable, or for invalid list terms, names or country
    code. After any error it raises, no job and no stored copy of the file is
    left.
    """
    vendor_name, list_name = vendor_name.strip(), list_name.strip()
    if not vendor_name or not list_name:
        raise ImportInputError(_("Give the vendor's name and the list's name."))
    _names_length_check(vendor_name=vendor_name, list_name=list_name)
    phone_country = phone_country_check(phone_country or settings.PHONE_DEFAULT_REGION)
    activity_in_force_check(processing_activity)
    list_terms_check(
        acquisition=acquisition,
        acquired_on=acquired_on,
        licence_ends_on=licence_ends_on,
        consent_claim=consent_claim,
        audience=audience,
        lawful_basis=lawful_basis,
        processing_activity=processing_activity,
    )
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(0)
    if size > settings.MAX_UPLOAD_SIZE:
        raise ImportInputError(
            _(
                "The file is %(size)s MB, above the %(limit)s MB limit; split it or "
                "ask an administrator to raise MAX_UPLOAD_SIZE_MB."
            )
            % {
                "size": number_format(size / 1048576, 1),
                "limit": number_format(settings.MAX_UPLOAD_SIZE / 1048576, 0),
            }
        )

    vendor = vendor_by_name(vendor_name)
    existing = (
        ContactList.objects.filter(vendor=vendor, name=list_name).first()
        if vendor
        else None
    )
    job = ImportJob(
        language=translation.get_language() or settings.LANGUAGE_CODE,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        file_name=Path(file_name).name[:255],
        file_size=size,
        file_sha256=_sha256(upload),
        vendor=vendor,
        vendor_name=vendor_name,
        contact_list=existing,
        list_name=list_name,
        acquisition=acquisition,
        acquired_on=acquired_on,
        licence_ends_on=licence_ends_on,
        collection_method=collection_method,
        consent_claim=consent_claim,
        audience=audience,
        processing_activity=processing_activity,
        lawful_basis=lawful_basis,
        phone_country=phone_country,
        sheet_name=sheet_name,
    )
    try:
        job.source_file.save(
            f"job-{job.file_sha256[:16]}.upload", File(upload), save=False
        )
        _job_describe(job, sheet_name=sheet_name, mapping=mapping)
        with transaction.atomic():
            job.save()
            audit_record(
                action="imports.job.created",
                actor=actor,
                target=job,
                details={
                    "vendor_id": vendor.pk if vendor else None,
                    "size": size,
                    "format": job.file_format,
                },
            )
    except BaseException:
        # No saved job points at the stored copy, so neither the purge of
        # uploads nor an erasure would ever find and delete it.
        job.source_file.delete(save=False)
        raise
    logger.info("import job %s created (%s bytes)", job.pk, size)
    return job


def _names_length_check(*, vendor_name: str, list_name: str) -> None:
    messages = {
        "vendor_name": _(
            "The vendor name “%(value)s” is %(length)d characters long, above the "
            "limit of %(limit)d characters. Give a shorter name."
        ),
        "list_name": _(
            "The list name “%(value)s” is %(length)d characters long, above the "
            "limit of %(limit)d characters. Give a shorter name."
        ),
    }
    for field, value in (("vendor_name", vendor_name), ("list_name", list_name)):
        limit = ImportJob._meta.get_field(field).max_length
        if len(value) <= limit:
            continue
        excerpt = value if len(value) <= 60 else value[:50] + "…"
        raise ImportInputError(
            messages[field] % {"value": excerpt, "length": len(value), "limit": limit},
            field=field,
        )


def _job_describe(
    job: ImportJob, *, sheet_name: str, mapping: dict[str, str] | None
) -> None:
    """Read the layout of the job's stored file, set its mapping and validate it."""
    try:
        _layout_apply(job, sheet_name=sheet_name)
    except UnreadableFile as error:
        raise ImportInputError(str(error)) from error

    saved = getattr(job.vendor, "import_mapping", None) if job.vendor else None
    job.mapping = (
        mapping
        if mapping is not None
        else mapping_guess(job_headers(job), saved.headers if saved else None)
    )
    try:
        job.full_clean(exclude=["source_file", "contact_list"])
    except ValidationError as error:
        # A value read from the file, such as a long sheet name of an ODS
        # workbook, can exceed a field's length.
        problems = []
        for name, field_messages in error.message_dict.items():
            if name == NON_FIELD_ERRORS:
                problems.extend(field_messages)
                continue
            label = capfirst(ImportJob._meta.get_field(name).verbose_name)
            problems.extend(labelled(label, message) for message in field_messages)
        raise ImportInputError(" ".join(problems)) from error


def _layout_apply(job: ImportJob, *, sheet_name: str) -> None:
    layout = layout_detect(job.source_file.path, sheet_name=sheet_name)
    if len(layout.headers) > MAX_COLUMNS:
        raise UnreadableFile(
            _(
                "The file has %(count)s columns, above the limit of %(limit)s; "
                "remove the columns that do not describe contacts and upload it "
                "again."
            )
            % {"count": len(layout.headers), "limit": MAX_COLUMNS}
        )
    job.file_format = layout.file_format
    job.encoding = layout.encoding
    job.delimiter = layout.delimiter
    job.sheet_name = layout.sheet_name
    job.header_row = layout.header_row
    job.layout = layout


def job_layout(job: ImportJob):
    """Return the detected layout of the job's file (read again on demand)."""
    layout = getattr(job, "layout", None)
    if layout is None:
        if not job.source_file:
            raise UnreadableFile(
                _("The uploaded file was deleted after the retention period.")
            )
        layout = layout_detect(job.source_file.path, sheet_name=job.sheet_name)
        job.layout = layout
    return layout


def other_contact_sheets_warning(job: ImportJob) -> str:
    """Return the warning of a workbook whose sheet read is hidden, or with
    contacts on sheets the job skips."""
    layout = job_layout(job)
    warnings = []
    if layout.sheet_name in layout.hidden_sheets:
        warnings.append(
            _(
                "The sheet %(sheet)s is hidden in the workbook: vendors often "
                "keep an archive or an opt-out list there. Check that its people "
                "are meant to be imported, or read another sheet."
            )
            % {"sheet": f"“{layout.sheet_name}”"}
        )
    others = [name for name in layout.contact_sheets if name != layout.sheet_name]
    visible = [name for name in others if name not in layout.hidden_sheets]
    hidden = [name for name in others if name in layout.hidden_sheets]
    if visible:
        warnings.append(_skipped_sheets_warning(layout, visible))
    if hidden:
        warnings.append(
            ngettext(
                "The hidden sheet %(sheets)s also holds e-mail addresses or phone "
                "numbers, and it is not read: vendors often keep an archive or an "
                "opt-out list there.",
                "The hidden sheets %(sheets)s also hold e-mail addresses or phone "
                "numbers, and they are not read: vendors often keep an archive or "
                "an opt-out list there.",
                len(hidden),
            )
            % {"sheets": ", ".join(f"“{name}”" for name in hidden)}
        )
    return " ".join(warnings)


def _skipped_sheets_warning(layout, others: list[str]) -> str:
    return ngettext(
        "The sheet %(others)s of this workbook also holds e-mail addresses or "
        "phone numbers, and this import reads only the sheet %(sheet)s. Import "
        "it as a job of its own, or read it instead (the sheet selector on the "
        "page, --sheet on the command line).",
        "The sheets %(others)s of this workbook also hold e-mail addresses or "
        "phone numbers, and this import reads only the sheet %(sheet)s. Import "
        "each as a job of its own, or read one instead (the sheet selector on "
        "the page, --sheet on the command line).",
        len(others),
    ) % {
        "others": ", ".join(f"“{name}”" for name in others),
        "sheet": f"“{layout.sheet_name}”",
    }


def job_headers(job: ImportJob) -> list[str]:
    return job_layout(job).headers


def import_job_map(
    *,
    job: ImportJob,
    mapping: dict[str, str],
    save_for_vendor: bool = False,
    actor=None,
) -> ImportJob:
    """Set the column mapping of a pending job, optionally saving it for the vendor."""
    job_pending_check(job, action=job_actions.MAP)
    headers = job_headers(job)
    chosen = dict(mapping)
    mapping = {index: field for index, field in mapping.items() if field}
    problems = mapping_problems(mapping, len(headers), headers=headers)
    if problems:
        raise ImportInputError(" ".join(problems))
    job.mapping = mapping
    job.dry_run_summary = {}
    job.save(update_fields=["mapping", "dry_run_summary"])
    if save_for_vendor:
        VendorMapping.objects.update_or_create(
            vendor=_vendor_for(job),
            # Ignored columns are saved too, so that the next file keeps
            # them ignored instead of guessing again.
            defaults={
                "headers": {
                    key: chosen.get(str(index), "")
                    for index, key in enumerate(saved_mapping_keys(headers))
                    if key
                }
            },
        )
    return job


def _enqueue(job: ImportJob, *, dry_run: bool, enqueue: bool, actor=None) -> None:
    if not enqueue:
        return
    from apps.imports.tasks import run_import_job

    def send():
        try:
            run_import_job.delay(job.pk, dry_run=dry_run)
        except QueueUnreachable as error:
            _queue_unreachable(job, error, dry_run=dry_run, actor=actor)

    transaction.on_commit(send)


def _queue_unreachable(
    job: ImportJob, error: Exception, *, dry_run: bool, actor=None
) -> None:
    """Record that no worker will ever get the job, so the user can act on it.

    A dry run goes back to pending, so that it can be checked again. A real
    run fails, so that it can be resumed once the queue is back.
    """
    logger.error("import job %s not queued: %s", job.pk, type(error).__name__)
    if dry_run:
        status, message = (
            Status.PENDING,
            _(
                "The task queue could not be reached, so the dry run did not start. "
                "Check the file again in a few minutes; if it fails again, tell the "
                "administrator that the Celery broker is down."
            ),
        )
    else:
        status, message = (
            Status.FAILED,
            _(
                "The task queue could not be reached, so the import did not start "
                "and nothing was imported. Resume it in a few minutes; if it fails "
                "again, tell the administrator that the Celery broker is down."
            ),
        )
    stopped = ImportJob.objects.filter(
        pk=job.pk, status__in=[Status.QUEUED, Status.CHECKING]
    ).update(status=status, error=message)
    job.refresh_from_db()
    if stopped and not dry_run:
        _failure_audit(job, cause="queue_unreachable", actor=actor)


def _claim(job: ImportJob, *, source: list[str], target: str) -> bool:
    changed = ImportJob.objects.filter(pk=job.pk, status__in=source).update(
        status=target, heartbeat_at=timezone.now()
    )
    job.refresh_from_db()
    return changed == 1


def import_job_check(*, job: ImportJob, actor=None, enqueue: bool = True) -> ImportJob:
    """Queue a dry run: every rule applied, counts stored, nothing written."""
    job_pending_check(job, action=job_actions.CHECK)
    _mapping_required(job)
    if not _claim(job, source=[Status.PENDING], target=Status.CHECKING):
        raise job_action_rejected(job, action=job_actions.CHECK)
    ImportJob.objects.filter(pk=job.pk).update(progress=0, rows_read=0)
    _enqueue(job, dry_run=True, enqueue=enqueue)
    return job


def import_job_start(
    *,
    job: ImportJob,
    actor=None,
    enqueue: bool = True,
    professional_use_confirmed: bool = False,
) -> ImportJob:
    """Queue the real import of a pending job, with its progress back at zero.

    A dry run leaves the progress at 100 %, and the run only ever raises it.
    A B2B list whose file shows no business detail needs
    ``professional_use_confirmed`` (see ``professional_use_check``).
    """
    job_pending_check(job, action=job_actions.START)
    if (job.dry_run_summary or {}).get("file_error"):
        raise DryRunFileError(
            _(
                "The dry run stopped on a problem of the file: %(error)s Correct "
                "the file and upload it again; importing it would stop the same "
                "way."
            )
            % {"error": job.dry_run_summary["error"]}
        )
    _mapping_required(job)
    # The activity may have been retired since the upload.
    activity_in_force_check(job.processing_activity)
    needs_confirmation = professional_use_check(
        job, confirmed=professional_use_confirmed
    )
    claimed = ImportJob.objects.filter(pk=job.pk, status=Status.PENDING).update(
        status=Status.QUEUED, heartbeat_at=timezone.now(), progress=0, rows_read=0
    )
    job.refresh_from_db()
    if claimed != 1:
        raise job_action_rejected(job, action=job_actions.START)
    details = {"professional_use_confirmed": True} if needs_confirmation else {}
    audit_record(action="imports.job.started", actor=actor, target=job, details=details)
    _enqueue(job, dry_run=False, enqueue=enqueue, actor=actor)
    return job


# Data rows read to tell whether a mapped business column contains a value.
PROFESSIONAL_SAMPLE_ROWS = 200


def professional_details_warning(job: ImportJob, mapping: dict | None = None) -> str:
    """Return the warning of a B2B job whose file shows no business detail, or "".

    That is a mapping without a company, SIRET or SIREN, job title or job
    function column, or with such columns all empty in the first
    ``PROFESSIONAL_SAMPLE_ROWS`` data rows. ``mapping`` defaults to the job's.
    """
    if job.audience != Audience.B2B:
        return ""
    mapping = job.mapping if mapping is None else mapping
    warning = professional_detail_warning(mapping)
    if warning or _professional_values_present(job, mapping):
        return warning
    return _(
        "The columns mapped to a company, a SIRET or SIREN, a job title or a job "
        "function are empty in the first %(rows)d rows, so nothing shows that "
        "these people are reached in their profession. If the file lists "
        "private individuals, cancel this import: they can be prospected only "
        "in a B2C list with their consent."
    ) % {"rows": PROFESSIONAL_SAMPLE_ROWS}


def _professional_values_present(job: ImportJob, mapping: dict) -> bool:
    """Tell whether a business column has a value in the first data rows.

    A file that cannot be read counts as having one: the import itself then
    fails with the reading error.
    """
    indexes = [
        int(index) for index, field in mapping.items() if field in PROFESSIONAL_FIELDS
    ]
    try:
        reader = FileReader(job.source_file.path, job_layout(job))
    except (UnreadableFile, OSError, ValueError):
        return True
    try:
        rows = itertools.islice(reader.data_rows(), PROFESSIONAL_SAMPLE_ROWS)
        return any(
            cell_text(cells[index]).strip()
            for _number, cells in rows
            for index in indexes
            if index < len(cells)
        )
    except (UnreadableFile, OSError):
        return True
    finally:
        reader.close()


def unnamed_columns_warning(job: ImportJob, mapping: dict | None = None) -> str:
    """Return the warning of columns without a header that contain values, or "".

    Such a column, often the second half of a merged header cell, is left out
    unless the user maps it. The first ``PROFESSIONAL_SAMPLE_ROWS`` data rows
    are read, and ``mapping`` defaults to the job's.
    """
    mapping = job.mapping if mapping is None else mapping
    try:
        layout = job_layout(job)
        reader = FileReader(job.source_file.path, layout)
    except (UnreadableFile, OSError, ValueError):
        return ""
    unnamed = [
        index
        for index, header in enumerate(layout.headers)
        if not str(header).strip() and not mapping.get(str(index))
    ]
    examples: dict[int, str] = {}
    try:
        for _number, cells in itertools.islice(
            reader.data_rows(), PROFESSIONAL_SAMPLE_ROWS
        ):
            for index in unnamed:
                if index not in examples and index < len(cells):
                    text = cell_text(cells[index]).strip()
                    if text:
                        examples[index] = text
    except (UnreadableFile, OSError):
        return ""
    finally:
        reader.close()
    if not examples:
        return ""
    columns = ", ".join(
        _("column %(number)d (for example “%(value)s”)")
        % {"number": index + 1, "value": text_shortened(value, 40)}
        for index, value in sorted(examples.items())
    )
    return ngettext(
        "A column without a header holds values and is left out: %(columns)s. "
        "Its header cell may be merged with the one before. Map it below if it "
        "belongs to the contacts.",
        "Columns without a header hold values and are left out: %(columns)s. "
        "Their header cells may be merged with the ones before. Map them below "
        "if they belong to the contacts.",
        len(examples),
    ) % {"columns": columns}


def professional_use_check(job: ImportJob, *, confirmed: bool) -> bool:
    """Return whether the job needed the professional-use confirmation.

    B2B prospecting on an opt-out basis is lawful only for people reached in
    their profession. A B2B list whose file shows no company, SIRET, job
    title or job function (``professional_details_warning``) may list private
    individuals, so its import needs the user's statement that it does not.
    Raises ``ImportInputError`` when the statement is missing.
    """
    if not professional_details_warning(job):
        return False
    if not confirmed:
        raise ImportInputError(
            _(
                "No column of this B2B list shows a company, a SIRET or SIREN, a "
                "job title or a job function. Tick the box stating that every "
                "person in the file is reached in their profession, or cancel "
                "the import if the file lists private individuals."
            ),
            field="professional_use_confirmed",
        )
    return True


def _source_file_kept(job: ImportJob) -> bool:
    return bool(job.source_file) and os.path.exists(job.source_file.path)


def job_is_resumable(job: ImportJob) -> bool:
    """Return whether ``import_job_resume`` would accept the job now."""
    if not _source_file_kept(job):
        return False
    if job.status == Status.FAILED:
        return True
    stale = timezone.now() - STALE_AFTER
    return job.status in (Status.RUNNING, Status.QUEUED) and (
        job.heartbeat_at is None or job.heartbeat_at < stale
    )


def _silent_worker() -> Q:
    """Match jobs whose worker has not reported within ``STALE_AFTER``, or ever."""
    stale = timezone.now() - STALE_AFTER
    return Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True)


def import_job_resume(*, job: ImportJob, actor=None, enqueue: bool = True) -> ImportJob:
    """Queue a failed job again, or one whose worker stopped reporting.

    The merge step commits in one transaction, so a failed run left no
    contact, provenance or row result: running again cannot duplicate rows.
    """
    # The status comes first, because a finished or cancelled job has no
    # file either, and the user needs its status more than the missing file.
    if not job_is_stalled(job) and job.status != Status.FAILED:
        raise job_action_rejected(job, action=job_actions.RESUME)
    if not _source_file_kept(job):
        raise ImportInputError(
            _(
                "The uploaded file of job #%(id)s is gone: uploads are deleted "
                "%(hours)s hours after their import, or by an erasure. Upload "
                "the file again."
            )
            % {"id": job.pk, "hours": settings.IMPORT_FILE_RETENTION_HOURS}
        )
    resumable = Q(status=Status.FAILED) | (
        Q(status__in=[Status.RUNNING, Status.QUEUED]) & _silent_worker()
    )
    # The run reads the file again from its start, and the progress only
    # ever rises within a run, so it starts from zero.
    changed = ImportJob.objects.filter(resumable, pk=job.pk).update(
        status=Status.QUEUED,
        error="",
        heartbeat_at=timezone.now(),
        progress=0,
        rows_read=0,
    )
    job.refresh_from_db()
    if changed != 1:
        raise job_action_rejected(job, action=job_actions.RESUME)
    audit_record(action="imports.job.resumed", actor=actor, target=job)
    _enqueue(job, dry_run=False, enqueue=enqueue, actor=actor)
    return job


def import_job_cancel(*, job: ImportJob, actor=None, reason: str = "") -> ImportJob:
    """Roll back a job that has not finished: drop its staged rows and its file.

    A queued job is cancelled whether or not a worker reports, because no
    worker has claimed it yet. The cancel and a worker's claim
    (``import_job_run``) are conditional updates of the job's status, so
    exactly one of them changes it and a cancelled job is never run. A
    running or checking job is cancelled only once its worker went silent.
    ``reason``, when given, is stored as the job's error and shown on its page.
    """
    cancellable = Q(status__in=[Status.PENDING, Status.QUEUED, Status.FAILED]) | (
        Q(status__in=[Status.RUNNING, Status.CHECKING]) & _silent_worker()
    )
    changes = {"status": Status.CANCELLED, "finished_at": timezone.now()}
    if reason:
        changes["error"] = reason
    changed = ImportJob.objects.filter(cancellable, pk=job.pk).update(**changes)
    job.refresh_from_db()
    if changed != 1:
        raise job_action_rejected(job, action=job_actions.CANCEL)
    staged = pipeline.staging_clear(job.pk)
    _source_file_delete(job)
    audit_record(
        action="imports.job.cancelled",
        actor=actor,
        target=job,
        details={"staged_rows_deleted": staged},
    )
    return job


def _mapping_required(job: ImportJob) -> None:
    headers = job_headers(job)
    problems = mapping_problems(job.mapping, len(headers), headers=headers)
    if problems:
        raise ImportInputError(" ".join(problems))


def _source_file_delete(job: ImportJob) -> bool:
    if not job.source_file:
        return False
    job.source_file.delete(save=False)
    job.file_deleted_at = timezone.now()
    job.save(update_fields=["source_file", "file_deleted_at"])
    return True


def job_row_normalizer(
    job: ImportJob, layout, reader: FileReader | None = None
) -> RowNormalizer:
    """Return the normaliser of the job's rows, with its mapping and terms.

    Given the ``reader`` of the rows, it notes the rows that the reader
    decoded in another encoding than the rest of the file.
    """
    return RowNormalizer(
        mapping=job.mapping,
        headers=layout.headers,
        delimiter=layout.delimiter,
        date1904=layout.date1904,
        acquired_on=job.acquired_on,
        processing_activity=job.processing_activity,
        phone_country=job.phone_country,
        recoded_rows=reader.recoded_rows if reader is not None else None,
    )


def _staging_feed(job: ImportJob) -> runner.StagingFeed:
    """Return the feed that reads the job's whole file into the staging table."""
    layout = job_layout(job)
    reader = FileReader(job.source_file.path, layout)
    normalizer = job_row_normalizer(job, layout, reader)
    rows = (normalizer.normalize(number, cells) for number, cells in reader.data_rows())
    return runner.StagingFeed(job=job, reader=reader, rows=rows)


def import_job_run(*, job_id: int, dry_run: bool = False) -> ImportJob | None:
    """Run a queued job (or a dry run of a checking one) to the end.

    Safe to call twice: a job that is not in the expected state is left
    alone. Returns the job, or None when it does not exist.
    """
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("import job %s not found; nothing to run", job_id)
        return None
    if dry_run:
        if job.status != Status.CHECKING:
            return job
    elif not _claim(job, source=[Status.QUEUED], target=Status.RUNNING):
        logger.info("import job %s is %s; not run again", job_id, job.status)
        return job

    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            if dry_run:
                return _dry_run(job)
            return _real_run(job)
        except _RunSuperseded:
            job.refresh_from_db()
            logger.info(
                "import job %s became %s while this run waited; it stops",
                job.pk,
                job.status,
            )
            return job
        except UnreadableFile as error:
            return _fail(job, str(error), dry_run=dry_run, file_error=True)
        except ImportInputError as error:
            return _fail(job, str(error), dry_run=dry_run)
        except (FileNotFoundError, PermissionError) as error:
            logger.error(
                "import job %s cannot read its file: %s", job.pk, type(error).__name__
            )
            return _fail(
                job,
                _(
                    "The uploaded file can no longer be read (%(error)s): it was "
                    "deleted or moved. Upload the file again."
                )
                % {"error": type(error).__name__},
                dry_run=dry_run,
            )
        except (OperationalError, InterfaceError) as error:
            # The message of a database error can quote row values, so only
            # its type is logged and stored.
            logger.error(
                "import job %s lost the database: %s", job.pk, type(error).__name__
            )
            return _fail(
                job,
                _(
                    "The database failed during the import (%(error)s); resume the "
                    "job once it is back."
                )
                % {"error": type(error).__name__},
                dry_run=dry_run,
            )
        except DatabaseError as error:
            logger.error(
                "import job %s failed on the database: %s (SQLSTATE %s)",
                job.pk,
                type(error).__name__,
                getattr(getattr(error, "__cause__", None), "sqlstate", ""),
            )
            _fail(
                job,
                _(
                    "The import failed on a database error (%(error)s); nothing was "
                    "written. Report it to an administrator."
                )
                % {"error": type(error).__name__},
                dry_run=dry_run,
            )
            raise


class _RunSuperseded(Exception):
    """The job left the running status while its run waited for the lock."""


def _fail(
    job: ImportJob, message: str, *, dry_run: bool, file_error: bool = False
) -> ImportJob:
    """Record that a run stopped. ``file_error`` marks a problem of the file
    itself, which a dry run reports and a real import would meet again."""
    if dry_run:
        pipeline.staging_clear(job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=Status.PENDING,
            dry_run_summary={"error": message, "file_error": file_error},
        )
    else:
        # A job that another run finished, or that was cancelled, keeps
        # that status: this run's failure changes nothing it wrote.
        failed = ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
            status=Status.FAILED, error=message, finished_at=timezone.now()
        )
        if failed:
            _failure_audit(job, cause="run")
    logger.warning("import job %s stopped: %s", job.pk, message)
    job.refresh_from_db()
    return job


def import_job_worker_lost(*, job_id: int, dry_run: bool) -> bool:
    """Mark a job whose worker process died as stopped; return whether it was.

    Celery reports the lost process as soon as it happens, where the job's
    heartbeat would take ``STALE_AFTER`` to show it. The merge is one
    transaction, so the dead process wrote no contact, and the job can be
    resumed or rolled back at once. Only a status update runs here, in the
    worker's main process: the dead process's database session may still
    hold row locks on the staging table until the server ends it.
    """
    if dry_run:
        message = _(
            "The worker process running this dry run stopped (it was killed or "
            "ran out of memory). Start the dry run again."
        )
        stopped = ImportJob.objects.filter(pk=job_id, status=Status.CHECKING).update(
            status=Status.PENDING, dry_run_summary={"error": message}
        )
    else:
        message = _(
            "The worker process running this import stopped (it was killed or "
            "ran out of memory); nothing was written. Resume the import, or roll "
            "it back."
        )
        stopped = ImportJob.objects.filter(
            pk=job_id, status__in=[Status.QUEUED, Status.RUNNING]
        ).update(status=Status.FAILED, error=message, finished_at=timezone.now())
        if stopped:
            _failure_audit(ImportJob(pk=job_id), cause="worker_lost")
    if stopped:
        logger.warning("import job %s stopped: its worker process was lost", job_id)
    return bool(stopped)


def _failure_audit(job: ImportJob, *, cause: str, actor=None) -> None:
    """Record that a real import stopped without importing, beside its start.

    ``cause`` is ``queue_unreachable`` when no worker ever got the job, and
    ``run`` when the run itself stopped. The message stays on the job only,
    because it can repeat a value from the file. ``actor`` is the user whose
    start or resume the broker refused. A run that stopped has none.
    """
    audit_record(
        action="imports.job.failed", actor=actor, target=job, details={"cause": cause}
    )


def _dry_run(job: ImportJob) -> ImportJob:
    with _staging_feed(job) as feed, transaction.atomic():
        merger = merge.merger_for(job=job, contact_list=job.contact_list, write=False)
        for first_row, last_row in feed:
            merger.merge(first_row, last_row)
        merger.finish()
        counts = pipeline.staged_counts(job)
        problems = pipeline.staged_problems(job)
    pipeline.staging_clear(job.pk)
    summary = {
        "counts": counts,
        "row_count": sum(counts.values()),
        "problems": problems,
        "checked_at": timezone.now().isoformat(),
    }
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.PENDING, dry_run_summary=summary, progress=100, staged=False
    )
    logger.info("import job %s dry run: %s", job.pk, counts)
    job.refresh_from_db()
    return job


def _real_run(job: ImportJob) -> ImportJob:
    """Stage the job's file and merge it in one transaction.

    The file is read again even when an earlier attempt staged it, because
    the classification of staged rows against the suppression list and the
    contacts would be stale by now. The job's row stays unlocked until the
    end of the merge: the staging and the progress reports update it from
    other connections meanwhile.
    """
    ImportJob.objects.filter(pk=job.pk, started_at__isnull=True).update(
        started_at=timezone.now()
    )
    job.refresh_from_db()
    with _staging_feed(job) as feed, transaction.atomic():
        contact_list = _contact_list_for(job)
        merger = merge.merger_for(job=job, contact_list=contact_list, write=True)
        # The merger waited for the contacts write lock, maybe for long: the
        # job may have finished in another run, or been cancelled, meanwhile.
        if not ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).exists():
            raise _RunSuperseded
        for first_row, last_row in feed:
            merger.merge(first_row, last_row)
        merger.finish()
        counts = pipeline.staged_counts(job)
        pipeline.staging_release(job)
        ImportJob.objects.filter(pk=job.pk).update(
            vendor=contact_list.vendor,
            contact_list=contact_list,
            status=Status.DONE,
            progress=100,
            staged=False,
            row_count=sum(counts.values()),
            created_count=counts[Outcome.CREATED],
            merged_count=counts[Outcome.MERGED],
            duplicate_count=counts[Outcome.DUPLICATE],
            suppressed_count=counts[Outcome.SUPPRESSED],
            rejected_count=counts[Outcome.REJECTED],
            finished_at=timezone.now(),
            error="",
        )
        _list_totals_update(contact_list)
        audit_record(
            action="imports.job.completed",
            actor=job.created_by,
            target=job,
            count=sum(counts.values()),
            details={"list_id": contact_list.pk, "counts": counts},
        )
    logger.info("import job %s done: %s", job.pk, counts)
    if counts[Outcome.CREATED] >= ANALYZE_AFTER_CREATED:
        contact_statistics_refresh()
    job.refresh_from_db()
    return job


def _vendor_for(job: ImportJob) -> Vendor:
    """Return the job's vendor, creating it and linking the job on first use."""
    if job.vendor is None:
        job.vendor = _vendor_get_or_create(job)
        ImportJob.objects.filter(pk=job.pk).update(vendor=job.vendor)
    return job.vendor


def vendor_by_name(name: str) -> Vendor | None:
    """Return the vendor of that name in any letter case, or None.

    "RDV" and "rdv" typed for one vendor must not split its lists and saved
    mappings between two vendors.
    """
    return Vendor.objects.filter(name__iexact=name).order_by("pk").first()


def _vendor_get_or_create(job: ImportJob) -> Vendor:
    if job.vendor is not None:
        return job.vendor
    vendor = vendor_by_name(job.vendor_name)
    if vendor is not None:
        return vendor
    vendor, created = Vendor.objects.get_or_create(name=job.vendor_name)
    if created:
        audit_record(
            action="contacts.vendor.created", actor=job.created_by, target=vendor
        )
    return vendor


def _contact_list_for(job: ImportJob) -> ContactList:
    """Return the job's list, creating it (and its vendor) on first use.

    The job's row is not updated here: the merge transaction would keep it
    locked to the end, and the progress reports written meanwhile from
    other connections would wait for it.
    """
    contact_list, created = ContactList.objects.get_or_create(
        vendor=_vendor_get_or_create(job),
        name=job.list_name,
        defaults={
            "acquisition": job.acquisition,
            "acquired_on": job.acquired_on,
            "licence_ends_on": job.licence_ends_on,
            "collection_method": job.collection_method,
            "consent_claim": job.consent_claim,
            "file_name": job.file_name,
            "file_sha256": job.file_sha256,
        },
    )
    if created:
        audit_record(
            action="contacts.list.created", actor=job.created_by, target=contact_list
        )
    return contact_list


def _list_totals_update(contact_list: ContactList) -> None:
    totals = ImportJob.objects.filter(
        contact_list=contact_list, status=Status.DONE
    ).aggregate(
        rows=Sum("row_count"), created=Sum("created_count"), merged=Sum("merged_count")
    )
    ContactList.objects.filter(pk=contact_list.pk).update(
        row_count=totals["rows"] or 0,
        created_count=totals["created"] or 0,
        merged_count=totals["merged"] or 0,
    )


def import_leftovers_purge(*, older_than: datetime.datetime) -> dict[str, int]:
    """Delete uploaded files and staged rows of jobs created before ``older_than``.

    The job and its row results stay: they hold no personal data. Jobs that
    are queued or running keep their file until they finish, unless their
    worker stopped reporting (see ``selectors.active_jobs``).
    """
    old_jobs = ImportJob.objects.filter(created_at__lt=older_than)
    inactive = old_jobs.exclude(active_jobs())
    staged = StagingRow.objects.filter(job__in=inactive).delete()[0]
    files = 0
    for job in inactive.exclude(source_file="").iterator():
        if _source_file_delete(job):
            files += 1
    # Without its file a pending, failed or stalled job can never run: close it.
    inactive.exclude(status__in=[Status.DONE, Status.CANCELLED]).update(
        status=Status.CANCELLED,
        error=_("The uploaded file was deleted after the retention period."),
        dry_run_summary={},
    )
    result = {"source_file": files, "staging_row": staged}
    if files or staged:
        audit_record(
            action="imports.leftovers.purged",
            actor_label="purge_import_files",
            count=files + staged,
            details=result,
        )
    return result


def import_job_sheet_choose(*, job: ImportJob, sheet_name: str) -> ImportJob:
    """Read another sheet of a pending job's workbook and guess its mapping again."""
    job_pending_check(job, action=job_actions.SHEET)
    try:
        _layout_apply(job, sheet_name=sheet_name)
    except UnreadableFile as error:
        raise ImportInputError(str(error)) from error
    saved = (
        VendorMapping.objects.filter(vendor=job.vendor).first() if job.vendor else None
    )
    job.mapping = mapping_guess(job.layout.headers, saved.headers if saved else None)
    job.dry_run_summary = {}
    job.save()
    return job
