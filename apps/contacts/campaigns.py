"""Campaign export: a CSV or XLSX of the contactable contacts of a segment.

Each row carries the contact's unsubscribe URL and, while the GDPR Art. 14
notice is not recorded, the source statement that the first message must
include (vendor, list, how to object; Art. 14(3)(b) requires it at the first
communication). The file is kept in ``CAMPAIGN_EXPORT_ROOT``, a private folder
outside ``MEDIA_ROOT``, and the ids of the contacts it contains are recorded, so
an erasure can remove a person from it and a retention run can delete it. Users
download it only through the campaign download view, which checks the export
permission.
"""

import csv
import datetime
import logging
import os
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import connection
from django.db import transaction
from django.db.models import Exists
from django.db.models import OuterRef
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from kombu.exceptions import OperationalError
from openpyxl import Workbook
from openpyxl import load_workbook

from apps.contacts.locks import campaign_contact_writes_lock
from apps.contacts.locks import contacts_export_lock
from apps.contacts.models import Audience
from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.selectors import contact_segment
from apps.contacts.services import contact_contactability
from apps.contacts.services import contact_unsubscribe_urls
from apps.contacts.services import contacts_contactable
from apps.contacts.statistics import contact_statistics_ensure
from apps.core.audit import audit_record
from apps.core.exports import csv_delimiter
from apps.core.exports import safe_row
from apps.core.exports import xlsx_cell
from apps.core.files import private_open
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.retention.limits import contacts_past_retention_q

logger = logging.getLogger(__name__)

# The folder of campaign files is open to the application's user only.
FOLDER_MODE = 0o700
# An export queued or running for this long has lost its worker, and
# ``campaign_exports_fail_stalled`` marks it failed.
STALLED_AFTER = datetime.timedelta(hours=2)
CHUNK_SIZE = 2000
# The contact fields that a campaign file contains or needs.
EXPORTED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "email_hash",
    "company",
    "job_title",
    "country",
    "audience",
    "lawful_basis",
    "processing_activity",
    "art14_notice_sent_at",
)
# An export with no contactable contact is rejected with the commonest reasons
# found among this many contacts of the segment (each one costs a few queries).
REASON_SAMPLE_SIZE = 100
REASON_COUNT = 3
# Filter keys stored with the export and in the audit event. The free-text
# search is left out because it may be a name or an e-mail address.
STORED_FILTERS = (
    "vendor",
    "contact_list",
    "audience",
    "lawful_basis",
    "country",
    "job_function",
    "postcode",
    "city",
    "status",
    "contactable",
)


class ExportStopped(Exception):
    """The export was marked failed while its file was being written."""


class NothingToExport(ValueError):
    """A segment in which no contact may receive a prospecting e-mail."""


def _nothing_to_export_message(segment) -> str:
    """Return why no contact of ``segment`` is contactable, commonest reasons first.

    The reasons come from ``contact_contactability`` on the newest
    ``REASON_SAMPLE_SIZE`` contacts of the segment.
    """
    sample = list(
        segment.select_related("processing_activity").order_by("-pk")[
            :REASON_SAMPLE_SIZE
        ]
    )
    if not sample:
        return _(
            "No contact matches this segment, so no file was written: change "
            "the filters on the contact list."
        )

    reasons = Counter()
    past_retention = contacts_past_retention_q()
    for contact in sample:
        verdict = contact_contactability(contact, past_retention=past_retention)
        reasons.update(verdict.reasons)
    listed = "; ".join(
        _("%(reason)s (%(count)d of %(checked)d)")
        % {"reason": reason.rstrip("."), "count": count, "checked": len(sample)}
        for reason, count in reasons.most_common(REASON_COUNT)
    )
    return ngettext(
        "No contact in this segment may receive a prospecting e-mail, so no "
        "file was written. Reasons for its only contact: %(reasons)s.",
        "No contact in this segment may receive a prospecting e-mail, so no "
        "file was written. Most common reasons among the %(checked)d newest "
        "contacts: %(reasons)s.",
        len(sample),
    ) % {"checked": len(sample), "reasons": listed}


def _headers() -> list[str]:
    return [
        _("contact id"),
        _("first name"),
        _("last name"),
        _("e-mail"),
        _("company"),
        _("job title"),
        _("country"),
        _("unsubscribe URL"),
        _("source statement for the first message"),
    ]


