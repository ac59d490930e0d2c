"""The bulk path of an import: stage the rows, then classify and merge them.

Stage: every data row is normalised in Python and written to the staging
table (PostgreSQL ``COPY`` in chunks, ``bulk_create`` elsewhere).
Merge: on PostgreSQL a few set-based statements classify the staged rows
(suppressed, duplicate in the file, merged, created), insert the contacts,
provenance and row results, all in one transaction; other databases run the
same rules row by row in ``merge_simple``. Both give the same outcomes, which
``tests/imports/test_pipeline.py`` checks on PostgreSQL.
"""

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

from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import SuppressionEntry
from apps.contacts.suppression import suppressed_hashes
from apps.imports.models import ImportJob
from apps.imports.models import Outcome
from apps.imports.models import RowResult
from apps.imports.models import StagingRow
from apps.imports.rows import STAGING_COLUMNS

logger = logging.getLogger(__name__)

# Called after each merge statement, to report progress from a long merge.
StepCallback = Callable[[], None] | None
# Statements of a merge with a list on PostgreSQL, for the progress bar.
MERGE_STEPS = 14
COPY_CHUNK_ROWS = 20_000
BULK_CHUNK_ROWS = 2_000
PROBLEM_SAMPLE = 20
# Serialises the merge step of concurrent imports, so that two files holding
# the same new address cannot both create it.
MERGE_LOCK_KEY = 0x5245_4749_4D50  # "REGIMP"
# Contact states that block any new provenance: the person objected for good.
BLOCKED_STATUSES = (Contact.Status.OBJECTED, Contact.Status.UNSUBSCRIBED)
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


def stage_rows(
    *, job: ImportJob, rows: Iterator[tuple], on_chunk: Callable[[int], None]
) -> int:
    """Write the normalised ``rows`` of ``job`` to the staging table.

    Each chunk is committed on its own, so a crash leaves a partial stage
    that the caller deletes before reading the file again. On PostgreSQL the
    rows stream into COPY as they are normalised, so the server loads them
    on one core while Python reads the file on the other.
    """
    if connection.vendor == "postgresql":
        write, size = _copy_chunk, COPY_CHUNK_ROWS
    else:
        write, size = _bulk_chunk, BULK_CHUNK_ROWS
    total = 0
    iterator = iter(rows)
    while written := write(job.pk, itertools.islice(iterator, size)):
        total += written
        on_chunk(total)
        if written < size:
            break
    return total


def _copy_chunk(job_id: int, rows: Iterator[tuple]) -> int:
    """COPY one chunk of rows, giving each row that may be created a contact id.

    The ids come from the contacts' own sequence, so they never collide
    with contacts created elsewhere. Ids drawn for rows that end up merged,
    skipped or rejected leave gaps in the sequence, which are harmless.
    """
    table = StagingRow._meta.db_table
    contacts = Contact._meta.db_table
    columns = ", ".join(("job_id", *STAGING_COLUMNS, "new_contact_id"))
    outcome_at = STAGING_COLUMNS.index("outcome")
    written = 0
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
                written += 1
    return written


def _as_fields(row: tuple) -> dict:
    return dict(zip(STAGING_COLUMNS, row, strict=True))


def _bulk_chunk(job_id: int, rows: Iterator[tuple]) -> int:
    staged = [StagingRow(job_id=job_id, **_as_fields(row)) for row in rows]
    StagingRow.objects.bulk_create(staged)
    return len(staged)


