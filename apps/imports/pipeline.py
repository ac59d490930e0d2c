"""The bulk path of an import: stage and classify the rows, then merge them.

Stage: every data row is normalised in Python and written to the staging
table (PostgreSQL ``COPY`` in chunks, ``bulk_create`` elsewhere). On
PostgreSQL each chunk is classified in the same transaction as its COPY:
rows on the suppression list, duplicates of an earlier row of the file,
and the existing contact that each remaining row matches.
Merge: on PostgreSQL ``apps.imports.merge`` inserts the contacts,
provenance and row results range by range in one transaction. Other
databases classify and store the rows one by one in ``merge_simple``. Both
give the same outcomes, which ``tests/imports/test_rules.py`` checks on
PostgreSQL.
"""

import contextlib
import datetime
import itertools
import logging
import time
from collections.abc import Callable
from collections.abc import Iterator

from django.db import connection
from django.db import models
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.contacts.models import ConsentClaim
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import SuppressionEntry
from apps.contacts.search import FOLD_FUNCTION
from apps.contacts.search import FoldedText
from apps.contacts.search import fold_search_text
from apps.contacts.suppression import suppressed_hashes
from apps.imports.models import ImportJob
from apps.imports.models import Outcome
from apps.imports.models import RowResult
from apps.imports.models import StagingRow
from apps.imports.rows import STAGING_COLUMNS
from apps.register.models import LawfulBasis

logger = logging.getLogger(__name__)

# Separator between the notes of one row, as in ``rows.RowNormalizer``.
REASON_SEPARATOR = "; "
COPY_CHUNK_ROWS = 20_000
BULK_CHUNK_ROWS = 2_000
PROBLEM_SAMPLE = 20
# Contact states that block any new provenance: the person objected for good,
# or restricted the processing of their data, which then may only be stored
# (GDPR Art. 18), so a new list's row is skipped as well.
BLOCKED_STATUSES = (
    Contact.Status.OBJECTED,
    Contact.Status.UNSUBSCRIBED,
    Contact.Status.RESTRICTED,
)
# Contact fields that a merge fills when the existing contact has them blank.
FILLABLE_FIELDS = (
    "first_name",
    "last_name",
    "job_title",
    "job_function",
    "company",
    "company_registration",
    "postcode",
    "city",
    "country",
)


def set_based() -> bool:
    """Return whether staging and merge use the set-based PostgreSQL statements."""
    return connection.vendor == "postgresql"


def stage_rows(
    *,
    job_id: int,
    rows: Iterator[tuple],
    on_chunk: Callable[[int, int, int], None],
) -> int:
    """Write the normalised ``rows`` of a job to the staging table.

    Each chunk is committed on its own (a savepoint inside a transaction),
    then ``on_chunk(first_row, last_row, total)`` is called with the row
    numbers it holds. A crash leaves a partial stage that the caller deletes
    before reading the file again. On PostgreSQL the rows stream into COPY
    as they are normalised, so the server loads them on one core while
    Python reads the file on the other.
    """
    if set_based():
        write, size = _copy_chunk, COPY_CHUNK_ROWS
    else:
        write, size = _bulk_chunk, BULK_CHUNK_ROWS
    total = 0
    analyzed = 0
    iterator = iter(rows)
    while True:
        with transaction.atomic():
            written, first_row, last_row = write(
                job_id, itertools.islice(iterator, size)
            )
            if written and set_based():
                if total + written >= 2 * analyzed:
                    # Planner statistics of a freshly filled table are
                    # missing or stale. Analysing whenever the job's rows
                    # double costs a few ANALYZE runs per file.
                    analyzed = total + written
                    with connection.cursor() as cursor:
                        cursor.execute(f"ANALYZE {StagingRow._meta.db_table}")
                chunk_classify(job_id=job_id, first_row=first_row, last_row=last_row)
        if not written:
            break
        total += written
        on_chunk(first_row, last_row, total)
        if written < size:
            break
    return total


