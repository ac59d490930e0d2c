"""The merge of classified staging rows into contacts, one row range at a time.

On PostgreSQL ``RangeMerge`` runs inside the caller's transaction and takes
the merge lock. For each range of staged rows, in file order, it decides
which matched rows are merged and which are blocked, then inserts the new
contacts, their provenance and the row results, and for a batch held on
consent the e-mail consent records. Staging classified every
row against the contacts that existed before the job (see
``pipeline.chunk_classify``), so the outcome of a row does not depend on
how the file was cut into ranges. Two steps would depend on it, so they
look at the whole job: ``finish`` fills the blanks of merged contacts from
their first merged row once every range is in, and the "already imported"
check ignores provenance written by this job. Elsewhere ``SimpleMerge``
runs ``pipeline.merge_simple`` at the end.
"""

from django.db import connection
from django.db import models

from apps.contacts.locks import contacts_write_lock
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.imports import pipeline
from apps.imports.models import ImportJob
from apps.imports.models import RowResult
from apps.imports.models import StagingRow
from apps.imports.runner import heartbeat_write

# The provenance lookup of one contact in the job's list. "+ 0" keeps the
# planner off the list's index: its statistics, read before the import, count
# the list's rows as none, while the merge adds one per row. Probing by list
# then made each lookup read every row merged so far (309 s instead of 10 s
# for a second import of a 100,000-row file). The (contact, list) unique
# index finds the contact's few rows instead.
LIST_FILTER = "p.contact_list_id + 0 = %s"


class SimpleMerge:
    """Classifies and stores the whole staged file row by row at the end."""

    def __init__(self, *, job: ImportJob, contact_list: ContactList | None, write):
        self.job = job
        self.contact_list = contact_list
        self.write = write

    def merge(self, first_row: int, last_row: int) -> None:
        """Do nothing: ``finish`` handles every row at once."""

    def finish(self) -> None:
        pipeline.merge_simple(
            job=self.job, contact_list=self.contact_list, write=self.write
        )