def _source_statement(
    contact_lists: list[ContactList],
    unsubscribe_url: str,
    *,
    audience: str,
    consent: bool = False,
) -> str:
    """Return the Art. 14 sentence naming the vendor, the list and how to object.

    ``audience`` is the contact's: a professional (B2B) reads that we obtained
    their professional details, a consumer (B2C) their contact details. A
    contact held on ``consent`` reads that it may withdraw that consent,
    which is its right, rather than object.
    """
    if not contact_lists:
        if consent:
            return _(
                "Your details were collected by us directly. You can withdraw "
                "your consent at any time: %(url)s"
            ) % {"url": unsubscribe_url}
        return _(
            "Your details were collected by us directly. You can object at any "
            "time: %(url)s"
        ) % {"url": unsubscribe_url}
    parts = []
    for contact_list in contact_lists:
        parts.append(
            _("%(vendor)s (list “%(list)s”, obtained on %(date)s)")
            % {
                "vendor": contact_list.vendor.name,
                "list": contact_list.name,
                "date": date_format(contact_list.acquired_on, "SHORT_DATE_FORMAT"),
            }
        )
    if consent and audience == Audience.B2C:
        statement = _(
            "We obtained your contact details from %(sources)s. You can "
            "withdraw your consent to our messages at any time with one click: "
            "%(url)s"
        )
    elif consent:
        statement = _(
            "We obtained your professional details from %(sources)s. You can "
            "withdraw your consent to our messages at any time with one click: "
            "%(url)s"
        )
    elif audience == Audience.B2C:
        statement = _(
            "We obtained your contact details from %(sources)s. You can object "
            "to our messages at any time with one click: %(url)s"
        )
    else:
        statement = _(
            "We obtained your professional details from %(sources)s. You can "
            "object to our messages at any time with one click: %(url)s"
        )
    statement %= {"sources": "; ".join(parts), "url": unsubscribe_url}
    instructions = [
        contact_list.vendor.objection_instructions.strip()
        for contact_list in contact_lists
        if contact_list.vendor.objection_instructions.strip()
    ]
    if instructions:
        statement += " " + _("To object with the vendor: %(how)s") % {
            "how": " ".join(instructions)
        }
    return statement


def _notice_sentence(notice_token: uuid.UUID) -> str:
    """Return the sentence linking to the activity's public notice (Art. 14).

    The notice gives what the short statement leaves out: the controller and
    its DPO, the purposes, the lawful basis, the recipients, the retention
    period and the person's rights, including the complaint to the CNIL.
    """
    url = settings.SITE_URL + reverse("register:notice", args=[notice_token])
    return _(
        "Who we are, why we use your details, how long we keep them and your "
        "rights: %(url)s"
    ) % {"url": url}


class _SourceStatements:
    """The source statements of one export, written once per set of lists.

    Most contacts of a campaign come from the same few lists, so each set of
    lists and audience gets its sentence once, with a marker where the
    contact's own unsubscribe URL goes.
    """

    URL_MARKER = "\x00url\x00"

    def __init__(self):
        self.lists: dict[int, ContactList] = {}
        self.sentences: dict[tuple, str] = {}
        self.notice_tokens: dict[int, uuid.UUID] = {}

    def statement(
        self,
        list_ids: tuple[int, ...],
        contact: Contact,
        unsubscribe_url: str,
    ) -> str:
        consent = contact.lawful_basis == LawfulBasis.CONSENT
        activity_id = contact.processing_activity_id
        key = (list_ids, contact.audience, consent, activity_id)
        sentence = self.sentences.get(key)
        if sentence is None:
            sentence = _source_statement(
                self._lists(list_ids),
                self.URL_MARKER,
                audience=contact.audience,
                consent=consent,
            )
            if activity_id is not None:
                sentence += " " + _notice_sentence(self._notice_token(activity_id))
            self.sentences[key] = sentence
        return sentence.replace(self.URL_MARKER, unsubscribe_url)

    def _notice_token(self, activity_id: int) -> uuid.UUID:
        if activity_id not in self.notice_tokens:
            self.notice_tokens[activity_id] = ProcessingActivity.objects.values_list(
                "notice_token", flat=True
            ).get(pk=activity_id)
        return self.notice_tokens[activity_id]

    def _lists(self, list_ids: tuple[int, ...]) -> list[ContactList]:
        missing = [pk for pk in list_ids if pk not in self.lists]
        if missing:
            self.lists.update(
                ContactList.objects.select_related("vendor").in_bulk(missing)
            )
        return [self.lists[pk] for pk in list_ids]


