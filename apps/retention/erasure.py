"""Bulk deletion and anonymisation of one locked chunk of contacts.

Each function here runs inside the caller's batch transaction, on contacts the
caller has locked with ``SELECT ... FOR UPDATE``. The contact tables are
changed with one SQL statement per table and chunk, not through Django's
Python-side collector, which loads every row and runs a query per relation.
"""

import functools
import logging
from collections import Counter
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db import models
from django.db.models import F
from django.db.models import Func
from django.db.models import Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.contacts.models import CampaignExportContact
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.contacts.suppression import suppression_add
from apps.retention.policy import RETENTION_TIME_ZONE

logger = logging.getLogger(__name__)

CONTACTS_APP = "apps.contacts"
# The campaign export rows store contact ids with no foreign key.
CAMPAIGN_EXPORT_COLUMN = (CampaignExportContact._meta.db_table, "contact_id")

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


class RelatedRecordsBlocked(Exception):
    """A record in another app protects a contact that is due for deletion."""


# A (table, column) pair whose column stores contact ids.
ContactIdColumn = tuple[str, str]


@dataclass(frozen=True)
class _Eraser:
    """An app's personal-data eraser and the columns where it finds contact ids."""

    app: str
    erase: Callable[..., dict]
    columns: tuple[ContactIdColumn, ...]


def _contact_id_columns(app_config) -> tuple[ContactIdColumn, ...]:
    """Return the columns of the app's tables that store contact ids.

    A column counts when it is a foreign key to Contact (including the keys of
    automatic many-to-many tables) or, with no database key, is named
    ``contact_id``.
    """
    columns = []
    for model in app_config.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            is_key = field.is_relation and field.related_model is Contact
            if is_key or field.column == "contact_id":
                columns.append((model._meta.db_table, field.column))
    return tuple(columns)


@functools.cache
def _personal_data_erasers(*, exclude_app: str) -> list[_Eraser]:
    erasers = []
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("apps.") or app_config.name == exclude_app:
            continue
        module_name = f"{app_config.name}.personal_data"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        eraser = getattr(module, "erase", None)
        if eraser is not None:
            columns = _contact_id_columns(app_config)
            erasers.append(_Eraser(app_config.name, eraser, columns))
    return erasers


def _columns_with_ids(
    columns: Sequence[ContactIdColumn], ids: Sequence[int]
) -> set[ContactIdColumn]:
    """Return the columns that contain any of ``ids``, in one query.

    Each column gets its own ``EXISTS``, which is one index probe per id on an
    indexed column. Import staging rows have no index on ``contact_id``, so
    that table is scanned, as the imports eraser would scan it anyway.
    """
    if not columns or not ids:
        return set()
    checks = []
    params = []
    for table, column in columns:
        condition, condition_params = _id_condition(column, ids)
        quoted_table = connection.ops.quote_name(table)
        checks.append(f"EXISTS (SELECT 1 FROM {quoted_table} WHERE {condition})")
        params.extend(condition_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(checks)}", params)
        found = cursor.fetchone()
    return {column for column, exists in zip(columns, found, strict=True) if exists}


def derived_records_erase(*, contact_ids: Sequence[int], exclude_app: str) -> Counter:
    """Erase the records derived from the contacts in the other apps.

    Runs every app's personal-data eraser except ``exclude_app``'s, then
    deletes the kept campaign files that list the contacts. One query first
    checks which tables refer to the ids, and an eraser runs only when one of
    its app's contact-id columns does. An app with no such column has its
    eraser run every time, since it may find the contacts another way.

    Only ids are passed, not e-mails or phones: a generic address such as
    contact@ can be shared by several contacts, and erasing by identifier would
    reach the records of contacts that are not due. Uploaded import files that
    contain an identifier are deleted by the import-leftovers step instead.
    """
    ids = list(contact_ids)
    erasers = _personal_data_erasers(exclude_app=exclude_app)
    probed = [column for eraser in erasers for column in eraser.columns]
    probed.append(CAMPAIGN_EXPORT_COLUMN)
    found = _columns_with_ids(probed, ids)

    counts: Counter = Counter()
    for eraser in erasers:
        if eraser.columns and found.isdisjoint(eraser.columns):
            continue
        counts.update(eraser.erase(contact_ids=ids, emails=(), phones=()))
    if CAMPAIGN_EXPORT_COLUMN in found:
        counts["campaign_export_file"] += campaign_files_delete(contact_ids=ids)
    return Counter({kind: count for kind, count in counts.items() if count})


def objectors_suppress(rows: Sequence[ContactRow]) -> int:
    """Add the identifiers of people who objected or unsubscribed to the list."""
    by_reason: dict[str, tuple[list[str], list[str]]] = {}
    for row in rows:
        reason = OBJECTION_REASONS.get(row.status)
        if reason is None:
            continue
        emails, phones = by_reason.setdefault(reason, ([], []))
        if row.email:
            emails.append(row.email)
        if row.phone:
            phones.append(row.phone)
    return sum(
        suppression_add(reason=reason, emails=emails, phones=phones)
        for reason, (emails, phones) in by_reason.items()
    )


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