def _contact_insert_columns(job: ImportJob) -> tuple[list[str], list[str], list]:
    """Return the columns, SELECT expressions and parameters of new contacts.

    The list is built from the model, so a field added to ``Contact`` later
    gets its default instead of breaking the insert.
    """
    from_staging = {
        "email": "s.email",
        "phone": "s.phone",
        "email_hash": "s.email_hash",
        "phone_hash": "s.phone_hash",
        "collected_at": "COALESCE(s.collected_at, %s)",
        **{name: f"s.{name}" for name in FILLABLE_FIELDS},
    }
    from_job = {
        "audience": job.audience,
        "processing_activity": job.processing_activity_id,
        "lawful_basis": job.lawful_basis,
        "status": Contact.Status.ACTIVE,
    }
    columns, expressions, params = ["id"], ["s.new_contact_id"], []
    for field in Contact._meta.concrete_fields:
        if field.primary_key or isinstance(field, models.GeneratedField):
            continue
        columns.append(field.column)
        if field.name == "collected_at":
            expressions.append(from_staging["collected_at"])
            params.append(job_collected_default(job))
        elif field.name in from_staging:
            expressions.append(from_staging[field.name])
        elif field.name in from_job:
            expressions.append("%s")
            params.append(from_job[field.name])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        elif field.has_default() or not field.null:
            # A field without a default gets Django's empty value ("" for text).
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            expressions.append("NULL")
    return columns, expressions, params


def job_collected_default(job: ImportJob):
    """Return the collection time of rows without a date: the acquisition day."""
    return timezone.make_aware(
        datetime.datetime.combine(job.acquired_on, datetime.time(12))
    )


def _reasons() -> dict[str, str]:
    return {
        "suppressed_email": _("the e-mail address is on the suppression list"),
        "suppressed_phone": _("the phone number is on the suppression list"),
        "blocked": _("the matching contact objected or unsubscribed"),
        "duplicate_email": _("same e-mail address as row %s"),
        "duplicate_other": _("same phone or company address and name as row %s"),
        "already": _("already imported into this list"),
    }


def classify_postgres(
    *, job: ImportJob, list_id: int | None, on_step: StepCallback = None
) -> None:
    """Give every staged row its outcome and contact id (PostgreSQL).

    Rows left with an empty outcome are the ones to create, under the id
    drawn for them while staging; rewriting every such row to say
    "created" would cost an update per row.

    Order matters and mirrors ``merge_simple``: suppression first, so a
    suppressed address is never counted as a duplicate or merged; then
    duplicates inside the file (the first row wins); then matches against
    existing contacts by e-mail, then by phone and name, then by company
    address and name.
    """
    staging = StagingRow._meta.db_table
    contacts = Contact._meta.db_table
    suppression = SuppressionEntry._meta.db_table
    reasons = _reasons()
    job_id = job.pk
    statements = [
        (
            f"""UPDATE {staging} s SET outcome = 'suppressed', reason = %s
            FROM {suppression} e WHERE s.job_id = %s AND s.outcome = ''
            AND s.email_hash <> '' AND e.identifier_hash = s.email_hash""",
            [reasons["suppressed_email"], job_id],
        ),
        (
            f"""UPDATE {staging} s SET outcome = 'suppressed', reason = %s
            FROM {suppression} e WHERE s.job_id = %s AND s.outcome = ''
            AND s.phone_hash <> '' AND e.identifier_hash = s.phone_hash""",
            [reasons["suppressed_phone"], job_id],
        ),
        (
            f"""UPDATE {staging} s SET outcome = 'duplicate',
            reason = replace(CASE WHEN s.match_key LIKE 'e:%%' THEN %s ELSE %s END,
                             '%%s', f.first_row::text)
            FROM (SELECT match_key, min(row_number) AS first_row FROM {staging}
                  WHERE job_id = %s AND outcome = '' GROUP BY match_key) f
            WHERE s.job_id = %s AND s.outcome = '' AND s.match_key = f.match_key
            AND s.row_number > f.first_row""",
            [reasons["duplicate_email"], reasons["duplicate_other"], job_id, job_id],
        ),
        (
            f"""UPDATE {staging} s SET contact_id = c.id FROM {contacts} c
            WHERE s.job_id = %s AND s.outcome = '' AND s.match_key LIKE 'e:%%'
            AND c.email = s.email AND c.email <> ''
            AND c.status <> 'anonymised'""",
            [job_id],
        ),
        (
            f"""UPDATE {staging} s SET contact_id = c.id FROM {contacts} c
            WHERE s.job_id = %s AND s.outcome = '' AND s.contact_id IS NULL
            AND s.phone <> '' AND c.phone = s.phone AND c.phone <> ''
            AND lower(c.first_name) = lower(s.first_name)
            AND lower(c.last_name) = lower(s.last_name)
            AND (c.email = '' OR s.email = '' OR c.email = s.email)
            AND c.status <> 'anonymised'""",
            [job_id],
        ),
        (
            f"""UPDATE {staging} s SET contact_id = c.id FROM {contacts} c
            WHERE s.job_id = %s AND s.outcome = '' AND s.contact_id IS NULL
            AND s.match_key LIKE 'g:%%' AND c.email = s.email AND c.email <> ''
            AND lower(c.first_name) = lower(s.first_name)
            AND lower(c.last_name) = lower(s.last_name)
            AND c.status <> 'anonymised'""",
            [job_id],
        ),
        (
            f"""UPDATE {staging} s SET outcome = 'suppressed', reason = %s
            FROM {contacts} c WHERE s.job_id = %s AND s.outcome = ''
            AND s.contact_id = c.id AND c.status = ANY(%s)""",
            [reasons["blocked"], job_id, [str(s) for s in BLOCKED_STATUSES]],
        ),
        (
            f"""UPDATE {staging} SET outcome = 'merged'
            WHERE job_id = %s AND outcome = '' AND contact_id IS NOT NULL""",
            [job_id],
        ),
    ]
    if list_id is not None:
        statements.append(
            (
                f"""UPDATE {staging} s SET reason = %s
                FROM {Provenance._meta.db_table} p WHERE s.job_id = %s
                AND s.outcome = 'merged' AND s.reason = ''
                AND p.contact_id = s.contact_id AND p.contact_list_id = %s""",
                [reasons["already"], job_id, list_id],
            )
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MERGE_LOCK_KEY])
        # Fresh staged rows have no statistics, and without them the planner
        # picks nested loops that turn the duplicate search quadratic.
        cursor.execute(f"ANALYZE {staging}")
        for sql, params in statements:
            _execute(cursor, sql, params, on_step)


