import base64
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.contacts.models import STATUSES_NOT_ANONYMISED
from apps.contacts.models import Contact
from apps.contacts.selectors import InvalidQuery
from apps.contacts.selectors import contact_page
from apps.contacts.selectors import contact_search
from apps.contacts.services import contact_hashes_fill
from apps.contacts.services import contact_unsubscribe
from tests.contacts.factories import ActivityFactory
from tests.contacts.factories import ContactFactory
from tests.contacts.factories import ProvenanceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TABLE_SIZE = 1200
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def large_table():
    """Rows written by one ``bulk_create``, which skips ``save()``, so the
    identifier hashes are filled afterwards as an importer would."""
    activity = ActivityFactory()
    now = timezone.now()
    Contact.objects.bulk_create(
        Contact(
            first_name="Léa",
            last_name=f"Nom{number % 97:02d}",
            email=f"lea{number}@example.com",
            company=f"Société {number % 13}",
            processing_activity=activity,
            lawful_basis="legitimate_interests",
            collected_at=now,
        )
        for number in range(TABLE_SIZE)
    )
    contact_hashes_fill()
    return Contact.objects.all()


@pytest.mark.parametrize("sort", ["newest", "name", "company"])
def test_keyset_walks_all_rows_once(large_table, sort):
    seen = []
    after = ""
    while True:
        page = contact_page(large_table, sort=sort, after=after, size=100)
        seen.extend(contact.pk for contact in page.rows)
        if not page.next_cursor:
            break
        after = page.next_cursor

    assert len(seen) == TABLE_SIZE
    assert len(set(seen)) == TABLE_SIZE


@pytest.mark.parametrize("sort", ["newest", "name"])
def test_deep_page_uses_no_offset(large_table, sort):
    after = ""
    for _ in range(10):
        after = contact_page(large_table, sort=sort, after=after, size=100).next_cursor

    with CaptureQueriesContext(connection) as captured:
        page = contact_page(large_table, sort=sort, after=after, size=100)

    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert len(page.rows) == 100
    assert "OFFSET" not in sql.upper()
    assert "LIMIT 101" in sql


@pytest.fixture
def blank_names():
    """Contacts whose last name or company is blank, mixed with named ones."""
    for number, name in enumerate(["Morel", "", "Bernard", "", "Zola", "Adam"] * 2):
        ContactFactory(last_name=name, company=name and f"{name} SA{number}")
    return Contact.objects.all()


def _walk_forward(queryset, sort: str, size: int) -> list:
    pages = [contact_page(queryset, sort=sort, size=size)]
    while pages[-1].next_cursor:
        pages.append(
            contact_page(queryset, sort=sort, after=pages[-1].next_cursor, size=size)
        )
    return pages


def _ids(page) -> list[int]:
    return [contact.pk for contact in page.rows]


@pytest.mark.parametrize("sort, field", [("name", "last_name"), ("company", "company")])
def test_text_sort_puts_blank_last(blank_names, sort, field):
    pages = _walk_forward(blank_names, sort, size=5)

    values = [getattr(row, field) for page in pages for row in page.rows]
    ids = [pk for page in pages for pk in _ids(page)]
    blank_ids = sorted(blank_names.filter(**{field: ""}).values_list("pk", flat=True))
    assert values[:8] == sorted(values[:8])
    assert all(values[:8])
    assert values[8:] == ["", "", "", ""]
    assert ids[8:] == blank_ids


@pytest.mark.parametrize("sort", ["newest", "name", "company"])
def test_previous_walks_back_same_pages(blank_names, sort):
    forward = _walk_forward(blank_names, sort, size=5)

    backward = [forward[-1]]
    while backward[-1].previous_cursor:
        backward.append(
            contact_page(
                blank_names,
                sort=sort,
                before=backward[-1].previous_cursor,
                size=5,
            )
        )

    assert [_ids(page) for page in reversed(backward)] == [
        _ids(page) for page in forward
    ]
    assert backward[-1].is_first
    assert not any(page.is_first for page in backward[:-1])


def test_previous_of_short_start_is_whole_first_page(blank_names):
    first = contact_page(blank_names, sort="name", size=5)
    # A page that starts at the third row has only two rows before it.
    two_rows = contact_page(blank_names, sort="name", size=2)
    third_row = contact_page(
        blank_names, sort="name", after=two_rows.next_cursor, size=1
    )

    page = contact_page(
        blank_names, sort="name", before=third_row.previous_cursor, size=5
    )

    assert _ids(page) == _ids(first)
    assert page.is_first
    assert page.previous_cursor == ""


