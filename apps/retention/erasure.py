"""Bulk deletion and anonymisation of one chunk of contacts.

Each function here runs inside the caller's batch transaction, which holds the
contacts write lock. On PostgreSQL one statement locks the chunk's contacts
that are still due, deletes or anonymises them with every row that refers to
them, and suppresses the people who objected (``apps.contacts.erasure``).
Nothing goes through Django's Python-side collector, which loads every row and
runs a query per relation.
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
from apps.contacts.erasure import RowsUpdate
from apps.contacts.erasure import contacts_erase
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.contacts.suppression import ErasedSuppression
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


# The erasure's suppression entries for the people who objected or unsubscribed.
OBJECTION_SUPPRESSIONS = tuple(
    ErasedSuppression(reason, statuses=(status,))
    for status, reason in OBJECTION_REASONS.items()
)


@dataclass(frozen=True)
class Applied:
    """The contacts a bulk operation changed, and the counts of what it removed."""

    contact_ids: list[int]
    counts: Counter


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
    """Return the erasure's counts under the run's keys, with the files deleted."""
    counts = Counter()
    for kind, count in erased.counts.items():
        counts[RUN_COUNT_KEYS.get(kind, kind)] += count
    counts["campaign_export_file"] += campaign_export_files_delete(
        export_ids=erased.campaign_export_ids, reason="retention"
    )
    counts["suppressed"] += erased.suppression_added
    return +counts


def contacts_delete(*, ids: Sequence[int], within) -> Applied:
    """Erase the contacts of ``within`` among ``ids``, as a subject-rights erasure does.

    One statement locks the contacts, deletes them with every row of any app
    that refers to them (``apps.contacts.erasure``) and adds the people who
    objected to the suppression list. Then the kept campaign files that list
    them are deleted.
    """
    if not ids:
        return Applied([], Counter())
    erased = contacts_erase(
        contact_ids=ids,
        within=within,
        erased_suppressions=OBJECTION_SUPPRESSIONS,
        lock_held=True,
    )
    return Applied(erased.contact_ids, _retention_counts(erased))


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


def contacts_anonymise(*, ids: Sequence[int], within) -> Applied:
    """Anonymise the contacts of ``within`` among ``ids``, keeping statistical fields.

    People who objected are added to the suppression list, so that the
    address cannot come back in a later purchased list once it is blanked.
    Consent records are deleted because their evidence can identify, and so
    are provenance rows: a list and a row number point at the person in the
    vendor's file, and a small list with the kept fields can single them out.
    Campaign files listing the contacts and the other apps' derived records
    are deleted too. On PostgreSQL all of it is one statement.
    """
    if not ids:
        return Applied([], Counter())
    postgresql = connection.vendor == "postgresql"
    erased = contacts_erase(
        contact_ids=ids,
        within=within,
        keep_contacts=True,
        updates=[_anonymising_update()] if postgresql else (),
        erased_suppressions=OBJECTION_SUPPRESSIONS,
        lock_held=True,
    )
    counts = _retention_counts(erased)
    if not postgresql:
        counts["anonymised"] += _anonymise_with_orm(erased.contact_ids)
    return Applied(erased.contact_ids, counts)


def _anonymising_update() -> RowsUpdate:
    """Return the UPDATE that blanks the contacts."""
    contact_values = blanked_values(Contact, CONTACT_FIELDS_KEPT)
    contact_values["status"] = Contact.Status.ANONYMISED
    contact_values["updated_at"] = timezone.now()
    assignments, params = _assignments(Contact, contact_values)
    for name in CONTACT_DATES_TRUNCATED:
        column = connection.ops.quote_name(Contact._meta.get_field(name).column)
        assignments.append(f"{column} = {MONTH_START_SQL % {'column': column}}")
    return RowsUpdate(
        kind="anonymised",
        table=Contact._meta.db_table,
        column="id",
        assignments=", ".join(assignments),
        params=params,
    )


def _assignments(model, values: dict) -> tuple[list[str], list]:
    assignments, params = [], []
    for attname, value in values.items():
        field = model._meta.get_field(attname)
        assignments.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    return assignments, params


def _anonymise_with_orm(ids: Sequence[int]) -> int:
    """Blank the contacts (not on PostgreSQL).

    Returns the number of contacts anonymised.

    NOTE: the truncated dates are read back in UTC there, so they can land an
    hour or two before the first of the month in Paris.
    """
    values = blanked_values(Contact, CONTACT_FIELDS_KEPT)
    values["status"] = Contact.Status.ANONYMISED
    values["updated_at"] = timezone.now()
    for name in CONTACT_DATES_TRUNCATED:
        values[name] = TruncMonth(name, tzinfo=RETENTION_TIME_ZONE)
    return Contact.objects.filter(pk__in=list(ids)).update(**values)


def provenances_detach(*, contact_ids: Sequence[int], list_ids: Sequence[int]) -> int:
    """Delete the provenance rows that tie the contacts to the given lists."""
    if not contact_ids or not list_ids:
        return 0
    # Nothing refers to provenance rows, so Django deletes them in one statement.
    provenances = _filtered(Provenance, "contact_id", contact_ids)
    deleted, _ = provenances.filter(contact_list_id__in=list(list_ids)).delete()
    return deleted