def _execute(cursor, sql: str, params, on_step: StepCallback = None) -> None:
    started = time.perf_counter()
    cursor.execute(sql, params)
    logger.debug(
        "%.2fs %s rows: %s",
        time.perf_counter() - started,
        cursor.rowcount,
        " ".join(sql.split())[:90],
    )
    if on_step is not None:
        on_step()


def write_postgres(
    *, job: ImportJob, contact_list: ContactList, on_step: StepCallback = None
) -> None:
    """Insert the created contacts, fill blanks of merged ones, add provenance."""
    staging = StagingRow._meta.db_table
    contacts = Contact._meta.db_table
    job_id = job.pk
    columns, expressions, params = _contact_insert_columns(job)
    fill = ", ".join(
        f"{name} = CASE WHEN c.{name} = '' THEN s.{name} ELSE c.{name} END"
        for name in FILLABLE_FIELDS
    )
    hash_fill = ""
    field_names = {field.name for field in Contact._meta.concrete_fields}
    if {"email_hash", "phone_hash"} <= field_names:
        hash_fill = (
            ", email_hash = CASE WHEN c.email = '' THEN s.email_hash "
            "ELSE c.email_hash END, phone_hash = CASE WHEN c.phone = '' "
            "THEN s.phone_hash ELSE c.phone_hash END"
        )
    with connection.cursor() as cursor:
        _execute(
            cursor,
            f"""INSERT INTO {contacts} ({", ".join(columns)})
            SELECT {", ".join(expressions)} FROM {staging} s
            WHERE s.job_id = %s AND s.outcome = ''""",
            [*params, job_id],
            on_step,
        )
        _execute(
            cursor,
            f"""UPDATE {contacts} c SET {fill},
            email = CASE WHEN c.email = '' THEN s.email ELSE c.email END,
            phone = CASE WHEN c.phone = '' THEN s.phone ELSE c.phone END
            {hash_fill}, updated_at = now()
            FROM (SELECT DISTINCT ON (contact_id) * FROM {staging}
                  WHERE job_id = %s AND outcome = 'merged'
                  ORDER BY contact_id, row_number) s
            WHERE c.id = s.contact_id AND c.status = 'active'""",
            [job_id],
            on_step,
        )
        _execute(
            cursor,
            f"""INSERT INTO {Provenance._meta.db_table}
            (contact_id, contact_list_id, row_number, import_job_id, imported_at)
            SELECT new_contact_id, %s, row_number, job_id, now()
            FROM {staging} WHERE job_id = %s AND outcome = ''""",
            [contact_list.pk, job_id],
            on_step,
        )
        _execute(
            cursor,
            f"""INSERT INTO {Provenance._meta.db_table}
            (contact_id, contact_list_id, row_number, import_job_id, imported_at)
            SELECT DISTINCT ON (contact_id) contact_id, %s, row_number, job_id, now()
            FROM {staging} WHERE job_id = %s AND outcome = 'merged'
            ORDER BY contact_id, row_number
            ON CONFLICT (contact_id, contact_list_id) DO NOTHING""",
            [contact_list.pk, job_id],
            on_step,
        )
        _execute(
            cursor,
            f"""INSERT INTO {RowResult._meta.db_table}
            (job_id, row_number, outcome, reason, contact_id)
            SELECT job_id, row_number,
            CASE WHEN outcome = '' THEN 'created' ELSE outcome END, reason,
            CASE WHEN outcome = '' THEN new_contact_id ELSE contact_id END
            FROM {staging} WHERE job_id = %s""",
            [job_id],
            on_step,
        )


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
        hashes = {h for row in chunk for h in (row.email_hash, row.phone_hash) if h}
        suppressed = suppressed_hashes(hashes) if hashes else set()
        for row in chunk:
            if row.outcome == "":
                _classify_one(row, suppressed, first_rows, reasons, contact_list)
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