def _copy_chunk(job_id: int, rows: Iterator[tuple]) -> tuple[int, int, int]:
    """COPY one chunk of rows, giving each row that may be created a contact id.

    Returns the number of rows written and the first and last row numbers.
    The ids come from the contacts' own sequence, so they never collide
    with contacts created elsewhere. Ids drawn for rows that end up merged,
    skipped or rejected leave gaps in the sequence, which are harmless.
    """
    table = StagingRow._meta.db_table
    contacts = Contact._meta.db_table
    columns = ", ".join(("job_id", *STAGING_COLUMNS, "new_contact_id"))
    outcome_at = STAGING_COLUMNS.index("outcome")
    written, first_row, row_number = 0, 0, 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{contacts}', 'id')) "
            "FROM generate_series(1, %s)",
            [COPY_CHUNK_ROWS],
        )
        ids = iter([value for (value,) in cursor.fetchall()])
        sql = f"COPY {table} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                new_id = next(ids) if row[outcome_at] == "" else None
                copy.write_row((job_id, *row, new_id))
                row_number = row[0]
                first_row = first_row or row_number
                written += 1
    return written, first_row, row_number


def chunk_classify(*, job_id: int, first_row: int, last_row: int) -> None:
    """Classify the staged rows ``first_row`` to ``last_row`` of a job (PostgreSQL).

    Runs on the staging connection, after the chunk's COPY and before any
    later chunk is staged, and sees only committed contacts: the contacts
    that the merge of this job is inserting are invisible to it, so a row
    is matched only against contacts that existed before the job, as when
    the whole file was classified at once. The order mirrors
    ``merge_simple``: suppression first, so a suppressed address is never
    counted as a duplicate or merged; then duplicates of an earlier row of
    the whole job (the first row wins); then the existing contact that each
    remaining row matches, by e-mail, then by phone and name, then by
    company address and name, stored in ``contact_id``. Whether that
    contact blocks the row or takes a merge is decided by the merge.
    """
    staging = StagingRow._meta.db_table
    contacts = Contact._meta.db_table
    suppression = SuppressionEntry._meta.db_table
    reasons = _reasons()
    params = {
        "job": job_id,
        "first": first_row,
        "last": last_row,
        "suppressed_email": reasons["suppressed_email"],
        "suppressed_phone": reasons["suppressed_phone"],
        "suppressed_other": reasons["suppressed_other"],
        "duplicate_email": reasons["duplicate_email"],
        "duplicate_other": reasons["duplicate_other"],
    }
    listed_email = (
        f"(s.email_hash <> '' AND EXISTS (SELECT 1 FROM {suppression} e "
        "WHERE e.identifier_hash = s.email_hash)) "
        f"OR (s.email_base_hash <> '' AND EXISTS (SELECT 1 FROM {suppression} e "
        "WHERE e.identifier_hash = s.email_base_hash))"
    )
    listed_phone = (
        f"s.phone_hash <> '' AND EXISTS (SELECT 1 FROM {suppression} e "
        "WHERE e.identifier_hash = s.phone_hash)"
    )
    listed_other = (
        f"s.other_hashes <> '' AND EXISTS (SELECT 1 FROM {suppression} e "
        "WHERE e.identifier_hash = ANY(string_to_array(s.other_hashes, ' ')))"
    )
    # A row can be the first of its key unless it was rejected or is on the
    # suppression list. Only listed rows are suppressed without a contact.
    # The earlier row is read in the order of the (job, match_key, row_number)
    # index, which only that index gives. The lookup then stops at the first
    # row of the key instead of reading all of them, which for a file
    # repeating one key a million times meant a million squared reads.
    first_of_key = f"""(SELECT e.row_number
        FROM {staging} e WHERE e.job_id = %(job)s AND e.match_key = r.match_key
        AND e.row_number < r.row_number AND e.outcome <> 'rejected'
        AND NOT (e.outcome = 'suppressed' AND e.contact_id IS NULL)
        ORDER BY e.job_id, e.match_key, e.row_number LIMIT 1)"""
    # The contact lookups below are subqueries with OFFSET 0 under min().
    # Written directly, min(x) WHERE ... becomes ORDER BY x LIMIT 1 on the
    # index of x, which scans every row when none has the identifier.
    # The contacts' e-mail and phone indexes leave out empty values, so each
    # lookup adds ``<> ''`` for PostgreSQL to use them.
    active = "c.status <> 'anonymised'"
    same_name = (
        f"{FOLD_FUNCTION}(c.first_name) = {FOLD_FUNCTION}(r.first_name) "
        f"AND {FOLD_FUNCTION}(c.last_name) = {FOLD_FUNCTION}(r.last_name)"
    )
    swapped_name = (
        f"{FOLD_FUNCTION}(c.first_name) = {FOLD_FUNCTION}(r.last_name) "
        f"AND {FOLD_FUNCTION}(c.last_name) = {FOLD_FUNCTION}(r.first_name)"
    )
    # A row whose address is generic (contact@, info@) matches a contact with
    # its phone and name whatever the contact's address, since a generic
    # address does not name the person.
    # A restricted contact matches a row with its phone and name whatever the
    # row's e-mail, and with the first and last names swapped, as vendors
    # often write them, so that the person does not come back under another
    # address.
    first_contact = f"SELECT min(id) FROM (SELECT c.id FROM {contacts} c WHERE"
    match = f"""COALESCE(
        CASE WHEN r.match_key LIKE 'e:%%' THEN ({first_contact}
            c.email = r.email AND c.email <> '' AND {active} OFFSET 0) same_email) END,
        CASE WHEN r.phone <> '' THEN ({first_contact}
            c.phone = r.phone AND c.phone <> '' AND (
                ({same_name} AND (c.email = '' OR r.email = '' OR c.email = r.email
                    OR r.match_key NOT LIKE 'e:%%' OR c.status = 'restricted'))
                OR (c.status = 'restricted' AND {swapped_name}))
            AND {active} OFFSET 0) same_phone) END,
        CASE WHEN r.match_key LIKE 'g:%%' THEN ({first_contact}
            c.email = r.email AND c.email <> '' AND {same_name} AND {active}
            OFFSET 0) same_name) END)"""
    with connection.cursor() as cursor, index_scans_only(cursor):
        execute_logged(
            cursor,
            f"""UPDATE {staging} s SET outcome = 'suppressed',
            reason = CASE WHEN {listed_email} THEN %(suppressed_email)s
                WHEN {listed_phone} THEN %(suppressed_phone)s
                ELSE %(suppressed_other)s END
            WHERE {_in_range("s")} AND s.outcome IN ('', 'rejected')
            AND (({listed_email}) OR ({listed_phone}) OR ({listed_other}))""",
            params,
        )
        execute_logged(
            cursor,
            f"""WITH chunk AS MATERIALIZED (
                SELECT r.*, {first_of_key} AS first_row FROM {staging} r
                WHERE {_unclassified_in_range("r")}
            ), found AS MATERIALIZED (
                SELECT r.id, r.match_key, r.first_row,
                CASE WHEN r.first_row IS NULL THEN {match} END AS contact_id
                FROM chunk r
            )
            UPDATE {staging} s SET
            outcome = CASE WHEN f.first_row IS NULL THEN s.outcome
                ELSE 'duplicate' END,
            reason = CASE WHEN f.first_row IS NULL THEN s.reason
                ELSE replace(CASE WHEN f.match_key LIKE 'e:%%'
                    THEN %(duplicate_email)s ELSE %(duplicate_other)s END,
                    '%%s', f.first_row::text) END,
            contact_id = f.contact_id
            FROM found f WHERE s.id = f.id
            AND (f.first_row IS NOT NULL OR f.contact_id IS NOT NULL)""",
            params,
        )


