"""Erasing contacts in the database, with every row that refers to them.

A contact is referred to in two ways. Foreign keys have an ``on_delete`` that
sets what happens to the referring rows. Plain id columns, in tables written
in bulk without a database key, are declared by their apps in
``personal_data.CONTACT_ID_COLUMNS``. ``contacts_erase`` deletes the contacts and
applies each reference's rule in one SQL statement on PostgreSQL, so erasing
a person costs one round trip whatever the number of tables; other databases
run one statement per table, in the same transaction.
"""

import functools
from collections import Counter
from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.core.exceptions import FullResultSet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.contacts.locks import contacts_write_lock
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.contacts.suppression import ErasedSuppression
from apps.contacts.suppression import suppression_rows_insert
from apps.core.personal_data import ContactIdColumn
from apps.core.personal_data import contact_id_columns
from apps.core.personal_data import identifier_columns

DELETE = "delete"
UNLINK = "unlink"
PROTECT = "protect"

# Counted under these kinds in the erasure's record counts.
CONTACT_KIND = "contact"
CAMPAIGN_EXPORT_TABLE = CampaignExportContact._meta.db_table


class ContactsProtected(Exception):
    """A protecting foreign key still points at a contact being erased."""


@dataclass(frozen=True)
class Reference:
    """A column holding contact ids and what erasing the contact does to its rows."""

    table: str
    column: str
    action: str
    kind: str


@dataclass(frozen=True)
class ContactsErased:
    """The result of ``contacts_erase``: contact ids, counts and export ids.

    ``suppression_added`` counts the suppression entries that were new.
    """

    contact_ids: list[int]
    counts: Counter
    campaign_export_ids: list[int]
    suppression_added: int = 0


def _foreign_key_action(relation) -> str | None:
    on_delete = relation.on_delete
    if on_delete is models.DO_NOTHING:
        return None
    if on_delete is models.SET_NULL:
        return UNLINK
    if on_delete in (models.PROTECT, models.RESTRICT):
        return PROTECT
    if on_delete is not models.CASCADE:
        raise ImproperlyConfigured(
            f"{relation.related_model._meta.label}.{relation.field.name} uses "
            f"on_delete={on_delete.__name__}, which contact erasure cannot apply "
            "in SQL; use CASCADE, SET_NULL, PROTECT or DO_NOTHING."
        )
    model = relation.related_model
    if any(f.auto_created and not f.concrete for f in model._meta.get_fields(True)):
        raise ImproperlyConfigured(
            f"{model._meta.label} refers to Contact with CASCADE and is itself "
            "referred to; contact erasure deletes its rows in SQL, which would "
            "leave the rows that point at them. Declare the deeper rows' cascade "
            "in the database or use SET_NULL."
        )
    return DELETE


def _declared(column: ContactIdColumn) -> Reference:
    return Reference(
        table=column.model._meta.db_table,
        column=column.model._meta.get_field(column.field).column,
        action=UNLINK if column.unlink else DELETE,
        kind=column.kind,
    )


@functools.cache
def contact_references() -> tuple[Reference, ...]:
    """Return every column that contains contact ids, with its erasure rule.

    Foreign keys to Contact are found from the models, so a key added later is
    covered without being declared. A declaration only names its kind.
    """
    declared = {
        (reference.table, reference.column): reference
        for reference in map(_declared, contact_id_columns())
    }
    references = []
    for relation in Contact._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete or relation.many_to_many:
            continue
        action = _foreign_key_action(relation)
        if action is None:
            continue
        table = relation.related_model._meta.db_table
        column = relation.field.column
        kind = declared.pop((table, column), None)
        references.append(
            Reference(
                table=table,
                column=column,
                action=action,
                kind=kind.kind if kind else relation.related_model._meta.label_lower,
            )
        )
    references.extend(declared.values())
    return tuple(sorted(references, key=lambda r: (r.table, r.column)))


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _reference_sql(reference: Reference, *, ids_match: str) -> str:
    """Return the statement that applies ``reference`` to the contacts' rows.

    ``ids_match`` completes the condition on the column, such as
    ``IN (%s, %s)``.
    """
    table, column = _quote(reference.table), _quote(reference.column)
    condition = f"{column} {ids_match}"
    if reference.action == PROTECT:
        return f"SELECT 1 FROM {table} WHERE {condition}"
    returning = "export_id" if reference.table == CAMPAIGN_EXPORT_TABLE else "1"
    if reference.action == UNLINK:
        return f"UPDATE {table} SET {column} = NULL WHERE {condition} RETURNING 1"
    return f"DELETE FROM {table} WHERE {condition} RETURNING {returning}"