class RangeMerge:
    """Merges classified staging rows range by range (PostgreSQL).

    With ``write`` false (a dry run) only the outcomes of the staging rows
    change. ``contact_list`` is None only in a dry run of a list that does
    not exist yet.
    """

    def __init__(self, *, job: ImportJob, contact_list: ContactList | None, write):
        self.job = job
        self.contact_list = contact_list
        self.write = write
        self.reasons = pipeline._reasons()
        # A dry run creates nothing but takes the lock too. Without it, a
        # finishing import could queue its ACCESS EXCLUSIVE lock on the
        # staging table behind this transaction while this transaction's
        # staging thread waited behind that lock: a deadlock that PostgreSQL
        # cannot see, because this transaction waits in Python. While another
        # import, an erasure or a retention batch holds the lock, the job's
        # heartbeat goes on, so that its page does not call it stalled.
        contacts_write_lock(on_wait=lambda: heartbeat_write(job.pk))

    def merge(self, first_row: int, last_row: int) -> None:
        """Merge the staged rows numbered ``first_row`` to ``last_row``."""
        bounds = [self.job.pk, first_row, last_row]
        with connection.cursor() as cursor, pipeline.index_scans_only(cursor):
            self._decide_matches(cursor, bounds)
            if self.write:
                self._insert_rows(cursor, bounds)
                if pipeline.consent_recorded(self.job):
                    self._insert_consents(cursor, bounds)

    def _decide_matches(self, cursor, bounds) -> None:
        """Block rows whose contact objected; merge the other matched rows.

        A merged row keeps its value notes and adds one when its contact was
        already in the list before this job, and one for each identifier
        (e-mail address, phone number) whose value in the file differs from
        the contact's, which is kept. Provenance written by earlier ranges of
        the job does not count, because it did not exist when the whole file
        was merged at once.
        """
        staging = StagingRow._meta.db_table
        contacts = Contact._meta.db_table
        provenance = Provenance._meta.db_table
        list_id = self.contact_list.pk if self.contact_list else None
        blocked = "c.status = ANY(%s)"
        statuses = [str(status) for status in pipeline.BLOCKED_STATUSES]
        # array_to_string leaves out the NULL parts, the notes that do not apply.
        pipeline.execute_logged(
            cursor,
            f"""UPDATE {staging} s SET
            outcome = CASE WHEN {blocked} THEN 'suppressed' ELSE 'merged' END,
            reason = CASE WHEN c.status = 'restricted' THEN %s
                WHEN {blocked} THEN %s
                ELSE array_to_string(ARRAY[
                    NULLIF(s.reason, ''),
                    CASE WHEN EXISTS (SELECT 1 FROM {provenance} p
                        WHERE p.contact_id = c.id AND {LIST_FILTER}
                        AND p.import_job_id IS DISTINCT FROM s.job_id) THEN %s END,
                    CASE WHEN s.email <> '' AND c.email <> ''
                        AND s.email <> c.email THEN %s END,
                    CASE WHEN s.phone <> '' AND c.phone <> ''
                        AND s.phone <> c.phone THEN %s END
                ], %s) END
            FROM {contacts} c
            WHERE s.job_id = %s AND s.row_number BETWEEN %s AND %s
            AND s.contact_id IS NOT NULL AND s.outcome = ''
            AND c.id = s.contact_id AND c.status <> 'anonymised'""",
            [
                statuses,
                self.reasons["restricted"],
                statuses,
                self.reasons["blocked"],
                list_id,
                self.reasons["already"],
                self.reasons["email_differs"],
                self.reasons["phone_differs"],
                pipeline.REASON_SEPARATOR,
                *bounds,
            ],
        )

    def _insert_rows(self, cursor, bounds) -> None:
        staging = StagingRow._meta.db_table
        contacts = Contact._meta.db_table
        provenance = Provenance._meta.db_table
        in_range = "job_id = %s AND row_number BETWEEN %s AND %s"
        list_id = self.contact_list.pk
        columns, expressions, params = contact_insert_columns(self.job)

        pipeline.execute_logged(
            cursor,
            f"""INSERT INTO {contacts} ({", ".join(columns)})
            SELECT {", ".join(expressions)} FROM {staging} s
            WHERE s.{in_range} AND s.outcome = ''""",
            [*params, *bounds],
        )
        pipeline.execute_logged(
            cursor,
            f"""INSERT INTO {provenance}
            (contact_id, contact_list_id, row_number, import_job_id, imported_at)
            SELECT new_contact_id, %s, row_number, job_id, now()
            FROM {staging} WHERE {in_range} AND outcome = ''""",
            [list_id, *bounds],
        )
        # A contact merged in an earlier range keeps that range's row, because
        # the first row wins: the conflict skips this one.
        pipeline.execute_logged(
            cursor,
            f"""INSERT INTO {provenance}
            (contact_id, contact_list_id, row_number, import_job_id, imported_at)
            SELECT DISTINCT ON (contact_id) contact_id, %s, row_number, job_id, now()
            FROM {staging} WHERE {in_range} AND contact_id IS NOT NULL
            AND outcome = 'merged'
            ORDER BY contact_id, row_number
            ON CONFLICT (contact_id, contact_list_id) DO NOTHING""",
            [list_id, *bounds],
        )
        pipeline.execute_logged(
            cursor,
            f"""INSERT INTO {RowResult._meta.db_table}
            (job_id, row_number, outcome, reason, contact_id)
            SELECT job_id, row_number,
            CASE WHEN outcome = '' THEN 'created' ELSE outcome END, reason,
            CASE WHEN outcome = '' THEN new_contact_id ELSE contact_id END
            FROM {staging} WHERE {in_range}""",
            bounds,
        )

    def _insert_consents(self, cursor, bounds) -> None:
        """Record a granted e-mail consent for each contact created or merged.

        A contact merged by several rows gets one record, from its first row.
        DISTINCT ON keeps the first row of the range, and a contact that an
        earlier range recorded already has a record with this job's evidence.
        A contact that an earlier import of the same list brought got its
        record then, so importing the list again adds none.
        """
        staging = StagingRow._meta.db_table
        consents = ConsentRecord._meta.db_table
        provenance = Provenance._meta.db_table
        before, after = pipeline.consent_evidence_parts(self.job, self.contact_list)
        this_job = f"{_like_escape(before)}%{_like_escape(after)}"
        # A list acquired today has its default time at noon, which may still
        # be ahead, and a consent counts only from its time. LEAST caps it.
        pipeline.execute_logged(
            cursor,
            f"""INSERT INTO {consents}
            (contact_id, channel, state, recorded_at, evidence)
            SELECT DISTINCT ON (s.contact) s.contact, %s, %s,
            LEAST(COALESCE(s.collected_at, %s), now()),
            %s || s.row_number::text || %s
            FROM (SELECT CASE WHEN outcome = '' THEN new_contact_id
                  ELSE contact_id END AS contact, outcome, row_number, collected_at
                  FROM {staging} WHERE job_id = %s AND row_number BETWEEN %s AND %s
                  AND outcome IN ('', 'merged')) s
            WHERE s.outcome = '' OR (NOT EXISTS (SELECT 1 FROM {consents} r
                WHERE r.contact_id = s.contact AND r.evidence LIKE %s)
                AND NOT EXISTS (SELECT 1 FROM {provenance} p
                WHERE p.contact_id = s.contact AND {LIST_FILTER}
                AND p.import_job_id IS DISTINCT FROM %s))
            ORDER BY s.contact, s.row_number""",
            [
                ConsentRecord.Channel.EMAIL,
                ConsentRecord.State.GRANTED,
                pipeline.job_collected_default(self.job),
                before,
                after,
                *bounds,
                this_job,
                self.contact_list.pk,
                self.job.pk,
            ],
        )

    def finish(self) -> None:
        """Fill the blanks of merged contacts from their first merged row.

        A contact merged by several rows in different ranges takes only the
        values of the first one, as when the file is merged at once.
        """
        if not self.write:
            return
        staging = StagingRow._meta.db_table
        contacts = Contact._meta.db_table
        fill = ", ".join(
            f"{name} = CASE WHEN c.{name} = '' THEN s.{name} ELSE c.{name} END"
            for name in pipeline.FILLABLE_FIELDS
        )
        hash_fill = ""
        field_names = {field.name for field in Contact._meta.concrete_fields}
        if {"email_hash", "phone_hash"} <= field_names:
            hash_fill = (
                ", email_hash = CASE WHEN c.email = '' THEN s.email_hash "
                "ELSE c.email_hash END, phone_hash = CASE WHEN c.phone = '' "
                "THEN s.phone_hash ELSE c.phone_hash END"
            )
        # Only contacts with a blank that the row fills are written: a file
        # imported again would otherwise rewrite every contact and its index
        # entries for nothing.
        fillable = " OR ".join(
            f"(c.{name} = '' AND s.{name} <> '')"
            for name in (*pipeline.FILLABLE_FIELDS, "email", "phone")
        )
        with connection.cursor() as cursor:
            pipeline.execute_logged(
                cursor,
                f"""UPDATE {contacts} c SET {fill},
                email = CASE WHEN c.email = '' THEN s.email ELSE c.email END,
                phone = CASE WHEN c.phone = '' THEN s.phone ELSE c.phone END
                {hash_fill}, updated_at = now()
                FROM (SELECT DISTINCT ON (contact_id) * FROM {staging}
                      WHERE job_id = %s AND contact_id IS NOT NULL
                      AND outcome = 'merged'
                      ORDER BY contact_id, row_number) s
                WHERE c.id = s.contact_id AND c.status = 'active'
                AND ({fillable})""",
                [self.job.pk],
            )


def _like_escape(text: str) -> str:
    """Return ``text`` as a LIKE pattern that matches it literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def merger_for(*, job: ImportJob, contact_list: ContactList | None, write: bool):
    """Return the merge for this database, inside the caller's transaction."""
    kind = RangeMerge if pipeline.set_based() else SimpleMerge
    return kind(job=job, contact_list=contact_list, write=write)


def contact_insert_columns(job: ImportJob) -> tuple[list[str], list[str], list]:
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
        **{name: f"s.{name}" for name in pipeline.FILLABLE_FIELDS},
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
            params.append(pipeline.job_collected_default(job))
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