def _as_fields(row: tuple) -> dict:
    return dict(zip(STAGING_COLUMNS, row, strict=True))


def _bulk_chunk(job_id: int, rows: Iterator[tuple]) -> tuple[int, int, int]:
    staged = [StagingRow(job_id=job_id, **_as_fields(row)) for row in rows]
    StagingRow.objects.bulk_create(staged)
    if not staged:
        return 0, 0, 0
    return len(staged), staged[0].row_number, staged[-1].row_number


@contextlib.contextmanager
def index_scans_only(cursor):
    """Make the planner use indexes for the statements run inside.

    A range statement reads a few thousand rows through indexes, but the
    statistics of the staging table and of contacts lag behind by a whole
    file: with them the planner scans entire tables for every chunk, which
    makes a file of a million rows quadratic. The setting is local to the
    transaction, and a rolled-back savepoint restores it.
    """
    cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
    yield
    cursor.execute("SELECT set_config('enable_seqscan', 'on', true)")


def execute_logged(cursor, sql: str, params) -> None:
    """Execute ``sql`` and log its duration and row count at DEBUG level."""
    started = time.perf_counter()
    cursor.execute(sql, params)
    logger.debug(
        "%.2fs %s rows: %s",
        time.perf_counter() - started,
        cursor.rowcount,
        " ".join(sql.split())[:90],
    )


