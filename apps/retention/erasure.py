"""Bulk deletion and anonymisation of one locked chunk of contacts.

Each function here runs inside the caller's batch transaction, which holds the
contacts write lock, on contacts the caller has locked with ``SELECT ... FOR
UPDATE``. The rows are changed in SQL,
a few statements per chunk (``apps.contacts.erasure`` deletes a chunk with
everything that refers to it in one), not through Django's Python-side
collector, which loads every row and runs a query per relation.
"""

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db import models
from django.db.models import F
from django.db.models import Func
from django.db.models import Q
from django.db.models import Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.contacts.campaigns import campaign_export_files_delete
from apps.contacts.erasure import ContactsErased
from apps.contacts.erasure import contacts_erase
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.contacts.suppression import suppression_rows
from apps.retention.policy import RETENTION_TIME_ZONE

logger = logging.getLogger(__name__)

# The run's names for the counts of the contact tables.
RUN_COUNT_KEYS = {
    "contact": "deleted",
    "provenance": "provenances_removed",
    "consent_record": "consents_removed",
}

# Suppression reason for each status that records an objection. The CNIL
# expects objection data to be kept for at least 3 years, so these people stay
# on the suppression list (as a keyed hash) after their contact is removed.
OBJECTION_REASONS = {
    Contact.Status.OBJECTED: "objected",
    Contact.Status.UNSUBSCRIBED: "unsubscribed",
}

# Contact fields that anonymisation keeps, for statistics. Every other field
# is blanked, including fields added to the model later.
CONTACT_FIELDS_KEPT = {
    "id",
    "audience",
    "country",
    "job_function",
    "processing_activity",
    "lawful_basis",
    "status",
    "collected_at",
    "last_contact_at",
    "created_at",
    "updated_at",
}
# Dates kept for statistics are truncated to the first day of their month
# (Europe/Paris).
CONTACT_DATES_TRUNCATED = ("collected_at", "last_contact_at", "created_at")
PROVENANCE_FIELDS_KEPT = {"id", "contact", "contact_list", "imported_at"}


@dataclass(frozen=True)
class ContactRow:
    """The columns of a locked contact that the bulk operations need."""

    id: int
    email: str
    phone: str
    status: str


CONTACT_ROW_FIELDS = ("id", "email", "phone", "status")


def objectors_suppression(rows: Sequence[ContactRow]) -> dict[str, tuple]:
    """Return the suppression entries of the people who objected or unsubscribed."""
    entries: dict[str, tuple] = {}
    for row in rows:
        reason = OBJECTION_REASONS.get(row.status)
        if reason is not None:
            entries.update(
                suppression_rows(
                    reason=reason,
                    emails=[row.email] if row.email else [],
                    phones=[row.phone] if row.phone else [],
                )
            )
    return entries


