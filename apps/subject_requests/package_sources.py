"""The person's records outside the contacts table, for the access package.

An access package (GDPR Art. 15) covers every place the search looks in: the
person's earlier requests, their identifiers on the suppression list, and the
rows of uploaded vendor files and of the import staging area that contain
them. Records are found by the person's e-mails and phones, never by name
alone, so a homonym's records stay out. A record belongs to the person only
when it contains no other e-mail address and names no one else: colleagues
often share a switchboard number, and a vendor's row can name the person as
someone else's contact (a referent, an assistant). A file or staged row that
contains one of the person's identifiers next to another person's address or
name is listed without its values.
"""

import logging
from dataclasses import dataclass
from dataclasses import field

from django.db.models import Q
from django.utils.text import capfirst

from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.core.identifiers import identifier_hash
from apps.imports.models import ImportJob
from apps.imports.models import RowResult
from apps.imports.models import StagingRow
from apps.imports.normalizers import cell_text
from apps.imports.normalizers import email_is_generic
from apps.imports.personal_data import _IdentifierProbe
from apps.imports.personal_data import cell_emails
from apps.imports.personal_data import cell_phones
from apps.imports.readers import FileReader
from apps.imports.readers import UnreadableFile
from apps.imports.readers import layout_detect
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.names import name_words
from apps.subject_requests.names import names_requester
from apps.subject_requests.names import requesters_named_alike

# The staged fields that the package shows when the uploaded file is gone.
STAGED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "job_title",
    "job_function",
    "company",
    "company_registration",
    "postcode",
    "city",
    "country",
    "collected_at",
)

logger = logging.getLogger(__name__)


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def earlier_requests(*, request, emails, phones) -> list[dict]:
    """Return the person's other requests: what they gave, dates, status, notes.

    A request found by a phone or a generic address (contact@, info@) counts
    only if it names the requester, as for contacts: a colleague may have
    written from the same switchboard or mailbox.
    """
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(requester_email__in=list(emails))
    if phones:
        condition |= Q(requester_phone__in=list(phones), requester_email="")
    requests = [
        earlier
        for earlier in SubjectRequest.objects.filter(condition)
        .exclude(pk=request.pk)
        .order_by("received_at", "pk")
        if (earlier.requester_email and not email_is_generic(earlier.requester_email))
        or requesters_named_alike(request.requester_name, earlier.requester_name)
    ]
    return [
        {
            "reference": earlier.reference,
            "kind": earlier.kind,
            "channel": earlier.channel,
            "requester_name": earlier.requester_name,
            "requester_email": earlier.requester_email,
            "requester_phone": earlier.requester_phone,
            "requester_address": earlier.requester_address,
            "received_on": _text(earlier.received_on),
            "due_on": _text(earlier.due_on),
            "extension_reason": earlier.extension_reason,
            "status": earlier.status,
            "refusal_reason": earlier.refusal_reason,
            "response_sent_at": _text(earlier.response_sent_at),
            "closed_at": _text(earlier.closed_at),
            "notes": earlier.notes,
        }
        for earlier in requests
    ]


def suppression_entries(*, emails, phones) -> list[dict]:
    """Return the person's identifiers that are on the suppression list.

    Each entry gives the identifier, its kind, the reason and the date. The
    keyed hash stays out: it is the key that matches the list, not the
    person's data. A phone number and a generic address (contact@, info@)
    give neither reason nor date, because colleagues may share them (a
    switchboard, a shared mailbox): they would tell the person that a
    colleague objected or was erased, and when.
    """
    identifiers = {identifier_hash(value): value for value in (*emails, *phones)}
    entries = SuppressionEntry.objects.filter(
        identifier_hash__in=list(identifiers)
    ).order_by("created_at", "pk")
    listed = []
    for entry in entries:
        identifier = identifiers[entry.identifier_hash]
        shared = entry.kind == SuppressionEntry.Kind.PHONE or email_is_generic(
            identifier
        )
        listed.append(
            {
                "identifier": identifier,
                "kind": entry.kind,
                "reason": "" if shared else entry.reason,
                "listed_at": "" if shared else _text(entry.created_at),
            }
        )
    return listed


@dataclass
class _ImportRow:
    """One row of an import that contains the person, as the package lists it."""

    job_id: int
    row_number: int
    outcome: str = ""
    values: dict[str, str] = field(default_factory=dict)
    shared: bool = False


class _PersonRows:
    """A check of whether a file or staged row belongs to the person.

    ``classify`` returns ``None`` when the row contains none of the person's
    identifiers. It returns ``"shared"`` when the row also contains another
    e-mail address or another person's ``name``, because a vendor's row can
    give the person's e-mail as someone else's referent. Otherwise it returns
    ``"person"``.
    """

    def __init__(self, emails, phones, requester_name: str):
        self.emails = set(emails)
        self.phones = set(phones)
        self.requester_name = requester_name
        self.probe = _IdentifierProbe(self.emails | self.phones)

    def classify(self, *, emails: set[str], phones: set[str], name="") -> str | None:
        if not (emails & self.emails or phones & self.phones):
            return None
        if emails - self.emails:
            return "shared"
        if not name_words(name) or names_requester(self.requester_name, name):
            return "person"
        return "shared"

    def classify_cells(self, cells, name_columns=()) -> str | None:
        if not self.probe.row_holds(cells):
            return None
        emails, phones = set(), set()
        for cell in cells:
            text = cell_text(cell).strip()
            if "@" in text:
                emails |= cell_emails(text)
            elif text:
                phones |= cell_phones(text)
        name = " ".join(
            cell_text(cells[index]) for index in name_columns if index < len(cells)
        )
        return self.classify(emails=emails, phones=phones, name=name)


