"""Fill PostgreSQL with invented contacts fast, for benchmarks.

``seed_contacts`` writes vendors, lists, contacts, provenance rows, consent
records and suppression entries with ``COPY``, so millions of rows take minutes,
not hours. Every name, company and address is invented (``example.com``).

Use it from a benchmark that has Django set up::

    from django.db import connection
    from bench.seed import seed_contacts

    summary = seed_contacts(connection, count=1_000_000, past_limit=50_000)

``connection`` is Django's ``connection`` (autocommit) or a psycopg 3
connection; with psycopg the caller commits. The hash key is read from
``settings.IDENTIFIER_HASH_KEY`` unless ``hash_key`` is given, so the
suppression hashes match what the application computes.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta

FIRST_NAMES = [
    "Camille",
    "Dominique",
    "Claude",
    "Sacha",
    "Alix",
    "Jean",
    "Marie",
    "Louise",
    "Paul",
    "Lucie",
    "Hugo",
    "Emma",
    "Léa",
    "Louis",
    "Chloé",
    "Gabriel",
    "Manon",
    "Arthur",
    "Inès",
    "Jules",
    "Sarah",
    "Adam",
    "Zoé",
    "Raphaël",
    "Jade",
    "Nathan",
    "Clara",
    "Tom",
    "Eva",
    "Lucas",
    "Anna",
    "Théo",
    "Lina",
    "Noé",
    "Rose",
    "Mathis",
    "Alice",
    "Victor",
    "Agathe",
    "Martin",
    "Julie",
    "Simon",
    "Margaux",
    "Antoine",
    "Pauline",
    "Bastien",
    "Elise",
    "Quentin",
    "Marion",
    "Yann",
]
SYLLABLES = [
    "ber",
    "mar",
    "tin",
    "lan",
    "dre",
    "vol",
    "cour",
    "fon",
    "teau",
    "mont",
    "bel",
    "gar",
    "ris",
    "san",
    "vil",
    "leu",
    "chal",
    "pon",
    "rou",
    "mas",
    "dor",
    "nel",
    "fer",
    "bou",
    "lat",
    "ges",
    "pré",
    "cam",
    "nau",
    "sel",
    "val",
    "mor",
    "tal",
    "quer",
    "bri",
    "jou",
    "lem",
]
COMPANY_WORDS = [
    "Atelier",
    "Bureau",
    "Cabinet",
    "Conseil",
    "Industries",
    "Logistique",
    "Services",
    "Solutions",
    "Systèmes",
    "Technologies",
    "Travaux",
    "Transports",
    "Distribution",
    "Ingénierie",
    "Études",
]
JOB_FUNCTIONS = (
    "purchasing",
    "marketing",
    "sales",
    "finance",
    "human_resources",
    "it",
    "management",
    "operations",
    "legal",
    "quality",
)
JOB_TITLES = {
    "purchasing": "Responsable achats",
    "marketing": "Directrice marketing",
    "sales": "Responsable commercial",
    "finance": "Directeur financier",
    "human_resources": "Responsable RH",
    "it": "DSI",
    "management": "Gérant",
    "operations": "Directrice des opérations",
    "legal": "Juriste",
    "quality": "Responsable qualité",
}
COUNTRIES = ("FR",) * 16 + ("BE", "CH", "LU", "DE")
RETENTION_YEARS = 3

CONTACT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "job_title",
    "job_function",
    "company",
    "company_domain",
    "company_registration",
    "postcode",
    "city",
    "country",
    "audience",
    "processing_activity_id",
    "lawful_basis",
    "status",
    "collected_at",
    "last_contact_at",
    "art14_notice_sent_at",
    "last_messaged_at",
    "email_hash",
    "phone_hash",
    "created_at",
    "updated_at",
)


@dataclass
class SeedSummary:
    """Ids and row counts written by ``seed_contacts``."""

    activity_id: int
    vendor_ids: list[int]
    list_ids: list[int]
    first_contact_id: int
    last_contact_id: int
    contacts: int = 0
    provenances: int = 0
    consents: int = 0
    suppression_entries: int = 0
    past_limit: int = 0
    sample_emails: list[str] = field(default_factory=list)


def _keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _default_hash_key() -> bytes:
    from django.conf import settings

    return settings.IDENTIFIER_HASH_KEY.encode()


def _last_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).title()


def _copy_text(value) -> str:
    """Return ``value`` in COPY text format (the generated data has no tabs)."""
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _ensure_activity(cursor, activity_id: int | None) -> int:
    if activity_id is not None:
        return activity_id
    cursor.execute(
        "SELECT id FROM register_processingactivity "
        "WHERE status = 'in_force' ORDER BY id LIMIT 1"
    )
    row = cursor.fetchone()
    if row is not None:
        return row[0]
    # The register's model has many defaults, so the ORM creates the row. This
    # needs Django set up on the same database as ``connection``.
    from apps.register.models import LawfulBasis
    from apps.register.models import ProcessingActivity

    activity, _created = ProcessingActivity.objects.get_or_create(
        reference="BENCH-001",
        defaults={
            "name": "Prospection B2B (benchmark)",
            "purposes": "Prospection commerciale B2B",
            "lawful_basis": LawfulBasis.LEGITIMATE_INTERESTS,
            "legitimate_interest": "Développer la clientèle professionnelle",
            "concerns_recipients_profession": True,
            "status": ProcessingActivity.Status.IN_FORCE,
        },
    )
    return activity.pk


def _create_lists(cursor, *, lists: int, run_tag: str, today) -> tuple[list, list]:
    now = datetime.now(UTC)
    vendor_ids = []
    for number in range(2):
        cursor.execute(
            "INSERT INTO contacts_vendor (name, contact_name, contact_email, "
            "contract_reference, dpa_reference, collection_method, consent_claim, "
            "objection_instructions, created_at) VALUES (%s, '', '', %s, '', %s, "
            "'opt_out', %s, %s) RETURNING id",
            (
                f"Fournisseur banc {run_tag}-{number + 1}",
                f"BENCH-{run_tag}-{number + 1}",
                "Annuaires professionnels publics",
                "Écrire à opposition@fournisseur.example.com",
                now,
            ),
        )
        vendor_ids.append(cursor.fetchone()[0])

    list_ids = []
    for number in range(lists):
        rental = number % 3 == 2
        cursor.execute(
            "INSERT INTO contacts_contactlist (vendor_id, name, acquisition, "
            "acquired_on, licence_ends_on, collection_method, consent_claim, "
            "file_name, file_sha256, row_count, created_count, merged_count, "
            "created_at) VALUES (%s, %s, %s, %s, %s, '', 'opt_out', '', '', 0, 0, "
            "0, %s) RETURNING id",
            (
                vendor_ids[number % 2],
                f"Liste banc {run_tag}-{number + 1}",
                "rental" if rental else "purchase",
                today - timedelta(days=200 + number),
                today + timedelta(days=365) if rental else None,
                now,
            ),
        )
        list_ids.append(cursor.fetchone()[0])
    return vendor_ids, list_ids


def _contact_row(index, contact_id, *, rng, key, activity_id, now, is_past):
    first = rng.choice(FIRST_NAMES)
    last = _last_name(rng)
    company_number = rng.randrange(200_000)
    company = f"{rng.choice(COMPANY_WORDS)} {_last_name(rng)} {company_number}"
    domain = f"entreprise{company_number}.example.com"
    ascii_first = first.lower().translate(str.maketrans("éèëïô", "eeeio"))
    email = f"{ascii_first}.{last.lower()}.{contact_id}@{domain}"
    phone = f"+336{contact_id % 100_000_000:08d}"
    function = rng.choice(JOB_FUNCTIONS)
    b2c = index % 10 == 9

    if is_past:
        collected = now - timedelta(days=365 * RETENTION_YEARS + rng.randint(30, 700))
        last_contact = None
    else:
        collected = now - timedelta(days=rng.randint(1, 365 * RETENTION_YEARS - 30))
        last_contact = (
            now - timedelta(days=rng.randint(1, 300)) if index % 10 == 3 else None
        )
    status = "restricted" if index % 97 == 0 else "active"

    return (
        contact_id,
        first,
        last,
        email,
        phone,
        JOB_TITLES[function],
        function,
        company,
        domain,
        "",
        f"{rng.randint(1, 95):02d}{rng.randint(0, 999):03d}",
        "Lyon",
        rng.choice(COUNTRIES),
        "b2c" if b2c else "b2b",
        activity_id,
        "consent" if b2c else "legitimate_interests",
        status,
        collected,
        last_contact,
        None,
        None,
        _keyed_hash(key, email),
        _keyed_hash(key, phone),
        now,
        now,
    )


def _set_sequence(cursor, table: str) -> None:
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
    )


def _secondary_indexes(cursor) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE i.tablename = 'contacts_contact' AND NOT x.indisprimary "
        "AND NOT x.indisunique"
    )
    return list(cursor.fetchall())


def seed_contacts(
    connection,
    *,
    count: int,
    past_limit: int = 0,
    suppressed: int | None = None,
    lists: int = 6,
    activity_id: int | None = None,
    hash_key: bytes | None = None,
    defer_indexes: bool = False,
    batch_size: int = 50_000,
    random_seed: int = 4,
) -> SeedSummary:
    """Insert ``count`` invented contacts with provenance, consents and suppression.

    ``past_limit`` contacts (the first ones written) were collected more than
    three years ago with no later contact, so the retention job must remove
    them. ``suppressed`` contacts (default 1 %) get a suppression entry and the
    status ``unsubscribed``. One contact in ten is B2C with a ``consent`` basis,
    and half of those have a granted e-mail consent. Every contact comes from
    one list and one in five also from a second list.

    With ``defer_indexes`` the secondary indexes of ``contacts_contact`` are
    dropped before the copy and created again after it, which is several times
    faster for millions of rows. Raises ``ValueError`` for a negative count or
    a ``past_limit`` larger than ``count``.
    """
    if count < 0:
        raise ValueError(f"count={count} is invalid: pass 0 or more contacts.")
    if not 0 <= past_limit <= count:
        raise ValueError(
            f"past_limit={past_limit} is invalid: pass a number from 0 to "
            f"count ({count})."
        )
    if suppressed is None:
        suppressed = count // 100
    key = hash_key or _default_hash_key()
    rng = random.Random(random_seed)
    now = datetime.now(UTC)
    run_tag = f"{now:%Y%m%d%H%M%S}{rng.randrange(1000):03d}"

    with connection.cursor() as cursor:
        activity_id = _ensure_activity(cursor, activity_id)
        vendor_ids, list_ids = _create_lists(
            cursor, lists=max(lists, 1), run_tag=run_tag, today=now.date()
        )
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM contacts_contact")
        first_id = cursor.fetchone()[0] + 1
        dropped = _secondary_indexes(cursor) if defer_indexes else []
        for name, _definition in dropped:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')

        summary = SeedSummary(
            activity_id=activity_id,
            vendor_ids=vendor_ids,
            list_ids=list_ids,
            first_contact_id=first_id,
            last_contact_id=first_id + count - 1,
            past_limit=past_limit,
        )
        # Spread the suppressed contacts evenly over the whole id range.
        suppress_every = max(count // suppressed, 1) if suppressed else 0
        for start in range(0, count, batch_size):
            stop = min(start + batch_size, count)
            _copy_batch(
                cursor,
                summary,
                range(start, stop),
                rng=rng,
                key=key,
                now=now,
                suppress_every=suppress_every,
                suppressed=suppressed,
            )

        if dropped:
            cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in dropped:
            cursor.execute(definition)
        _set_sequence(cursor, "contacts_contact")
        _set_sequence(cursor, "contacts_provenance")
        _set_sequence(cursor, "contacts_consentrecord")
        # Fresh statistics matter: with none on the consent table, PostgreSQL
        # misjudged the contactable filter and a page took 0.6 s instead of 10 ms.
        for table in (
            "contacts_contact",
            "contacts_provenance",
            "contacts_consentrecord",
            "contacts_contactlist",
            "contacts_suppressionentry",
        ):
            cursor.execute(f"ANALYZE {table}")
    return summary


def _copy_batch(cursor, summary, indexes, *, rng, key, now, suppress_every, suppressed):
    contact_lines = []
    provenance_lines = []
    consent_lines = []
    suppression_lines = []
    list_ids = summary.list_ids
    for index in indexes:
        contact_id = summary.first_contact_id + index
        row = list(
            _contact_row(
                index,
                contact_id,
                rng=rng,
                key=key,
                activity_id=summary.activity_id,
                now=now,
                is_past=index < summary.past_limit,
            )
        )
        is_suppressed = (
            suppress_every
            and index % suppress_every == suppress_every - 1
            and summary.suppression_entries < suppressed
        )
        if is_suppressed:
            row[16] = "unsubscribed"
            suppression_lines.append(f"{row[21]}\temail\tunsubscribed\t{now}\t\\N\n")
            summary.suppression_entries += 1
        contact_lines.append("\t".join(_copy_text(value) for value in row) + "\n")

        home_list = list_ids[index % len(list_ids)]
        provenance_lines.append(f"{contact_id}\t{home_list}\t{index + 2}\t{now}\n")
        if index % 5 == 0 and len(list_ids) > 1:
            other_list = list_ids[(index + 1) % len(list_ids)]
            provenance_lines.append(f"{contact_id}\t{other_list}\t{index + 2}\t{now}\n")
        if index % 20 == 9:
            consent_lines.append(
                f"{contact_id}\temail\tgranted\t{row[17].isoformat()}\t"
                "Case cochée sur le formulaire du fournisseur\n"
            )
        if len(summary.sample_emails) < 200 and rng.random() < 0.01:
            summary.sample_emails.append(row[3])

    columns = ", ".join(CONTACT_COLUMNS)
    _copy(cursor, f"COPY contacts_contact ({columns}) FROM STDIN", contact_lines)
    _copy(
        cursor,
        "COPY contacts_provenance (contact_id, contact_list_id, row_number, "
        "imported_at) FROM STDIN",
        provenance_lines,
    )
    _copy(
        cursor,
        "COPY contacts_consentrecord (contact_id, channel, state, recorded_at, "
        "evidence) FROM STDIN",
        consent_lines,
    )
    _copy(
        cursor,
        "COPY contacts_suppressionentry (identifier_hash, kind, reason, "
        "created_at, created_by_id) FROM STDIN",
        suppression_lines,
    )
    summary.contacts += len(contact_lines)
    summary.provenances += len(provenance_lines)
    summary.consents += len(consent_lines)


def _copy(cursor, statement: str, lines: list[str]) -> None:
    if not lines:
        return
    with cursor.copy(statement) as copy:
        copy.write("".join(lines))
