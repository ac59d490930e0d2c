import pytest
from django.db import connection
from django.db.utils import ConnectionHandler
from django.urls import reverse
from django.utils import timezone

from apps.contacts.models import Contact
from apps.contacts.search import fold_search_text
from apps.contacts.selectors import InvalidQuery
from apps.contacts.selectors import contact_search
from tests.contacts.factories import ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SEARCHES = [
    ("Émile", 2),
    ("émile", 2),
    ("EMILE", 2),
    ("emile", 2),
    ("Ines", 1),
    ("INÈS", 1),
    ("oeuvres", 1),
    ("paul.durand369", 1),
    ("PAUL.DURAND", 1),
    ("paul.durand369@example.com", 1),
]


@pytest.fixture
def accented_contacts():
    ContactFactory(
        first_name="Émile", last_name="Moreau", company="", email="e.moreau@example.com"
    )
    ContactFactory(first_name="émile", last_name="Roux", email="e.roux@example.com")
    ContactFactory(first_name="Inès", last_name="Petit", company="Œuvres Sociales")
    ContactFactory(
        first_name="Paul", last_name="Durand", email="paul.durand369@example.com"
    )
    return Contact.objects.all()


@pytest.mark.parametrize("text, expected", SEARCHES)
def test_search_ignores_case_and_accents(accented_contacts, text, expected):
    assert contact_search(accented_contacts, text).count() == expected


def test_search_text_is_folded(accented_contacts):
    contact = accented_contacts.get(last_name="Moreau")

    assert contact.search_text == "emile moreau  e.moreau"


def test_search_text_set_by_bulk_create():
    Contact.objects.bulk_create(
        [Contact(first_name="Zoé", last_name="Lefèvre", collected_at=timezone.now())]
    )

    assert contact_search(Contact.objects.all(), "zoe lefevre").count() == 1


def test_fold_handles_decomposed_input():
    # "e" followed by a combining acute accent, as some keyboards send it.
    assert fold_search_text("E\u0301mile") == "emile"
    assert fold_search_text("Straße Œuf") == "strasse oeuf"


@pytest.fixture
def sqlite_connection():
    """A Django SQLite connection with the contacts table, outside the test DB."""
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )
    sqlite = handler["default"]
    with sqlite.schema_editor() as editor:
        editor.create_model(Contact)
    # The register tables that Contact references are not created here.
    sqlite.disable_constraint_checking()
    yield sqlite
    sqlite.close()


@pytest.mark.parametrize("text, expected", SEARCHES)
def test_sqlite_search_ignores_accents(sqlite_connection, monkeypatch, text, expected):
    # The selector picks its plan from the default connection's vendor.
    monkeypatch.setattr("apps.contacts.selectors.connection", sqlite_connection)
    rows = [
        ("Émile", "Moreau", "", "e.moreau@example.com"),
        ("émile", "Roux", "", "e.roux@example.com"),
        ("Inès", "Petit", "Œuvres Sociales", ""),
        ("Paul", "Durand", "", "paul.durand369@example.com"),
    ]
    with sqlite_connection.cursor() as cursor:
        for first_name, last_name, company, email in rows:
            cursor.execute(
                "INSERT INTO contacts_contact (first_name, last_name, company, "
                "email, phone, job_title, job_function, company_domain, "
                "company_registration, postcode, city, country, audience, "
                "lawful_basis, status, collected_at, email_hash, phone_hash, "
                "created_at, updated_at) VALUES (%s, %s, %s, %s, '', '', '', "
                "'', '', '', '', '', 'b2b', '', 'active', %s, '', '', %s, %s)",
                [first_name, last_name, company, email]
                + [timezone.now().isoformat()] * 3,
            )
        queryset = contact_search(Contact.objects.all(), text).values("pk")
        sql, params = queryset.query.get_compiler(connection=sqlite_connection).as_sql()
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS found", params)

        assert cursor.fetchone()[0] == expected


def test_sqlite_stores_folded_text(sqlite_connection):
    with sqlite_connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_contact (first_name, last_name, company, "
            "email, phone, job_title, job_function, company_domain, "
            "company_registration, postcode, city, country, audience, "
            "lawful_basis, status, collected_at, email_hash, phone_hash, "
            "created_at, updated_at) VALUES ('Émile', 'MOREAU', 'Ça Va', "
            "'e.m@example.com', '', '', '', '', '', '', '', '', 'b2b', '', "
            "'active', %s, '', '', %s, %s)",
            [timezone.now().isoformat()] * 3,
        )
        cursor.execute("SELECT search_text FROM contacts_contact")

        assert cursor.fetchone()[0] == "emile moreau ca va e.m"


@pytest.fixture
def analysed_contacts():
    for number in range(60):
        ContactFactory(
            email=f"lookup{number}@example.com",
            phone=f"+336123456{number:02d}",
            processing_activity=None,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
    return Contact.objects.all()


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    "lookup, value, index",
    [
        ("email", "lookup7@example.com", "contact_email_idx"),
        ("phone", "+33612345607", "contact_phone_idx"),
    ],
)
def test_exact_lookup_uses_btree_index(analysed_contacts, lookup, value, index):
    plan = _plan(analysed_contacts.filter(**{lookup: value}))

    assert index in plan


def test_contact_table_has_no_pattern_ops_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'contacts_contact'"
        )
        names = {row[0] for row in cursor.fetchall()}

    assert not [name for name in names if name.endswith("_like")]
    assert "contact_company_idx" not in names
    assert "contact_company_id_idx" in names


def test_connection_runs_without_jit():
    # Page queries rely on the connection option rather than a per-query switch.
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        setting = cursor.fetchone()[0]

    assert setting == "off"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("@example.com", "nothing before the @ sign"),
        ("ana@", "nothing after the @ sign"),
        ("ana@example", "no dot in the domain after the @ sign"),
    ],
)
def test_bad_address_search_gives_reason(text, reason):
    with pytest.raises(InvalidQuery) as raised:
        contact_search(Contact.objects.all(), text)

    message = str(raised.value)
    assert f"“{text}”" in message
    assert f"({reason})" in message
    assert "jean.dupont@company.com" in message
    assert "@-sign" not in message


def test_reserved_domain_search_hint_in_french(sales_user, client_for):
    response = client_for(sales_user).get(
        reverse("contacts:contact-list"), {"q": "dates@example.test"}
    )

    error = response.context["search_error"]
    assert "un domaine réservé" in error
    assert "jean.dupont@entreprise.fr" in error
    assert "example.com" not in error


def test_bad_address_search_in_french(sales_user, client_for):
    response = client_for(sales_user).get(
        reverse("contacts:contact-list"), {"q": "@example.com"}
    )

    error = response.context["search_error"]
    assert "rien avant le signe @" in error
    assert "There must be something" not in error


def test_bad_phone_search_names_text():
    with pytest.raises(InvalidQuery) as raised:
        contact_search(Contact.objects.all(), "06 12")

    message = str(raised.value)
    assert "“06 12”" in message
    assert "06 12 34 56 78" in message
    assert "phonenumbers" not in message
    assert "The string supplied" not in message