def _rows(contacts: list[Contact], sources: dict[int, tuple], statements, url_of):
    rows = []
    for contact in contacts:
        url = url_of(contact)
        statement = ""
        list_ids, latest_import = sources.get(contact.pk, ((), None))
        if _notice_due(contact, latest_import):
            statement = statements.statement(list_ids, contact, url)
        rows.append(
            [
                contact.pk,
                contact.first_name,
                contact.last_name,
                contact.email,
                contact.company,
                contact.job_title,
                contact.country,
                url,
                statement,
            ]
        )
    return rows


def _notice_due(contact: Contact, latest_import) -> bool:
    """Return whether the contact's next message must carry the source statement.

    It must until the notice is recorded, and again once a list brought the
    contact after that, because the person was not informed of that source.
    """
    sent_at = contact.art14_notice_sent_at
    return sent_at is None or (latest_import is not None and latest_import > sent_at)


def _notice_due_q() -> Q:
    """Return the condition of ``_notice_due`` on contacts, for queries."""
    newer_source = Provenance.objects.filter(
        contact=OuterRef("pk"), imported_at__gt=OuterRef("art14_notice_sent_at")
    )
    return Q(art14_notice_sent_at__isnull=True) | Q(Exists(newer_source))


def _sources_by_contact(contact_ids: list[int]) -> dict[int, tuple]:
    """Return each contact's list ids, oldest first, and its latest import time."""
    grouped: dict[int, list[int]] = {}
    latest: dict[int, datetime.datetime] = {}
    provenances = (
        Provenance.objects.filter(contact_id__in=contact_ids)
        .order_by("contact_id", "imported_at", "pk")
        .values_list("contact_id", "contact_list_id", "imported_at")
    )
    for contact_id, list_id, imported_at in provenances:
        grouped.setdefault(contact_id, []).append(list_id)
        latest[contact_id] = imported_at
    return {
        contact_id: (tuple(ids), latest[contact_id])
        for contact_id, ids in grouped.items()
    }


def _export_contacts_record(export: CampaignExport, contact_ids: list[int]) -> None:
    """Record which contacts the export contains, so an erasure finds its file."""
    if connection.vendor != "postgresql":
        CampaignExportContact.objects.bulk_create(
            CampaignExportContact(export=export, contact_id=pk) for pk in contact_ids
        )
        return
    table = connection.ops.quote_name(CampaignExportContact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (export_id, contact_id) "
            "SELECT %s, unnest(%s::bigint[])",
            [export.pk, contact_ids],
        )


class _CsvWriter:
    def __init__(self, path: Path):
        self.stream = private_open(path, "w")
        self.stream.write("\ufeff")
        self.writer = csv.writer(self.stream, delimiter=csv_delimiter())

    def append(self, row):
        self.writer.writerow(safe_row(row))

    def close(self):
        self.stream.close()


class _XlsxWriter:
    def __init__(self, path: Path):
        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(title=_("Campaign")[:31])

    def append(self, row):
        self.sheet.append([xlsx_cell(self.sheet, value) for value in row])

    def close(self):
        with private_open(self.path, "wb") as stream:
            self.workbook.save(stream)


def campaign_export_root() -> Path:
    """Return the private folder of campaign files.

    The setting is read on each use, so tests can move the folder.
    """
    return Path(settings.CAMPAIGN_EXPORT_ROOT)


def campaign_export_path(export: CampaignExport) -> Path:
    return campaign_export_root() / export.file_path


def _clean_filters(filters: dict) -> dict:
    stored = {}
    for key in STORED_FILTERS:
        value = filters.get(key)
        if value in (None, ""):
            continue
        stored[key] = getattr(value, "pk", value)
    stored["search_used"] = bool((filters.get("q") or "").strip())
    return stored


