"""The lock that serialises bulk writes to the contacts table on PostgreSQL.

An import decides which rows create a contact and which merge into one before
it inserts them, and an erasure or a retention batch deletes contacts and the
rows that refer to them, a running import's staged rows included. Each of them
takes this transaction-level advisory lock before it reads or locks contacts,
so they run one after the other. An import then never misses a contact that
another import is creating, and an erasure never races an import of the same
person.
"""

import time
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db import connection

CONTACTS_WRITE_LOCK_KEY = 0x5245_4749_4D50


# How often a long wait for the lock reports that its caller is alive.
LOCK_WAIT_REPORT_SECONDS = 5.0


def contacts_write_lock(*, on_wait: Callable[[], None] | None = None) -> None:
    """Wait for the contacts write lock and hold it until the transaction ends.

    Call it inside ``transaction.atomic`` before reading or locking contacts.
    A transaction may take it more than once. Other databases serialise
    writers themselves, so this does nothing there. ``on_wait``, when given,
    is called about every ``LOCK_WAIT_REPORT_SECONDS`` while another
    transaction holds the lock, so that a job can show it is waiting, not
    stalled.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if on_wait is None:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [CONTACTS_WRITE_LOCK_KEY]
            )
            return
        while True:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s)", [CONTACTS_WRITE_LOCK_KEY]
            )
            if cursor.fetchone()[0]:
                return
            on_wait()
            time.sleep(LOCK_WAIT_REPORT_SECONDS)


def contacts_export_lock() -> None:
    """Wait until no bulk write runs, then keep writers out until the transaction ends.

    Exports share the lock with each other. An erasure that starts meanwhile
    waits, then finds the export's contact rows and deletes its file.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(%s)", [CONTACTS_WRITE_LOCK_KEY]
        )


def contacts_write_lock_reading(queryset) -> list[tuple]:
    """Take the contacts write lock and return the rows of ``queryset``.

    ``queryset`` is a ``values_list`` queryset. On PostgreSQL the lock and the
    read are one statement, which saves a round trip. The rows are read as
    they were when the statement started, which may be before a running import
    released the lock. Read nothing here that an import writes: only the
    statements that follow see the import's rows.
    """
    if connection.vendor != "postgresql":
        contacts_write_lock()
        return list(queryset)
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        contacts_write_lock()
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rows.* FROM (SELECT pg_advisory_xact_lock(%s)) AS held "
            f"LEFT JOIN (SELECT true AS found, q.* FROM ({sql}) AS q) AS rows "
            "ON true",
            [CONTACTS_WRITE_LOCK_KEY, *params],
        )
        return [row[1:] for row in cursor.fetchall() if row[0]]


CAMPAIGN_CONTACT_WRITES_LOCK_KEY = 0x5245_4743_414D


def campaign_contact_writes_lock() -> None:
    """Wait until no other campaign export that writes to contacts runs.

    An export that records the Art. 14 notice or the message date takes it at
    the start of its transaction and keeps it until the transaction ends. The next such
    export then reads the notice dates that the previous one committed, and
    its file carries the source statement exactly for the contacts whose
    notice it records. Exports of unrelated segments wait for each other too,
    because one lock covers every contact. Erasures and imports do not take
    it. Other databases have no advisory locks, so this does nothing there.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [CAMPAIGN_CONTACT_WRITES_LOCK_KEY]
        )