@dataclass(frozen=True)
class RowsUpdate:
    """An UPDATE of the rows of ``table`` whose ``column`` contains an erased contact.

    ``assignments`` is the SQL after ``SET``, with ``params`` for its
    placeholders. Each updated row is counted under ``kind``.
    """

    kind: str
    table: str
    column: str
    assignments: str
    params: list


# The target's columns: the ids, and what the suppression entries need.
TARGET_COLUMNS = "id, email_hash, phone_hash, status"


def _target_sql(*, contact_ids, emails, phones, within=None) -> tuple[str, list]:
    """Return the SELECT of the contacts to erase, by id, e-mail or phone.

    A phone selects only contacts without an e-mail, because colleagues often
    share a switchboard number and a contact with another address is another
    person. With ``within``, a queryset of contacts, only its rows are taken.
    On PostgreSQL the rows are locked, so an edit made meanwhile is waited for
    and the conditions are checked again on the new version.
    PostgreSQL gets one array parameter per column, which it parses much
    faster than a thousand placeholders.
    """
    postgresql = connection.vendor == "postgresql"
    conditions, params = [], []
    for column, values in (("id", contact_ids), ("email", emails), ("phone", phones)):
        values = [value for value in values if value]
        if not values:
            continue
        if postgresql:
            cast = "::bigint[]" if column == "id" else ""
            condition = f"{_quote(column)} = ANY(%s{cast})"
            params.append(values)
        else:
            placeholders = ", ".join(["%s"] * len(values))
            condition = f"{_quote(column)} IN ({placeholders})"
            params.extend(values)
        if column == "phone":
            condition = f"({condition} AND {_quote('email')} = '')"
        conditions.append(condition)
    if not conditions:
        return "", []
    table = _quote(Contact._meta.db_table)
    sql = f"SELECT {TARGET_COLUMNS} FROM {table} WHERE ({' OR '.join(conditions)})"
    if within is not None:
        condition, within_params = _within_condition(within)
        sql += f" AND ({condition})"
        params.extend(within_params)
    if postgresql:
        sql += " FOR UPDATE"
    return sql, params


def _within_condition(within) -> tuple[str, list]:
    try:
        return _rows_condition(within)
    except FullResultSet:
        return "1 = 1", []
    except EmptyResultSet:
        return "1 = 0", []


@dataclass(frozen=True)
class _IdentifierDelete:
    """The DELETE of a declared table's rows containing the person's identifiers."""

    kind: str
    sql: str
    params: list


def _identifier_deletes(*, emails, phones) -> list[_IdentifierDelete]:
    """Return the deletes of the ``IDENTIFIER_COLUMNS`` rows containing the values."""
    emails = [value for value in emails if value]
    phones = [value for value in phones if value]
    if not emails and not phones:
        return []
    deletes = []
    for columns in identifier_columns():
        meta = columns.model._meta
        if columns.may_hold_rows is not None and not columns.may_hold_rows():
            continue
        holding = Q(pk__in=[])
        if emails:
            holding |= Q(**{f"{columns.email_field}__in": emails})
        if phones:
            holding |= Q(**{f"{columns.phone_field}__in": phones})
        rows = columns.model._base_manager.filter(holding)
        if columns.keep is not None:
            rows = rows.exclude(columns.keep())
        try:
            condition, params = _rows_condition(rows)
        except EmptyResultSet:
            continue
        deletes.append(
            _IdentifierDelete(
                columns.kind,
                f"DELETE FROM {_quote(meta.db_table)} WHERE {condition} RETURNING 1",
                list(params),
            )
        )
    return deletes