def campaign_export_request(
    *,
    filters: dict,
    file_format: str,
    records_notice: bool,
    records_message_date: bool,
    actor,
    language: str | None = None,
) -> CampaignExport:
    """Record a queued export of the segment ``filters`` and start its Celery task.

    The checks and errors are those of ``campaign_export_create``. A worker
    writes the file with ``campaign_export_run`` after the caller's transaction
    commits.
    """
    from apps.contacts.tasks import write_campaign_export

    export = _export_record(
        filters=filters,
        file_format=file_format,
        records_notice=records_notice,
        records_message_date=records_message_date,
        actor=actor,
        status=CampaignExport.Status.QUEUED,
        language=language,
    )

    def enqueue():
        try:
            write_campaign_export.delay(export.pk)
        except OperationalError as error:
            _export_failed(export, error, queue_unreachable=True)
            export.refresh_from_db()

    transaction.on_commit(enqueue)
    logger.info("campaign export %s queued", export.pk)
    return export


def campaign_export_create(
    *,
    filters: dict,
    file_format: str,
    records_notice: bool,
    records_message_date: bool,
    actor,
    language: str | None = None,
) -> CampaignExport:
    """Write the campaign file of the segment ``filters`` now and record the export.

    Only contactable contacts are written, even when the segment's own
    ``contactable`` filter requests non-contactable ones. With
    ``records_notice`` the exported contacts without an Art. 14 notice get it
    recorded now, and with ``records_message_date`` their
    ``last_messaged_at`` is set to now. The file is written in ``language``,
    by default the active one. Raises ``InvalidQuery`` for a search
    that cannot be used, ``NothingToExport`` when no contact of the segment is
    contactable (nothing is stored) and ``ValueError`` for an unknown format.
    An error while writing marks the export failed and is raised again.
    """
    export = _export_record(
        filters=filters,
        file_format=file_format,
        records_notice=records_notice,
        records_message_date=records_message_date,
        actor=actor,
        status=CampaignExport.Status.RUNNING,
        language=language,
    )
    return _export_write(export)