def _in_range(alias: str) -> str:
    """Return the condition on the rows of a job's row range."""
    return (
        f"{alias}.job_id = %(job)s "
        f"AND {alias}.row_number BETWEEN %(first)s AND %(last)s"
    )


def _unclassified_in_range(alias: str) -> str:
    """Return the condition on the unclassified rows of a job's row range."""
    return f"{_in_range(alias)} AND {alias}.outcome = ''"


def job_collected_default(job: ImportJob):
    """Return the collection time of rows without a date: the acquisition day."""
    return timezone.make_aware(
        datetime.datetime.combine(job.acquired_on, datetime.time(12))
    )


def consent_recorded(job: ImportJob) -> bool:
    """Return whether the job records an e-mail consent for each contact it imports.

    ``contact_contactability`` accepts a contact held on consent only with a
    granted e-mail consent record, and the vendor's opt-in claim is the
    evidence of that consent.
    """
    return (
        job.lawful_basis == LawfulBasis.CONSENT
        and job.consent_claim == ConsentClaim.OPT_IN
    )


def consent_evidence_parts(
    job: ImportJob, contact_list: ContactList
) -> tuple[str, str]:
    """Return the evidence text of the job's consent records around the row number.

    Both merges write the text before, the row number, then the text after,
    so the translation may put the row number anywhere.
    """
    template = _(
        "Opt-in consent stated by the vendor “%(vendor)s” for the list "
        "“%(list)s”, import job #%(job)s, row %(row)s."
    )
    before, _marker, after = template.partition("%(row)s")
    values = {
        "vendor": contact_list.vendor.name,
        "list": contact_list.name,
        "job": job.pk,
    }
    return before % values, after % values


def _reasons() -> dict[str, str]:
    return {
        "suppressed_email": _("the e-mail address is on the suppression list"),
        "suppressed_phone": _("the phone number is on the suppression list"),
        "suppressed_other": _(
            "another e-mail address or phone number of the row is on the "
            "suppression list"
        ),
        "blocked": _("the matching contact objected or unsubscribed"),
        "restricted": _(
            "the matching contact's processing is restricted (GDPR Art. 18)"
        ),
        "duplicate_email": _("same e-mail address as row %s"),
        "duplicate_other": _("same phone or company address and name as row %s"),
        "already": _("already imported into this list"),
        "email_differs": _(
            "the e-mail address in the file differs from the contact's, which was kept"
        ),
        "phone_differs": _(
            "the phone number in the file differs from the contact's, which was kept"
        ),
    }


def staged_counts(job: ImportJob) -> dict[str, int]:
    counts = dict.fromkeys(Outcome.values, 0)
    rows = (
        StagingRow.objects.filter(job=job)
        .values_list("outcome")
        .annotate(total=models.Count("pk"))
    )
    for outcome, total in rows:
        counts[outcome or Outcome.CREATED] += total
    return counts


def staged_problems(job: ImportJob) -> list[dict]:
    """Return the first rows that were not created or merged, for a dry run."""
    rows = (
        StagingRow.objects.filter(job=job)
        .exclude(outcome__in=["", Outcome.CREATED, Outcome.MERGED])
        .order_by("row_number")
        .values("row_number", "outcome", "reason")[:PROBLEM_SAMPLE]
    )
    return list(rows)