@pytest.mark.parametrize("sort", ["newest", "name"])
def test_previous_page_uses_no_offset(large_table, sort):
    after = ""
    for _ in range(3):
        after = contact_page(large_table, sort=sort, after=after, size=100).next_cursor
    page = contact_page(large_table, sort=sort, after=after, size=100)

    with CaptureQueriesContext(connection) as captured:
        previous = contact_page(
            large_table, sort=sort, before=page.previous_cursor, size=100
        )

    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert len(previous.rows) == 100
    assert "OFFSET" not in sql.upper()
    assert "LIMIT 101" in sql


def test_cursors_together_rejected(blank_names):
    first = contact_page(blank_names, sort="name", size=5)

    with pytest.raises(InvalidQuery, match="first page"):
        contact_page(
            blank_names,
            sort="name",
            after=first.next_cursor,
            before=first.next_cursor,
        )


def test_newest_cursor_rejected_by_name_sort(blank_names):
    cursor = contact_page(blank_names, sort="newest", size=5).next_cursor

    with pytest.raises(InvalidQuery, match="invalid"):
        contact_page(blank_names, sort="name", after=cursor)


def test_previous_link_returns_to_first_page(large_table, sales_user, client_for):
    client = client_for(sales_user)
    url = reverse("contacts:contact-list")

    first = client.get(url, {"sort": "name"}, headers=ENGLISH)
    second = client.get(
        url, {"sort": "name", "after": first.context["page"].next_cursor}
    )
    previous_cursor = second.context["page"].previous_cursor
    back = client.get(url, {"sort": "name", "before": previous_cursor})

    assert 'rel="prev"' not in first.content.decode()
    assert f"before={previous_cursor}" in second.content.decode()
    assert 'rel="prev"' in second.content.decode()
    assert _ids(back.context["page"]) == _ids(first.context["page"])
    assert back.context["first_page"] is True


def test_list_view_has_no_full_count(large_table, sales_user, client_for):
    client = client_for(sales_user)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("contacts:contact-list"), headers=ENGLISH)

    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert response.status_code == 200
    assert counts
    assert all("LIMIT 1001" in sql for sql in counts)
    assert all("OFFSET" not in q["sql"] for q in captured.captured_queries)
    assert "More than 1000" in response.content.decode()


def test_list_view_speaks_french_by_default(large_table, sales_user, client_for):
    response = client_for(sales_user).get(reverse("contacts:contact-list"))

    content = response.content.decode()
    assert "Plus de 1000 contacts correspondent." in content
    assert "Exporter un fichier de campagne" in content


def test_next_link_reaches_second_page(large_table, sales_user, client_for):
    client = client_for(sales_user)

    first = client.get(reverse("contacts:contact-list"), {"sort": "name"})
    cursor = first.context["page"].next_cursor
    second = client.get(
        reverse("contacts:contact-list"), {"sort": "name", "after": cursor}
    )

    first_ids = {contact.pk for contact in first.context["page"].rows}
    second_ids = {contact.pk for contact in second.context["page"].rows}
    assert len(second_ids) == 50
    assert not first_ids & second_ids


def test_damaged_cursor_shows_error(sales_user, client_for):
    response = client_for(sales_user).get(
        reverse("contacts:contact-list"), {"after": "not-a-cursor!!"}, headers=ENGLISH
    )

    assert response.status_code == 200
    assert "first page" in response.context["search_error"]


def test_fragment_probe_uses_trigram_index(large_table):
    with CaptureQueriesContext(connection) as captured:
        queryset = contact_search(large_table, "nom96")
    probe = next(
        query["sql"]
        for query in captured.captured_queries
        if "LIKE" in query["sql"] and "newest" not in query["sql"]
    )

    with connection.cursor() as cursor:
        # The same planner settings as the probe itself.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + probe)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "contact_search_text_trgm_idx" in plan
    assert "LIKE" not in str(queryset.query)
    assert queryset.count() == 12


def test_frequent_fragment_keeps_plain_filter(large_table, monkeypatch):
    monkeypatch.setattr("apps.contacts.selectors.FRAGMENT_PROBE_LIMIT", 5)

    queryset = contact_search(large_table, "nom96")

    assert "LIKE" in str(queryset.query)
    assert queryset.count() == 12


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LEA7@Example.com", 1),
        ("  lea7@example.com ", 1),
        # "Société 1", "… 10", "… 11" and "… 12": 93 + 3 × 92 rows.
        ("société 1", 369),
        ("NOM96", 12),
    ],
)
def test_search_matches(large_table, text, expected):
    assert contact_search(large_table, text).count() == expected


@pytest.mark.parametrize("text", ["ab", "x@", "06 12"])
def test_search_rejects_bad_text(large_table, text):
    with pytest.raises(InvalidQuery, match="|".join(["3", "valid", "phone"])):
        contact_search(large_table, text)