def campaign_export_run(*, export_id: int) -> CampaignExport | None:
    """Write the file of a queued export; return None if it was not queued.

    An error marks the export failed with a message for the user and is
    logged. It is not raised, so the worker goes on.
    """
    claimed = CampaignExport.objects.filter(
        pk=export_id, status=CampaignExport.Status.QUEUED
    ).update(status=CampaignExport.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        logger.info("campaign export %s is not queued; left alone", export_id)
        return None
    export = CampaignExport.objects.get(pk=export_id)
    try:
        return _export_write(export)
    except Exception:
        export.refresh_from_db()
        return export


def campaign_exports_fail_stalled(*, now=None) -> int:
    """Mark failed the exports queued or running for over ``STALLED_AFTER``.

    A queued export counts from its request and a running one from its start.
    A worker that was stopped while writing leaves its export running and a
    partial file that no contact row points at, so an erasure would not find
    it: the file is deleted here. An export still writing when it is marked
    failed rolls back at its end. Returns how many exports were failed.
    """
    cutoff = (now or timezone.now()) - STALLED_AFTER
    stalled = CampaignExport.objects.filter(
        Q(status=CampaignExport.Status.QUEUED, created_at__lt=cutoff)
        | Q(status=CampaignExport.Status.RUNNING, started_at__lt=cutoff)
    )
    failed = 0
    for export in stalled:
        with translation.override(export.language):
            error = _(
                "The file was not written within %(hours)d hours, so the export "
                "was stopped and no file was kept. Export the segment again."
            ) % {"hours": STALLED_AFTER.total_seconds() // 3600}
        marked = CampaignExport.objects.filter(
            pk=export.pk, status=export.status
        ).update(
            status=CampaignExport.Status.FAILED,
            error=error,
            search_text="",
            finished_at=timezone.now(),
        )
        if not marked:
            continue
        campaign_export_path(export).unlink(missing_ok=True)
        failed += 1
        logger.warning("campaign export %s stalled; marked failed", export.pk)
        audit_record(
            action="contacts.campaign.failed",
            actor_label="fail_stalled_campaign_exports",
            target=export,
            details={"error": "stalled"},
        )
    return failed


def _contactable(segment, filters: dict):
    if filters.get("contactable") == "yes":
        # A segment filtered on "contactable" already applies the same rule.
        return segment.order_by("pk")
    return contacts_contactable(segment).order_by("pk")


def _export_record(
    *,
    filters,
    file_format,
    records_notice,
    records_message_date,
    actor,
    status,
    language=None,
) -> CampaignExport:
    """Check the format, the language and the segment, then record the export."""
    if file_format not in CampaignExport.Format.values:
        raise ValueError(
            f"file_format={file_format!r} is invalid: use one of "
            f"{', '.join(CampaignExport.Format.values)}."
        )
    codes = [code for code, _name in settings.LANGUAGES]
    if language is not None and language not in codes:
        raise ValueError(
            f"language={language!r} is invalid: use one of {', '.join(codes)}."
        )
    segment = contact_segment(filters=filters)
    if not _contactable(segment, filters).exists():
        logger.info("campaign export rejected: no contactable contact in segment")
        raise NothingToExport(_nothing_to_export_message(segment))
    now = timezone.now()
    # Local time, as the export's page shows it.
    stamp = f"{timezone.localtime(now):%Y%m%d-%H%M%S}"
    relative = f"campaign-{stamp}-{uuid.uuid4().hex[:8]}.{file_format}"
    return CampaignExport.objects.create(
        status=status,
        started_at=now if status == CampaignExport.Status.RUNNING else None,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        file_format=file_format,
        file_path=relative,
        filters=_clean_filters(filters),
        search_text=(filters.get("q") or "").strip(),
        records_notice=records_notice,
        records_message_date=records_message_date,
    )


def _export_write(export: CampaignExport) -> CampaignExport:
    """Write the export's file and record its contacts; mark it failed on error."""
    filters = {**export.filters, "q": export.search_text}
    path = campaign_export_path(export)
    writer_class = (
        _CsvWriter if export.file_format == CampaignExport.Format.CSV else _XlsxWriter
    )
    try:
        path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        missing = contact_statistics_ensure()
        if missing:
            logger.info("campaign export %s: analysed %s", export.pk, missing)
        segment = contact_segment(filters=filters)
        with translation.override(export.language):
            _export_in_transaction(
                export=export,
                path=path,
                writer_class=writer_class,
                segment=segment,
                contactable=_contactable(segment, filters),
            )
    except BaseException as error:
        # The transaction rolled back, so no contact row points at the file.
        # Delete it rather than leave personal data behind.
        path.unlink(missing_ok=True)
        _export_failed(export, error)
        raise
    logger.info(
        "campaign export %s written: %d contacts, %d left out",
        export.pk,
        export.row_count,
        export.excluded_count,
    )
    return export


class ContactErasedMeanwhile(Exception):
    """A contact of the file was erased while the file was being written."""


def _erased_meanwhile_check(export: CampaignExport) -> None:
    """Raise ``ContactErasedMeanwhile`` if an exported contact no longer exists.

    ``NOT EXISTS`` probes the primary key for each row. ``NOT IN`` over the
    contacts, which PostgreSQL 15 cannot hash beyond ``work_mem``, re-read the
    whole table for each row: a 300,000-contact export ran for minutes while
    it held back every import.
    """
    exists = Contact.objects.filter(pk=OuterRef("contact_id"))
    erased = (
        CampaignExportContact.objects.filter(export=export)
        .filter(~Exists(exists))
        .exists()
    )
    if erased:
        raise ContactErasedMeanwhile(
            f"a contact of campaign export {export.pk} was erased meanwhile"
        )


def _export_failed(
    export: CampaignExport, error: BaseException, *, queue_unreachable=False
) -> None:
    logger.error("campaign export %s failed: %s", export.pk, type(error).__name__)
    with translation.override(export.language):
        if queue_unreachable:
            message = _(
                "The task queue could not be reached, so the file was not "
                "written. Export the segment again in a few minutes; if it fails "
                "again, tell the administrator that the Celery broker is down."
            )
        elif isinstance(error, NothingToExport):
            message = str(error)
        elif isinstance(error, ContactErasedMeanwhile):
            message = _(
                "A contact of the segment was erased while the file was written, "
                "so no file was kept. Export the segment again."
            )
        else:
            message = _(
                "Writing the file failed (%(error)s), and no file was kept. Export "
                "the segment again; if it fails again, give the administrator the "
                "export number and the time."
            ) % {"error": type(error).__name__}
    # An export that is already failed keeps its first error message.
    CampaignExport.objects.filter(
        pk=export.pk,
        status__in=[CampaignExport.Status.QUEUED, CampaignExport.Status.RUNNING],
    ).update(
        status=CampaignExport.Status.FAILED,
        error=message,
        search_text="",
        finished_at=timezone.now(),
    )
    audit_record(
        action="contacts.campaign.failed",
        actor=export.created_by,
        target=export,
        details={"error": type(error).__name__},
    )


def _export_in_transaction(
    *, export, path, writer_class, segment, contactable
) -> CampaignExport:
    with transaction.atomic():
        if export.records_notice or export.records_message_date:
            # Taken before the contacts are read, so that the file's source
            # statements match the notices that this export records.
            campaign_contact_writes_lock()
        writer = writer_class(path)
        try:
            writer.append(_headers())
            exported = _write_chunks(writer, export, contactable)
        finally:
            writer.close()
        if not exported:
            raise NothingToExport(
                _(
                    "No contact of the segment could receive the campaign any "
                    "more when the file was written, so no file was kept."
                )
            )
        # From here to the commit, erasures wait. One that ran while the file
        # was written deleted a contact that the file may contain, so stop.
        contacts_export_lock()
        _erased_meanwhile_check(export)

        now = timezone.now()
        exported_ids = CampaignExportContact.objects.filter(export=export).values(
            "contact_id"
        )
        noticed = 0
        if export.records_notice:
            noticed = (
                Contact.objects.filter(pk__in=exported_ids)
                .filter(_notice_due_q())
                .update(art14_notice_sent_at=now, updated_at=now)
            )
        if export.records_message_date:
            Contact.objects.filter(pk__in=exported_ids).update(
                last_messaged_at=now, updated_at=now
            )

        export.row_count = exported
        export.excluded_count = max(segment.order_by().count() - exported, 0)
        export.status = CampaignExport.Status.DONE
        export.search_text = ""
        export.finished_at = now
        finished = CampaignExport.objects.filter(
            pk=export.pk, status=CampaignExport.Status.RUNNING
        ).update(
            row_count=export.row_count,
            excluded_count=export.excluded_count,
            status=export.status,
            search_text="",
            finished_at=now,
        )
        if not finished:
            # ``campaign_exports_fail_stalled`` gave up on this export and
            # deleted its file meanwhile. Raising rolls the contact rows back.
            raise ExportStopped(f"campaign export {export.pk} was stopped")
        audit_record(
            action="contacts.campaign.exported",
            actor=export.created_by,
            target=export,
            count=exported,
            details={
                "format": export.file_format,
                "filters": export.filters,
                "excluded": export.excluded_count,
                "records_notice": export.records_notice,
                "notices_recorded": noticed,
                "records_message_date": export.records_message_date,
            },
        )
    return export


def _write_chunks(writer, export: CampaignExport, contacts) -> int:
    exported = 0
    chunk: list[Contact] = []
    statements = _SourceStatements()
    url_of = contact_unsubscribe_urls(site_url=settings.SITE_URL)

    def flush():
        ids = [contact.pk for contact in chunk]
        for row in _rows(chunk, _sources_by_contact(ids), statements, url_of):
            writer.append(row)
        _export_contacts_record(export, ids)

    for contact in contacts.only(*EXPORTED_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        chunk.append(contact)
        if len(chunk) >= CHUNK_SIZE:
            flush()
            exported += len(chunk)
            chunk = []
    if chunk:
        flush()
        exported += len(chunk)
    return exported


def campaign_export_withdrawn_ids(export: CampaignExport) -> set[int]:
    """Return the ids of the file's contacts that may no longer be contacted.

    They objected, unsubscribed, were restricted, erased or anonymised, or
    passed a retention limit or the end of a rented list since the file was
    written: ``contacts_contactable`` no longer accepts them.
    """
    # NOTE: this reads every contact id of the file, on each view of the
    # export's page and each download; its cost on exports of hundreds of
    # thousands of rows was not measured.
    in_file = set(
        CampaignExportContact.objects.filter(export=export).values_list(
            "contact_id", flat=True
        )
    )
    still_contactable = contacts_contactable(
        Contact.objects.filter(
            pk__in=CampaignExportContact.objects.filter(export=export).values(
                "contact_id"
            )
        )
    ).values_list("pk", flat=True)
    return in_file - set(still_contactable)


def campaign_export_file_open(export: CampaignExport) -> tuple[BinaryIO, int]:
    """Open the export's file for a download; return it and the rows left out.

    The download leaves out the rows of the contacts that may no longer be
    contacted, so a file fetched again later never reaches them. The kept
    file itself is not changed, because it records what was sent. The
    filtered copy is written to a temporary file in the private folder, which
    is unlinked at once and read through its open handle.
    """
    path = campaign_export_path(export)
    withdrawn = campaign_export_withdrawn_ids(export)
    if not withdrawn:
        return path.open("rb"), 0
    descriptor, temporary = tempfile.mkstemp(
        dir=campaign_export_root(), suffix=".download"
    )
    os.close(descriptor)
    filtered = Path(temporary)
    try:
        with translation.override(export.language):
            if export.file_format == CampaignExport.Format.CSV:
                _csv_rows_remove(path, filtered, {str(pk) for pk in withdrawn})
            else:
                _xlsx_rows_remove(path, filtered, {str(pk) for pk in withdrawn})
        stream = filtered.open("rb")
    finally:
        filtered.unlink(missing_ok=True)
    return stream, len(withdrawn)


def campaign_export_files_remove_contacts(*, export_ids, contact_ids) -> int:
    """Rewrite the kept files of these exports without the contacts' rows.

    Returns how many files were rewritten. An erasure removes one person
    from a campaign file and keeps the rows of the others, which record the
    notice their first message carried (GDPR Art. 14). The first column of
    every file is the contact id. A file is written beside the old one and
    then replaces it, so a failure leaves the old file whole.
    """
    removed = {str(pk) for pk in contact_ids}
    if not export_ids or not removed:
        return 0
    rewritten = 0
    exports = CampaignExport.objects.filter(
        pk__in=list(export_ids), file_deleted_at__isnull=True
    )
    for export in exports:
        path = campaign_export_path(export)
        if not path.exists():
            continue
        rewritten_path = path.with_name(path.name + ".rewriting")
        with translation.override(export.language):
            if export.file_format == CampaignExport.Format.CSV:
                _csv_rows_remove(path, rewritten_path, removed)
            else:
                _xlsx_rows_remove(path, rewritten_path, removed)
        os.replace(rewritten_path, path)
        rewritten += 1
        logger.info("campaign export %s file rewritten without erased rows", export.pk)
    return rewritten


def _csv_rows_remove(path: Path, target: Path, removed: set[str]) -> None:
    # The cells were made formula-safe when the file was written, so they are
    # copied as they are.
    delimiter = csv_delimiter()
    with (
        path.open(encoding="utf-8-sig", newline="") as source,
        private_open(target, "w") as stream,
    ):
        stream.write("\ufeff")
        writer = csv.writer(stream, delimiter=delimiter)
        for index, row in enumerate(csv.reader(source, delimiter=delimiter)):
            if index == 0 or not row or row[0] not in removed:
                writer.writerow(row)


def _xlsx_rows_remove(path: Path, target: Path, removed: set[str]) -> None:
    source = load_workbook(path, read_only=True)
    writer = _XlsxWriter(target)
    for index, row in enumerate(source.active.iter_rows(values_only=True)):
        if index == 0 or not row or str(row[0]) not in removed:
            writer.append(list(row))
    source.close()
    writer.close()


def campaign_export_files_delete(*, export_ids, reason: str) -> int:
    """Delete the kept files of these campaign exports; return how many went.

    The export records stay (with the file marked deleted) so the audit trail
    still points at them.
    """
    if not export_ids:
        return 0
    deleted = 0
    now = timezone.now()
    exports = CampaignExport.objects.filter(
        pk__in=list(export_ids), file_deleted_at__isnull=True
    )
    for export in exports:
        campaign_export_path(export).unlink(missing_ok=True)
        export.file_deleted_at = now
        export.file_deleted_reason = reason
        export.save(update_fields=["file_deleted_at", "file_deleted_reason"])
        deleted += 1
        logger.info("campaign export %s file deleted (%s)", export.pk, reason)
    return deleted
