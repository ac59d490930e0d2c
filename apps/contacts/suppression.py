"""The suppression list: people who objected, unsubscribed or were erased.

Only the keyed hash of the normalised identifier is stored. Callers pass
normalised values (``apps.core.identifiers.normalize_email``/``normalize_phone``).
Each identifier has one entry, so an objection that follows an unsubscribe
changes the entry's reason instead of adding a second entry.
"""

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection
from django.db import transaction
from django.utils import timezone

from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.core.identifiers import identifier_hash

Reason = SuppressionEntry.Reason
Kind = SuppressionEntry.Kind
# Rows per INSERT or UPDATE, well under the databases' limits on parameters.
INSERT_CHUNK = 1000
INSERTED_FIELDS = ("identifier_hash", "kind", "reason", "created_at", "created_by")


@dataclass(frozen=True)
class ErasedSuppression:
    """The reason and user with which an erasure suppresses the erased contacts.

    With ``statuses``, only the contacts whose status is one of them are
    suppressed.
    """

    reason: str
    created_by: int | None = None
    statuses: tuple[str, ...] = ()


def suppression_actor_id(actor) -> int | None:
    """Return the id of ``actor`` when it is a signed-in user, else None."""
    return actor.pk if getattr(actor, "is_authenticated", False) else None


def suppression_rows(
    *,
    reason: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    hashes: Mapping[str, str] | None = None,
    actor=None,
) -> dict[str, tuple]:
    """Return the entries for these identifiers: hash to (kind, reason, date, user).

    ``hashes`` maps identifiers already hashed to their kind, for those whose
    clear value is no longer kept.
    """
    created_by = suppression_actor_id(actor)
    now = timezone.now()
    rows = {
        hashed: (kind, reason, now, created_by)
        for hashed, kind in (hashes or {}).items()
    }
    rows.update(
        (identifier_hash(value), (kind, reason, now, created_by))
        for kind, values in ((Kind.EMAIL, emails), (Kind.PHONE, phones))
        for value in values
        if value
    )
    return rows


@dataclass(frozen=True)
class SuppressionRecorded:
    """The changes that one ``suppression_record`` call made to the list.

    ``added`` counts the new entries, ``objected`` the *unsubscribed* entries
    whose reason became *objected*.
    """

    added: int
    objected: int = 0


def suppression_add(
    *,
    reason: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    actor=None,
) -> int:
    """Add the identifiers to the suppression list; return how many were new.

    Repeating an unsubscribe, an objection or an erasure adds no entry. An
    objection also turns an *unsubscribed* entry into an *objected* one, as
    ``suppression_record`` explains.
    """
    recorded = suppression_record(
        reason=reason, emails=emails, phones=phones, actor=actor
    )
    return recorded.added


@transaction.atomic
def suppression_record(
    *,
    reason: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    hashes: Mapping[str, str] | None = None,
    actor=None,
) -> SuppressionRecorded:
    """Add the identifiers to the suppression list and count what changed.

    An objection (GDPR Art. 21) covers every channel and every direct-marketing
    processing, so it also turns an existing *unsubscribed* entry into an
    *objected* one. That entry keeps the date and user of its first listing.
    Entries with any other reason stay as they are, so an *erased* entry keeps
    recording the erasure.
    """
    rows = suppression_rows(
        reason=reason, emails=emails, phones=phones, hashes=hashes, actor=actor
    )
    added = suppression_rows_insert(rows)

    objected = 0
    if reason == Reason.OBJECTED:
        objected = _unsubscribed_entries_object(list(rows))
    return SuppressionRecorded(added=added, objected=objected)


def _unsubscribed_entries_object(hashes: list[str]) -> int:
    """Set the reason of the *unsubscribed* entries among ``hashes`` to *objected*.

    Returns how many entries changed, so a repeated objection counts none.
    """
    unsubscribed = SuppressionEntry.objects.filter(reason=Reason.UNSUBSCRIBED)
    return sum(
        unsubscribed.filter(
            identifier_hash__in=hashes[start : start + INSERT_CHUNK]
        ).update(reason=Reason.OBJECTED)
        for start in range(0, len(hashes), INSERT_CHUNK)
    )


def suppression_rows_insert(rows: dict[str, tuple]) -> int:
    """Insert the entries of ``suppression_rows``; return how many were new."""
    items = list(rows.items())
    return sum(
        _rows_insert_new(dict(items[start : start + INSERT_CHUNK]))
        for start in range(0, len(items), INSERT_CHUNK)
    )


def suppression_insert_sql(rows: dict[str, tuple]) -> tuple[str, list]:
    """Return the INSERT of the entries whose hash is not listed yet.

    ``ON CONFLICT DO NOTHING`` makes a concurrent erasure of the same person
    harmless. ``RETURNING`` yields a row for each entry added, so the
    statement can also run inside a caller's ``WITH`` clause.
    """
    fields = [SuppressionEntry._meta.get_field(name) for name in INSERTED_FIELDS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params = []
    for identifier, values in rows.items():
        for field, value in zip(fields, (identifier, *values), strict=True):
            params.append(field.get_db_prep_save(value, connection))
    table = connection.ops.quote_name(SuppressionEntry._meta.db_table)
    unique = connection.ops.quote_name(fields[0].column)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {placeholders} "
        f"ON CONFLICT ({unique}) DO NOTHING RETURNING 1"
    )
    return sql, params


def _rows_insert_new(rows: dict[str, tuple]) -> int:
    """Insert the entries whose hash is not listed yet; return how many were."""
    sql, params = suppression_insert_sql(rows)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def suppressed_hashes(hashes: Iterable[str]) -> set[str]:
    """Return the subset of ``hashes`` that are on the suppression list."""
    return set(
        SuppressionEntry.objects.filter(identifier_hash__in=list(hashes)).values_list(
            "identifier_hash", flat=True
        )
    )


def is_suppressed(*, email: str = "", phone: str = "") -> bool:
    hashes = [identifier_hash(value) for value in (email, phone) if value]
    return bool(hashes) and bool(suppressed_hashes(hashes))


def restricted_identifiers(*, emails: list[str], phones: list[str]) -> set[str]:
    """Return the e-mails and phones of contacts whose processing is restricted.

    Such a contact leaves every campaign file (GDPR Art. 18), but a sending
    tool that loaded an earlier file still has its identifiers.
    """
    restricted = Contact.objects.filter(status=Contact.Status.RESTRICTED)
    found = set(restricted.filter(email__in=emails).values_list("email", flat=True))
    found.update(restricted.filter(phone__in=phones).values_list("phone", flat=True))
    return found
