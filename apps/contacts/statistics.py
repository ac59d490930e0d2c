"""PostgreSQL's statistics of the tables that the contactable rule reads.

The campaign export and the contact pages filter contacts with the
contactable rule, which joins contacts, provenance, consent records, the
suppression list and the processing activities. With a table that has no
statistics, the planner can take a segment of 200,000 contacts for one row and
read provenance whole for each contact. A campaign export of such a segment ran
for over seven minutes without finishing, and took seconds once analysed.
"""

from django.db import connection

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.contacts.models import SuppressionEntry
from apps.register.models import ProcessingActivity

MODELS = (Contact, Provenance, ConsentRecord, SuppressionEntry, ProcessingActivity)


def _tables() -> list[str]:
    return [model._meta.db_table for model in MODELS]


def contact_statistics_refresh() -> None:
    """Analyse every table of the rule, after writes that autovacuum has not seen.

    Autovacuum analyses a table only some time after large writes, and an
    import wants its rows planned well at once.
    """
    if connection.vendor != "postgresql":
        return
    quoted = ", ".join(map(connection.ops.quote_name, _tables()))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {quoted}")


def contact_statistics_ensure() -> list[str]:
    """Analyse the tables of the rule that were never analysed; return their names.

    Autovacuum analyses a table after 50 changed rows at the earliest, so a
    new install's few consent records or suppression entries may have none.
    """
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
            "AND last_analyze IS NULL AND last_autoanalyze IS NULL",
            [_tables()],
        )
        missing = [name for (name,) in cursor.fetchall()]
        if missing:
            quoted = ", ".join(map(connection.ops.quote_name, missing))
            cursor.execute(f"ANALYZE {quoted}")
    return missing