def merge_simple(
    *, job: ImportJob, contact_list: ContactList | None, write: bool
) -> None:
    """Classify and, with ``write``, store the staged rows one by one (any database).

    A dry run passes ``write=False``: outcomes are computed on the staging
    rows and nothing else is written. ``contact_list`` is None only when the
    list does not exist yet, which cannot happen in a real run.
    """
    reasons = _reasons()
    first_rows: dict[str, int] = {}
    staged = StagingRow.objects.filter(job=job).order_by("row_number")
    for chunk in _chunks(staged.iterator(chunk_size=BULK_CHUNK_ROWS)):
        hashes = {
            h
            for row in chunk
            for h in (row.email_hash, row.phone_hash, row.email_base_hash)
            if h
        }
        hashes.update(h for row in chunk for h in row.other_hashes.split())
        suppressed = suppressed_hashes(hashes) if hashes else set()
        for row in chunk:
            if row.outcome == "":
                _classify_one(row, suppressed, first_rows, reasons, contact_list)
            elif row.outcome == Outcome.REJECTED:
                _suppression_classify(row, suppressed, reasons)
        StagingRow.objects.bulk_update(chunk, ["outcome", "reason", "contact_id"])
    if not write:
        return

    created = StagingRow.objects.filter(job=job, outcome=Outcome.CREATED)
    for row in created.order_by("row_number").iterator(chunk_size=BULK_CHUNK_ROWS):
        contact = Contact(
            email=row.email,
            phone=row.phone,
            collected_at=row.collected_at or job_collected_default(job),
            audience=job.audience,
            processing_activity_id=job.processing_activity_id,
            lawful_basis=job.lawful_basis,
            **{name: getattr(row, name) for name in FILLABLE_FIELDS},
        )
        contact.save()
        row.contact_id = contact.pk
        row.save(update_fields=["contact_id"])
    _fill_merged_simple(job)
    imported_rows = StagingRow.objects.filter(
        job=job, outcome__in=[Outcome.CREATED, Outcome.MERGED]
    ).order_by("row_number")
    Provenance.objects.bulk_create(
        [
            Provenance(
                contact_id=row.contact_id,
                contact_list=contact_list,
                row_number=row.row_number,
                import_job_id=job.pk,
            )
            for row in imported_rows
        ],
        ignore_conflicts=True,
        batch_size=BULK_CHUNK_ROWS,
    )
    RowResult.objects.bulk_create(
        [
            RowResult(
                job=job,
                row_number=row.row_number,
                outcome=row.outcome,
                reason=row.reason,
                contact_id=row.contact_id,
            )
            for row in staged.iterator(chunk_size=BULK_CHUNK_ROWS)
        ],
        batch_size=BULK_CHUNK_ROWS,
    )
    if consent_recorded(job):
        _consents_record_simple(job, contact_list, imported_rows)


def _chunks(iterator, size=BULK_CHUNK_ROWS):
    chunk = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _suppression_classify(row, suppressed, reasons) -> bool:
    """Mark ``row`` suppressed when one of its identifiers is listed, and return True.

    A rejected row keeps the hashes of its valid identifiers for this check,
    which comes before its rejection.
    """
    if {row.email_hash, row.email_base_hash} & (suppressed - {""}):
        row.outcome, row.reason = Outcome.SUPPRESSED, reasons["suppressed_email"]
        return True
    if row.phone_hash and row.phone_hash in suppressed:
        row.outcome, row.reason = Outcome.SUPPRESSED, reasons["suppressed_phone"]
        return True
    if set(row.other_hashes.split()) & suppressed:
        row.outcome, row.reason = Outcome.SUPPRESSED, reasons["suppressed_other"]
        return True
    return False


def _classify_one(row, suppressed, first_rows, reasons, contact_list) -> None:
    if _suppression_classify(row, suppressed, reasons):
        return
    first = first_rows.setdefault(row.match_key, row.row_number)
    if first != row.row_number:
        key = "duplicate_email" if row.match_key.startswith("e:") else "duplicate_other"
        row.outcome, row.reason = Outcome.DUPLICATE, reasons[key] % first
        return
    contact = _match_existing(row)
    if contact is None:
        row.outcome = Outcome.CREATED
        return
    row.contact_id = contact.pk
    if contact.status in BLOCKED_STATUSES:
        key = "restricted" if contact.status == Contact.Status.RESTRICTED else "blocked"
        row.outcome, row.reason = Outcome.SUPPRESSED, reasons[key]
        return
    row.outcome = Outcome.MERGED
    notes = [row.reason] if row.reason else []
    if (
        contact_list is not None
        and Provenance.objects.filter(
            contact=contact, contact_list=contact_list
        ).exists()
    ):
        notes.append(reasons["already"])
    if row.email and contact.email and row.email != contact.email:
        notes.append(reasons["email_differs"])
    if row.phone and contact.phone and row.phone != contact.phone:
        notes.append(reasons["phone_differs"])
    row.reason = REASON_SEPARATOR.join(notes)