def _rows_condition(rows) -> tuple[str, list]:
    """Return the WHERE condition of ``rows``, for a DELETE from its table.

    A queryset that joins other tables becomes ``pk IN (subquery)``, which
    PostgreSQL plans more slowly.
    """
    query = rows.query
    compiler = query.get_compiler(connection=connection)
    condition, params = compiler.compile(query.where)
    if sum(1 for count in query.alias_refcount.values() if count) <= 1:
        return condition, list(params)
    sql, params = rows.values("pk").query.sql_with_params()
    return f"{_quote(rows.model._meta.pk.column)} IN ({sql})", list(params)


# The ids as one array: with ``IN (SELECT ...)`` the planner expects every
# target to have rows everywhere and scans whole tables; ``= ANY(ARRAY(...))``
# probes each table's index.
_TARGET_IDS = "= ANY(ARRAY(SELECT id FROM target))"


def _suppression_sql(
    entries: dict[str, tuple], erased_suppressions: Sequence[ErasedSuppression]
) -> tuple[str, list]:
    """Return one INSERT of the suppression ``entries`` and the erased hashes.

    The erased rows' hashes come from the ``target`` CTE: the identifiers as
    the statement found them, after any import that the write lock waited
    for, so a phone that such an import added is suppressed too. A hash listed
    twice is inserted once, and ``RETURNING`` yields a row per new entry.
    """
    entry = SuppressionEntry._meta
    columns = ", ".join(
        _quote(entry.get_field(name).column)
        for name in ("identifier_hash", "kind", "reason", "created_at", "created_by")
    )
    sources, params = [], []
    if entries:
        rows = ", ".join(["(%s, %s, %s, %s::timestamptz, %s::bigint)"] * len(entries))
        sources.append(f"SELECT * FROM (VALUES {rows}) AS given")
        for identifier, (kind, reason, created_at, created_by) in entries.items():
            params.extend([identifier, kind, reason, created_at, created_by])
    now = timezone.now()
    for erased in erased_suppressions:
        for column, kind in (
            ("email_hash", SuppressionEntry.Kind.EMAIL),
            ("phone_hash", SuppressionEntry.Kind.PHONE),
        ):
            condition = f"{column} <> ''"
            if erased.statuses:
                condition += " AND status = ANY(%s)"
            sources.append(
                f"SELECT {column}, %s, %s, %s::timestamptz, %s::bigint "
                f"FROM target WHERE {condition}"
            )
            params.extend([kind.value, erased.reason, now, erased.created_by])
            if erased.statuses:
                params.append(list(erased.statuses))
    unique = _quote(entry.get_field("identifier_hash").column)
    sql = (
        f"INSERT INTO {_quote(entry.db_table)} ({columns}) "
        f"{' UNION ALL '.join(sources)} "
        f"ON CONFLICT ({unique}) DO NOTHING RETURNING 1"
    )
    return sql, params


@dataclass(frozen=True)
class _Erasure:
    """Everything one call of ``contacts_erase`` changes and suppresses."""

    target_sql: str
    params: list
    references: list[Reference]
    identifier_deletes: list[_IdentifierDelete]
    updates: Sequence[RowsUpdate]
    keep_contacts: bool
    suppression: dict[str, tuple]
    erased_suppressions: Sequence[ErasedSuppression]