def _id_condition(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """Return ``column`` matching any of ``ids``, as SQL and its parameters.

    PostgreSQL gets one array parameter, which it parses much faster than a
    thousand placeholders.
    """
    column = connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    placeholders = ", ".join(["%s"] * len(ids))
    return f"{column} IN ({placeholders})", list(ids)


class _AnyOf(Func):
    """``column = ANY(array)`` as a filter, for PostgreSQL."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = models.BooleanField()


def ids_filter(name: str, ids: Sequence[int]) -> Q | _AnyOf:
    """Return a filter on field ``name`` matching ``ids``, for ``.filter()``.

    On PostgreSQL it is one array parameter; Django's ``__in`` lookup prepares
    each of a thousand values in Python, which costs more than the query.
    """
    if connection.vendor == "postgresql":
        array = Value(list(ids), output_field=ArrayField(models.BigIntegerField()))
        return _AnyOf(F(name), array)
    return Q(**{f"{name}__in": list(ids)})


def _filtered(model, name: str, ids: Sequence[int]):
    return model._base_manager.filter(ids_filter(name, ids))


def _retention_counts(erased: ContactsErased) -> Counter:
    """Rename the erasure's counts of the contact tables to the run's keys."""
    counts = Counter()
    for kind, count in erased.counts.items():
        counts[RUN_COUNT_KEYS.get(kind, kind)] += count
    counts["campaign_export_file"] += campaign_export_files_delete(
        export_ids=erased.campaign_export_ids, reason="retention"
    )
    return counts


def contacts_delete(*, rows: Sequence[ContactRow]) -> Counter:
    """Erase the locked contacts completely, as a subject-rights erasure does.

    One statement deletes the contacts with every row of any app that refers
    to them (``apps.contacts.erasure``) and adds the people who objected to
    the suppression list. Then the kept campaign files that list them are
    deleted.
    """
    ids = [row.id for row in rows]
    counts: Counter = Counter()
    if not ids:
        return counts
    erased = contacts_erase(
        contact_ids=ids, suppression=objectors_suppression(rows), lock_held=True
    )
    counts["suppressed"] += erased.suppression_added
    counts.update(_retention_counts(erased))
    return +counts


def blanked_values(model, kept_fields: set[str]) -> dict:
    """Return the UPDATE values that blank every field of ``model`` not kept.

    Text fields become empty, nullable fields NULL; generated columns, keys
    and non-null fields of other types (flags, counters) are left alone.
    """
    values = {}
    for field in model._meta.concrete_fields:
        if field.name in kept_fields or field.primary_key:
            continue
        if getattr(field, "generated", False):
            continue
        if field.null:
            values[field.attname] = None
        elif isinstance(field, models.CharField | models.TextField):
            values[field.attname] = ""
    return values


# The first instant of a timestamptz column's month in Europe/Paris.
MONTH_START_SQL = (
    "(DATE_TRUNC('month', %(column)s AT TIME ZONE 'Europe/Paris') "
    "AT TIME ZONE 'Europe/Paris')"
)


def contacts_anonymise(*, rows: Sequence[ContactRow]) -> Counter:
    """Anonymise the locked contacts, keeping only statistical fields.

    People who objected are added to the suppression list in the same
    statement as the erasure, so that the address cannot come back in a later
    purchased list once it is blanked.
    Consent records are deleted because their evidence can identify. Campaign
    files listing the contacts and the other apps' derived records are deleted
    too. Provenance rows keep the list but lose the row number.
    """
    ids = [row.id for row in rows]
    counts: Counter = Counter()
    if not ids:
        return counts

    erased = contacts_erase(
        contact_ids=ids,
        keep_contacts=True,
        skip_tables={Provenance._meta.db_table},
        suppression=objectors_suppression(rows),
        lock_held=True,
    )
    counts["suppressed"] += erased.suppression_added
    counts.update(_retention_counts(erased))

    provenance_values = blanked_values(Provenance, PROVENANCE_FIELDS_KEPT)
    if provenance_values:
        _filtered(Provenance, "contact_id", ids).update(**provenance_values)

    counts["anonymised"] += _contact_rows_anonymise(ids)
    return counts


def _contact_rows_anonymise(ids: Sequence[int]) -> int:
    """Blank the contacts' identifying columns in one UPDATE; return the count.

    On PostgreSQL the statement is written in SQL with the ids as one array
    parameter, because Django's ``pk__in`` prepares each of the ids in Python.
    """
    values = blanked_values(Contact, CONTACT_FIELDS_KEPT)
    values["status"] = Contact.Status.ANONYMISED
    values["updated_at"] = timezone.now()
    if connection.vendor != "postgresql":
        # NOTE: on other databases the truncated value is read back in UTC, so
        # it can land an hour or two before the first of the month in Paris.
        for name in CONTACT_DATES_TRUNCATED:
            values[name] = TruncMonth(name, tzinfo=RETENTION_TIME_ZONE)
        return Contact.objects.filter(pk__in=list(ids)).update(**values)

    assignments = []
    params = []
    for attname, value in values.items():
        field = Contact._meta.get_field(attname)
        assignments.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    for name in CONTACT_DATES_TRUNCATED:
        column = connection.ops.quote_name(Contact._meta.get_field(name).column)
        assignments.append(f"{column} = {MONTH_START_SQL % {'column': column}}")
    table = connection.ops.quote_name(Contact._meta.db_table)
    condition, condition_params = _id_condition("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)} WHERE {condition}",
            params + condition_params,
        )
        return cursor.rowcount


def provenances_detach(*, contact_ids: Sequence[int], list_ids: Sequence[int]) -> int:
    """Delete the provenance rows that tie the contacts to the given lists."""
    if not contact_ids or not list_ids:
        return 0
    # Nothing refers to provenance rows, so Django deletes them in one statement.
    provenances = _filtered(Provenance, "contact_id", contact_ids)
    deleted, _ = provenances.filter(contact_list_id__in=list(list_ids)).delete()
    return deleted