def _match_existing(row) -> Contact | None:
    candidates = Contact.objects.exclude(status=Contact.Status.ANONYMISED).order_by(
        "pk"
    )
    if row.match_key.startswith("e:"):
        contact = candidates.filter(email=row.email).first()
        if contact is not None:
            return contact
    same_name = {
        "folded_first_name": fold_search_text(row.first_name),
        "folded_last_name": fold_search_text(row.last_name),
    }
    candidates = candidates.annotate(
        folded_first_name=FoldedText("first_name"),
        folded_last_name=FoldedText("last_name"),
    )
    if row.phone:
        same_phone = candidates.filter(phone=row.phone, **same_name)
        for contact in same_phone:
            if (
                not contact.email
                or not row.email
                or contact.email == row.email
                or not row.match_key.startswith("e:")
                or contact.status == Contact.Status.RESTRICTED
            ):
                return contact
        swapped = candidates.filter(
            phone=row.phone,
            status=Contact.Status.RESTRICTED,
            folded_first_name=same_name["folded_last_name"],
            folded_last_name=same_name["folded_first_name"],
        ).first()
        if swapped is not None:
            return swapped
    if row.match_key.startswith("g:"):
        return candidates.filter(email=row.email, **same_name).first()
    return None


def _consents_record_simple(job: ImportJob, contact_list, imported_rows) -> None:
    """Record a granted e-mail consent for each created or merged contact.

    A contact merged by several rows gets one record, from its first row,
    and a contact that an earlier import of the list brought gets none, as
    ``merge.RangeMerge`` writes them.
    """
    before, after = consent_evidence_parts(job, contact_list)
    in_list_before = set(
        Provenance.objects.filter(contact_list=contact_list)
        .exclude(import_job_id=job.pk)
        .values_list("contact_id", flat=True)
    )
    default_time = job_collected_default(job)
    # A list acquired today has its default time at noon, which may still
    # be ahead. Consent recorded later than now would not count until then.
    now = timezone.now()
    recorded: set[int] = set()
    records = []
    for row in imported_rows.iterator(chunk_size=BULK_CHUNK_ROWS):
        if row.contact_id in recorded or row.contact_id in in_list_before:
            continue
        recorded.add(row.contact_id)
        records.append(
            ConsentRecord(
                contact_id=row.contact_id,
                channel=ConsentRecord.Channel.EMAIL,
                state=ConsentRecord.State.GRANTED,
                recorded_at=min(row.collected_at or default_time, now),
                evidence=f"{before}{row.row_number}{after}",
            )
        )
    ConsentRecord.objects.bulk_create(records, batch_size=BULK_CHUNK_ROWS)


def _fill_merged_simple(job: ImportJob) -> None:
    merged = StagingRow.objects.filter(job=job, outcome=Outcome.MERGED).order_by(
        "row_number"
    )
    done: set[int] = set()
    for row in merged:
        if row.contact_id in done:
            continue
        done.add(row.contact_id)
        contact = Contact.objects.get(pk=row.contact_id)
        if contact.status != Contact.Status.ACTIVE:
            continue
        changed = []
        for name in (*FILLABLE_FIELDS, "email", "phone"):
            if not getattr(contact, name) and getattr(row, name):
                setattr(contact, name, getattr(row, name))
                changed.append(name)
        if changed:
            contact.save()


def staging_release(job: ImportJob) -> None:
    """Delete a finished job's staged rows inside the caller's transaction.

    On PostgreSQL the table is emptied with TRUNCATE when no other job has
    rows in it, which is much cheaper than deleting a million rows. The
    exclusive lock taken first makes other jobs wait for the commit, so
    none can stage rows between the check and the truncation.
    """
    table = StagingRow._meta.db_table
    if connection.vendor != "postgresql":
        StagingRow.objects.filter(job=job).delete()
        return
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table} WHERE job_id <> %s)", [job.pk]
        )
        if cursor.fetchone()[0]:
            cursor.execute(f"DELETE FROM {table} WHERE job_id = %s", [job.pk])
        else:
            cursor.execute(f"TRUNCATE {table}")


def staging_clear(job_id: int) -> int:
    with transaction.atomic():
        deleted, _detail = StagingRow.objects.filter(job_id=job_id).delete()
    return deleted