def import_rows(*, emails, phones, contact_ids, requester_name="") -> list[dict]:
    """Return the import rows that contain the person, with their list and vendor.

    The rows are those whose result names one of the person's contacts, the
    staged rows and the rows of kept uploaded files that contain one of their
    identifiers. A row shows its values from the file while the file is
    kept, otherwise the values staged from it, if any.
    """
    person = _PersonRows(emails, phones, requester_name)
    rows: dict[tuple[int, int], _ImportRow] = {}
    for job_id, row_number, outcome in RowResult.objects.filter(
        contact_id__in=list(contact_ids)
    ).values_list("job_id", "row_number", "outcome"):
        rows[(job_id, row_number)] = _ImportRow(job_id, row_number, outcome)
    _add_staged_rows(rows, person)
    kept_files = ImportJob.objects.exclude(source_file="").filter(
        file_deleted_at__isnull=True
    )
    if not (person.emails or person.phones):
        kept_files = kept_files.filter(pk__in={job_id for job_id, _number in rows})
    for job in kept_files.order_by("pk").iterator():
        _add_file_rows(rows, person, job)
    _add_outcomes(rows)

    jobs = ImportJob.objects.in_bulk({job_id for job_id, _number in rows})
    return [
        _import_row_content(row, jobs[row.job_id])
        for _key, row in sorted(rows.items())
        if row.job_id in jobs
    ]


def _add_outcomes(rows) -> None:
    """Set the outcome of rows found by identifier, such as a suppressed row.

    Those rows name no contact, so the first query of ``import_rows`` misses
    their result. A row withheld as another person's keeps no outcome.
    """
    missing_outcomes: dict[int, set[int]] = {}
    for (job_id, row_number), row in rows.items():
        if not row.outcome and not row.shared:
            missing_outcomes.setdefault(job_id, set()).add(row_number)
    for job_id, numbers in missing_outcomes.items():
        results = RowResult.objects.filter(job_id=job_id, row_number__in=numbers)
        for row_number, outcome in results.values_list("row_number", "outcome"):
            rows[(job_id, row_number)].outcome = outcome


def _add_staged_rows(rows, person: _PersonRows) -> None:
    condition = Q(pk__in=[])
    if person.emails:
        condition |= Q(email__in=list(person.emails))
    if person.phones:
        condition |= Q(phone__in=list(person.phones))
    for staged in StagingRow.objects.filter(condition):
        owner = person.classify(
            emails={staged.email} - {""},
            phones={staged.phone} - {""},
            name=f"{staged.first_name} {staged.last_name}",
        )
        row = rows.setdefault(
            (staged.job_id, staged.row_number),
            _ImportRow(staged.job_id, staged.row_number),
        )
        if owner == "shared" and not row.outcome:
            row.shared = True
            continue
        row.values = {
            _staged_label(name): _text(getattr(staged, name))
            for name in STAGED_FIELDS
            if getattr(staged, name)
        }


def _staged_label(name: str) -> str:
    """Return the label of staged field ``name`` in the active language, as a
    kept file's row is labelled by its headers."""
    return capfirst(str(Contact._meta.get_field(name).verbose_name))


def _add_file_rows(rows, person: _PersonRows, job: ImportJob) -> None:
    """Add the values of the rows of ``job``'s kept file that contain the person."""
    try:
        layout = layout_detect(job.source_file.path, sheet_name=job.sheet_name)
    except (UnreadableFile, OSError):
        return
    headers = layout.headers
    name_columns = [
        int(index)
        for index, name in (job.mapping or {}).items()
        if name in ("first_name", "last_name", "full_name")
    ]
    reader = FileReader(job.source_file.path, layout)
    try:
        for number, cells in _rows_until_damage(reader, job):
            if number <= layout.header_row:
                continue
            known = rows.get((job.pk, number))
            owner = person.classify_cells(cells, name_columns)
            if owner is None and known is None:
                continue
            row = known or rows.setdefault((job.pk, number), _ImportRow(job.pk, number))
            if owner == "shared" and not row.outcome:
                row.shared = True
                row.values = {}
                continue
            row.shared = False
            row.values = _cell_values(headers, cells)
    finally:
        reader.close()


def _rows_until_damage(reader: FileReader, job: ImportJob):
    """Yield the file's rows up to the first damaged part of a workbook.

    The rows before the damage are the person's data as the file contains it.
    The rows after it cannot be read by anyone, so the package lists the others.
    """
    try:
        yield from reader.raw_rows()
    except UnreadableFile:
        logger.warning(
            "import job %s: upload damaged part-way, package lists rows read "
            "before the damage",
            job.pk,
        )


def _cell_values(headers: list[str], cells) -> dict[str, str]:
    """Return a row's non-empty cells by column header, or by column number."""
    values = {}
    for index, cell in enumerate(cells):
        text = cell_text(cell).strip()
        if not text:
            continue
        header = headers[index] if index < len(headers) else ""
        key = header or f"column {index + 1}"
        if key in values:
            key = f"{key} (column {index + 1})"
        values[key] = text
    return values


def _import_row_content(row: _ImportRow, job: ImportJob) -> dict:
    return {
        "import_id": job.pk,
        "vendor": job.vendor_name,
        "list": job.list_name,
        "acquired_on": _text(job.acquired_on),
        "uploaded_at": _text(job.created_at),
        "row_number": row.row_number,
        "outcome": row.outcome,
        "file_kept": bool(job.source_file) and job.file_deleted_at is None,
        "values": row.values,
        "values_withheld": row.shared,
    }