def test_contact_page_shows_reasons(sales_user, client_for):
    contact = ContactFactory()
    ProvenanceFactory(contact=contact)
    contact_unsubscribe(contact=contact, source="test")

    response = client_for(sales_user).get(
        reverse("contacts:contact-detail", args=[contact.pk]), headers=ENGLISH
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-verdict="no"' in content
    assert "The person unsubscribed." in content
    assert "e-mail address or phone number is on the suppression list" in content
    assert "contacts.contact.unsubscribed" in content


@pytest.mark.parametrize(
    "url_name",
    ["contacts:contact-list", "contacts:vendor-list", "contacts:contactlist-list"],
)
def test_outsider_gets_403(outsider, client_for, url_name):
    response = client_for(outsider).get(reverse(url_name))

    assert response.status_code == 403


def test_anonymous_redirected_to_login(client):
    response = client.get(reverse("contacts:contact-list"))

    assert response.status_code == 302
    assert "/login/" in response.url


def test_compliance_officer_sees_lists_not_contacts(compliance_officer, client_for):
    client = client_for(compliance_officer)

    assert client.get(reverse("contacts:contactlist-list")).status_code == 200
    assert client.get(reverse("contacts:contact-list")).status_code == 403


def test_list_page_shows_opt_out_rate(sales_user, client_for):
    provenance = ProvenanceFactory()
    ProvenanceFactory(contact_list=provenance.contact_list)
    contact_unsubscribe(contact=provenance.contact, source="test")

    response = client_for(sales_user).get(
        reverse("contacts:contactlist-detail", args=[provenance.contact_list.pk])
    )

    assert response.status_code == 200
    assert response.context["rate"] == 50.0


def test_hashes_fill_repairs_bulk_rows(large_table):
    assert not large_table.filter(email_hash="").exists()
    assert contact_hashes_fill() == 0


def test_fill_hashes_command_prints_json(capsys):
    contact = ContactFactory()
    Contact.objects.filter(pk=contact.pk).update(email_hash="")

    call_command("fill_contact_hashes")

    contact.refresh_from_db()
    assert capsys.readouterr().out.strip() == '{"contacts_filled": 1}'
    assert contact.email_hash


def test_common_fragment_skips_probe(large_table):
    with CaptureQueriesContext(connection) as captured:
        queryset = contact_search(large_table, "léa")

    assert len(captured.captured_queries) == 1
    assert "LIKE" in str(queryset.query)
    assert queryset.count() == TABLE_SIZE


def test_fragment_search_counts_one_page(large_table, sales_user, client_for):
    response = client_for(sales_user).get(
        reverse("contacts:contact-list"), {"q": "léa"}, headers=ENGLISH
    )

    assert response.context["count"] == 50
    assert response.context["count_more"] is True
    assert "More than 50 contacts match." in response.content.decode()


def test_statuses_not_anonymised_lists_every_other_status():
    expected = set(Contact.Status.values) - {Contact.Status.ANONYMISED}
    assert set(STATUSES_NOT_ANONYMISED) == expected


@pytest.mark.parametrize("sort", ["name", "company"])
def test_sort_by_name_or_company_leaves_out_anonymised(sort, sales_user, client_for):
    named = ContactFactory(last_name="Martin", company="Société Martin")
    anonymised = ContactFactory(
        last_name="", company="", status=Contact.Status.ANONYMISED
    )

    response = client_for(sales_user).get(
        reverse("contacts:contact-list"), {"sort": sort}, headers=ENGLISH
    )

    rows = [contact.pk for contact in response.context["page"].rows]
    assert rows == [named.pk]
    assert response.context["count"] == 1
    assert "leaves out anonymised contacts" in response.content.decode()
    newest = client_for(sales_user).get(
        reverse("contacts:contact-list"), {"sort": "newest"}, headers=ENGLISH
    )
    assert {contact.pk for contact in newest.context["page"].rows} == {
        named.pk,
        anonymised.pk,
    }
    assert "leaves out anonymised contacts" not in newest.content.decode()


def test_name_sort_uses_its_index(large_table):
    with CaptureQueriesContext(connection) as captured:
        contact_page(large_table, sort="name")
    sql = captured.captured_queries[-1]["sql"]

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "contact_last_name_id_idx" in plan
    assert "Sort" not in plan


@pytest.mark.parametrize(
    ("sort", "values"), [("name", ["\u0000", 1]), ("newest", [2**70, 2**70])]
)
def test_crafted_cursor_shows_error(sales_user, client_for, sort, values):
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()

    response = client_for(sales_user).get(
        reverse("contacts:contact-list"),
        {"sort": sort, "after": cursor.rstrip("=")},
        headers=ENGLISH,
    )

    assert response.status_code == 200
    assert "first page" in response.context["search_error"]