def _erase_postgresql(erasure: _Erasure) -> ContactsErased:
    references, params = erasure.references, erasure.params
    ctes = [f"target AS MATERIALIZED ({erasure.target_sql})"]
    selected = ["ARRAY(SELECT id FROM target ORDER BY id)"]
    for number, reference in enumerate(references):
        ctes.append(
            f"r{number} AS ({_reference_sql(reference, ids_match=_TARGET_IDS)})"
        )
        selected.append(f"(SELECT count(*) FROM r{number})")
    for number, delete in enumerate(erasure.identifier_deletes):
        ctes.append(f"d{number} AS ({delete.sql})")
        params = params + delete.params
    for number, update in enumerate(erasure.updates):
        ctes.append(f"u{number} AS ({_update_sql(update, ids_match=_TARGET_IDS)})")
        params = params + update.params
    exports = [
        f"r{n}" for n, r in enumerate(references) if r.table == CAMPAIGN_EXPORT_TABLE
    ]
    selected.append(
        f"ARRAY(SELECT DISTINCT export_id FROM {exports[0]})"
        if exports
        else "ARRAY[]::bigint[]"
    )
    if erasure.keep_contacts:
        selected.append("0")
    else:
        table = _quote(Contact._meta.db_table)
        delete_sql = f"DELETE FROM {table} WHERE id {_TARGET_IDS} RETURNING 1"
        ctes.append(f"erased AS ({delete_sql})")
        selected.append("(SELECT count(*) FROM erased)")
    if erasure.suppression or erasure.erased_suppressions:
        insert_sql, insert_params = _suppression_sql(
            erasure.suppression, erasure.erased_suppressions
        )
        ctes.append(f"suppressed AS ({insert_sql})")
        params = params + insert_params
        selected.append("(SELECT count(*) FROM suppressed)")
    else:
        selected.append("0")
    selected.extend(
        f"(SELECT count(*) FROM d{number})"
        for number in range(len(erasure.identifier_deletes))
    )
    selected.extend(
        f"(SELECT count(*) FROM u{number})" for number in range(len(erasure.updates))
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT {', '.join(selected)}", params)
        row = cursor.fetchone()
    ids, references_end = row[0], 1 + len(references)
    row_counts = row[1:references_end]
    export_ids, erased, added = row[references_end : references_end + 3]
    counts = Counter()
    for part, count in zip(
        [*erasure.identifier_deletes, *erasure.updates],
        row[references_end + 3 :],
        strict=True,
    ):
        counts[part.kind] += count
    return _result(ids, references, row_counts, export_ids, erased, added, counts)


def _update_sql(update: RowsUpdate, *, ids_match: str) -> str:
    return (
        f"UPDATE {_quote(update.table)} SET {update.assignments} "
        f"WHERE {_quote(update.column)} {ids_match} RETURNING 1"
    )


def _erase_statement_by_statement(erasure: _Erasure) -> ContactsErased:
    references = erasure.references
    added = suppression_rows_insert(erasure.suppression)
    identifier_counts = Counter()
    with connection.cursor() as cursor:
        cursor.execute(erasure.target_sql, erasure.params)
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        for erased_suppression in erasure.erased_suppressions:
            added += _erased_contacts_suppress(ids, erased_suppression)
    with connection.cursor() as cursor:
        for delete in erasure.identifier_deletes:
            cursor.execute(delete.sql, delete.params)
            identifier_counts[delete.kind] += len(cursor.fetchall())
    if not ids:
        return ContactsErased([], +identifier_counts, [], added)
    placeholders = ", ".join(["%s"] * len(ids))
    row_counts, export_ids, erased = [], set(), 0
    with connection.cursor() as cursor:
        for reference in references:
            sql = _reference_sql(reference, ids_match=f"IN ({placeholders})")
            cursor.execute(sql, ids)
            rows = cursor.fetchall()
            row_counts.append(len(rows))
            if reference.table == CAMPAIGN_EXPORT_TABLE:
                export_ids.update(row[0] for row in rows)
        for update in erasure.updates:
            sql = _update_sql(update, ids_match=f"IN ({placeholders})")
            cursor.execute(sql, update.params + ids)
            identifier_counts[update.kind] += len(cursor.fetchall())
        if not erasure.keep_contacts:
            table = _quote(Contact._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({placeholders})", ids)
            erased = cursor.rowcount
    return _result(
        ids,
        references,
        row_counts,
        sorted(export_ids),
        erased,
        added,
        identifier_counts,
    )


def _erased_contacts_suppress(ids, erased_suppression: ErasedSuppression) -> int:
    """Suppress the identifiers of the contacts about to be erased (other databases)."""
    now = timezone.now()
    rows = {}
    contacts = Contact.objects.filter(pk__in=ids)
    if erased_suppression.statuses:
        contacts = contacts.filter(status__in=erased_suppression.statuses)
    for email_hash, phone_hash in contacts.values_list("email_hash", "phone_hash"):
        for value, kind in (
            (email_hash, SuppressionEntry.Kind.EMAIL),
            (phone_hash, SuppressionEntry.Kind.PHONE),
        ):
            if value:
                rows[value] = (
                    kind,
                    erased_suppression.reason,
                    now,
                    erased_suppression.created_by,
                )
    return suppression_rows_insert(rows)


def _result(
    ids, references, row_counts, export_ids, erased, added, identifier_counts
) -> ContactsErased:
    counts: Counter = Counter(identifier_counts)
    for reference, count in zip(references, row_counts, strict=True):
        if reference.action == PROTECT and count:
            raise ContactsProtected(
                f"Rows of {reference.table} protect contacts being erased "
                f"(column {reference.column}); delete those rows first."
            )
        if reference.action != PROTECT:
            counts[reference.kind] += count
    counts[CONTACT_KIND] += erased
    return ContactsErased(
        contact_ids=list(ids),
        counts=+counts,
        campaign_export_ids=list(export_ids),
        suppression_added=added,
    )


def contacts_erase(
    *,
    contact_ids: Collection[int] = (),
    emails: Collection[str] = (),
    phones: Collection[str] = (),
    within=None,
    keep_contacts: bool = False,
    updates: Sequence[RowsUpdate] = (),
    suppression: dict[str, tuple] | None = None,
    erased_suppressions: Sequence[ErasedSuppression] = (),
    lock_held: bool = False,
    phones_select_contacts: bool = True,
    contact_emails: Collection[str] | None = None,
) -> ContactsErased:
    """Delete the contacts with these ids, e-mails or phones and what refers to them.

    Rows that refer to a contact are deleted or unlinked by their reference's
    rule, and the rows of the apps' ``IDENTIFIER_COLUMNS`` that contain one of
    the e-mails or phones are deleted. A protecting key that still points at one raises
    ``ContactsProtected``, and the caller's transaction must then be rolled
    back. ``within``, a queryset of contacts, limits the erasure to its rows,
    checked when they are locked. With ``keep_contacts`` the contact rows
    themselves stay (the anonymisation path blanks them instead), and
    ``updates`` change rows that refer to the contacts, in the same statement.
    Kept campaign files are not touched here: the result lists the exports
    that named the contacts, for ``campaign_export_files_delete``.
    ``suppression`` holds entries from ``suppression_rows``, added in the same
    statement on PostgreSQL. Each of ``erased_suppressions`` puts the erased
    contacts' own e-mails and phones on the suppression list, or those of the
    contacts with the statuses it names.

    The caller owns the transaction. The contacts write lock is taken first
    and held until it ends, so a running import finishes before the erasure
    starts. A caller that took it already in this transaction passes
    ``lock_held``. With ``phones_select_contacts`` false, the phones still
    select the other apps' rows but no contact. ``contact_emails``, when
    given, are the e-mails that select contacts in place of ``emails``.
    """
    target_sql, params = _target_sql(
        contact_ids=[int(pk) for pk in contact_ids],
        emails=emails if contact_emails is None else contact_emails,
        phones=phones if phones_select_contacts else (),
        within=within,
    )
    if not params and not suppression:
        return ContactsErased([], Counter(), [])
    if not lock_held:
        contacts_write_lock()
    if not params:
        return ContactsErased([], Counter(), [], suppression_rows_insert(suppression))
    erasure = _Erasure(
        target_sql=target_sql,
        params=params,
        references=list(contact_references()),
        identifier_deletes=_identifier_deletes(emails=emails, phones=phones),
        updates=updates,
        keep_contacts=keep_contacts,
        suppression=suppression or {},
        erased_suppressions=erased_suppressions,
    )
    if connection.vendor == "postgresql":
        return _erase_postgresql(erasure)
    return _erase_statement_by_statement(erasure)