def _chunks(iterator, size=BULK_CHUNK_ROWS):
    chunk = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _classify_one(row, suppressed, first_rows, reasons, contact_list) -> None:
    if row.email_hash in suppressed:
        row.outcome, row.reason = Outcome.SUPPRESSED, reasons["suppressed_email"]
        return
    if row.phone_hash in suppressed:
        row.outcome, row.reason = Outcome.SUPPRESSED, reasons["suppressed_phone"]
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
        row.outcome, row.reason = Outcome.SUPPRESSED, reasons["blocked"]
        return
    row.outcome = Outcome.MERGED
    if (
        not row.reason
        and contact_list is not None
        and Provenance.objects.filter(
            contact=contact, contact_list=contact_list
        ).exists()
    ):
        row.reason = reasons["already"]


def _match_existing(row) -> Contact | None:
    candidates = Contact.objects.exclude(status=Contact.Status.ANONYMISED).order_by(
        "pk"
    )
    if row.match_key.startswith("e:"):
        contact = candidates.filter(email=row.email).first()
        if contact is not None:
            return contact
    if row.phone:
        same_phone = candidates.filter(
            phone=row.phone,
            first_name__iexact=row.first_name,
            last_name__iexact=row.last_name,
        )
        for contact in same_phone:
            if not contact.email or not row.email or contact.email == row.email:
                return contact
    if row.match_key.startswith("g:"):
        return candidates.filter(
            email=row.email,
            first_name__iexact=row.first_name,
            last_name__iexact=row.last_name,
        ).first()
    return None


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


def run_merge(
    *,
    job: ImportJob,
    contact_list: ContactList | None,
    write: bool,
    on_step: StepCallback = None,
) -> None:
    """Classify the staged rows and, with ``write``, store the results.

    The caller owns the transaction, so a failure leaves no contact behind.
    """
    if connection.vendor == "postgresql":
        list_id = contact_list.pk if contact_list else None
        classify_postgres(job=job, list_id=list_id, on_step=on_step)
        if write:
            write_postgres(job=job, contact_list=contact_list, on_step=on_step)
    else:
        merge_simple(job=job, contact_list=contact_list, write=write)


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
