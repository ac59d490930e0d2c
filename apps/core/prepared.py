"""Prepared statements on PostgreSQL for the few hot statements that are large.

PostgreSQL plans a statement on every execution unless it is prepared. For a
statement of a dozen sub-statements, planning costs more than running it, so
the hot ones are prepared once per database connection and then executed by
name. Other databases run the statement as usual.
"""

import hashlib
import weakref
from collections.abc import Sequence

from django.db import connection

# Names prepared on each open database connection (the driver's object).
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _statement_name(sql: str, types: Sequence[str]) -> str:
    digest = hashlib.sha256(f"{types}|{sql}".encode()).hexdigest()[:16]
    return f"registre_{digest}"


def execute_prepared(cursor, sql: str, params: Sequence, types: Sequence[str]):
    """Execute ``sql`` with ``params`` as a statement prepared on this connection.

    ``sql`` refers to its parameters as ``$1``, ``$2``, … and ``types`` gives
    their PostgreSQL types, in order. The statement is prepared the first time
    this connection runs it; later calls only send ``EXECUTE``.
    """
    if connection.vendor != "postgresql":
        raise ValueError("execute_prepared needs PostgreSQL.")
    name = _statement_name(sql, types)
    raw = connection.connection
    names = _prepared.setdefault(raw, set())
    if name not in names:
        cursor.execute(f"PREPARE {name}({', '.join(types)}) AS {sql}")
        names.add(name)
    placeholders = ", ".join(["%s"] * len(params))
    cursor.execute(f"EXECUTE {name}({placeholders})", list(params))