def ids_filter(name: str, ids: Sequence[int]) -> dict | _AnyOf:
    """Return a filter on field ``name`` matching ``ids``, for ``.filter()``.

    On PostgreSQL it is one array parameter; Django's ``__in`` lookup prepares
    each of a thousand values in Python, which costs more than the query.
    """
    if connection.vendor == "postgresql":
        array = Value(list(ids), output_field=ArrayField(models.BigIntegerField()))
        return _AnyOf(F(name), array)
    return {f"{name}__in": list(ids)}


def _filtered(model, name: str, ids: Sequence[int]):
    condition = ids_filter(name, ids)
    if isinstance(condition, dict):
        return model._base_manager.filter(**condition)
    return model._base_manager.filter(condition)


def _rows_delete(model, column: str, ids: Sequence[int]) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    condition, params = _id_condition(column, ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {condition}", params)
        return cursor.rowcount


def _rows_unlink(model, column: str, ids: Sequence[int]) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    condition, params = _id_condition(column, ids)
    quoted = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {quoted} = NULL WHERE {condition}", params)
        return cursor.rowcount


def _rows_exist(model, column: str, ids: Sequence[int]) -> bool:
    table = connection.ops.quote_name(model._meta.db_table)
    condition, params = _id_condition(column, ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE {condition} LIMIT 1", params)
        return cursor.fetchone() is not None


def _other_relations():
    """Yield the reverse foreign keys to Contact besides provenance and consents.

    Hidden relations (``related_name="+"``) and the keys of many-to-many
    through tables are included, since they block a raw delete all the same.
    """
    own = {Provenance, ConsentRecord}
    for field in Contact._meta.get_fields(include_hidden=True):
        if not field.auto_created or field.concrete or field.many_to_many:
            continue
        if field.related_model in own:
            continue
        yield field


def _is_leaf(model) -> bool:
    """Tell whether no foreign key points at ``model``, so a raw delete is safe."""
    return not any(
        field.auto_created and not field.concrete
        for field in model._meta.get_fields(include_hidden=True)
    )


def related_records_clear(*, contact_ids: Sequence[int]) -> Counter:
    """Apply each remaining foreign key's ``on_delete`` to rows naming the ids.

    The personal-data erasers have already removed what they own; this catches
    links they leave, so the contact rows can go. Tables that nothing refers
    to are changed with one SQL statement; others go through Django's delete.
    Raises ``RelatedRecordsBlocked`` when a protecting key still points at a row.
    """
    counts: Counter = Counter()
    ids = list(contact_ids)
    for relation in _other_relations():
        model = relation.related_model
        column = relation.field.column
        label = model._meta.label_lower
        on_delete = relation.on_delete
        if on_delete is models.CASCADE and _is_leaf(model):
            counts[label] += _rows_delete(model, column, ids)
        elif on_delete is models.CASCADE:
            rows = model._base_manager.filter(**{f"{relation.field.name}__in": ids})
            counts.update(rows.delete()[1])
        elif on_delete is models.SET_NULL:
            counts[label] += _rows_unlink(model, column, ids)
        elif on_delete is models.DO_NOTHING:
            continue
        elif _rows_exist(model, column, ids):
            raise RelatedRecordsBlocked(
                f"{model._meta.label} rows protect contacts due for deletion "
                f"(on_delete={on_delete.__name__}); their app's personal-data "
                "eraser must remove them first."
            )
    return Counter({kind: count for kind, count in counts.items() if count})


def campaign_files_delete(*, contact_ids: Sequence[int]) -> int:
    """Delete the kept campaign export files that list any of the contacts.

    The contacts app keeps these rows by contact id, with no foreign key, so
    nothing else finds them once the contacts are gone.
    """
    try:
        from apps.contacts.campaigns import campaign_exports_delete_files
    except ImportError:
        return 0
    return campaign_exports_delete_files(contact_ids=contact_ids, reason="retention")


def contacts_delete(*, rows: Sequence[ContactRow]) -> Counter:
    """Erase the locked contacts completely, as a subject-rights erasure does.

    Order: suppression for people who objected, the other apps' derived
    records and the campaign files that list the contacts, remaining links,
    then provenance, consent and contact rows. The contacts app's own eraser
    is not called because it deletes through Django's collector, row by row.
    """
    ids = [row.id for row in rows]
    counts: Counter = Counter()
    if not ids:
        return counts

    counts["suppressed"] += objectors_suppress(rows)
    counts.update(derived_records_erase(contact_ids=ids, exclude_app=CONTACTS_APP))
    counts.update(related_records_clear(contact_ids=ids))

    counts["provenances_removed"] += _rows_delete(Provenance, "contact_id", ids)
    counts["consents_removed"] += _rows_delete(ConsentRecord, "contact_id", ids)
    counts["deleted"] += _rows_delete(Contact, "id", ids)
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

    People who objected are added to the suppression list first, so that the
    address cannot come back in a later purchased list once it is blanked.
    Consent records are deleted because their evidence can identify. Campaign
    files listing the contacts and the other apps' derived records are deleted
    too. Provenance rows keep the list but lose the row number.
    """
    ids = [row.id for row in rows]
    counts: Counter = Counter()
    if not ids:
        return counts

    counts["suppressed"] += objectors_suppress(rows)
    counts.update(derived_records_erase(contact_ids=ids, exclude_app=CONTACTS_APP))
    counts["consents_removed"] += _rows_delete(ConsentRecord, "contact_id", ids)

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
