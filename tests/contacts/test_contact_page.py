import re

import pytest
from django.urls import reverse

from apps.contacts.models import Contact
from tests.contacts.factories import ContactFactory
from tests.contacts.factories import ContactListFactory
from tests.contacts.factories import VendorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ENGLISH = {"Accept-Language": "en"}


def _detail(client, contact, headers=ENGLISH):
    response = client.get(
        reverse("contacts:contact-detail", args=[contact.pk]), headers=headers
    )
    assert response.status_code == 200
    return response.content.decode()


def _heading(content: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", content, re.S).group(1).strip()


def _title(content: str) -> str:
    return re.search(r"<title>(.*?)</title>", content, re.S).group(1)


def test_detail_shows_stored_fields(sales_user, client_for):
    contact = ContactFactory(
        first_name="Ana",
        last_name="Martin",
        phone="+33612345678",
        job_title="Directrice achats",
        job_function="Achats",
        company="Exemple SARL",
        company_domain="exemple.example.com",
        company_registration="73282932000074",
        postcode="69002",
        city="Lyon",
        country="FR",
    )

    content = _detail(client_for(sales_user), contact)

    for label, value in [
        ("First name", "Ana"),
        ("Last name", "Martin"),
        ("Phone", "+33612345678"),
        ("Job title", "Directrice achats"),
        ("Job function", "Achats"),
        ("Company", "Exemple SARL"),
        ("Company domain", "exemple.example.com"),
        ("SIRET or SIREN", "73282932000074"),
        ("Postcode", "69002"),
        ("City", "Lyon"),
        ("Country", "FR"),
    ]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in content


def test_detail_labels_in_french(sales_user, client_for):
    contact = ContactFactory(postcode="69002", city="Lyon")

    content = _detail(client_for(sales_user), contact, headers={})

    assert "<dt>Code postal</dt><dd>69002</dd>" in content
    assert "<dt>Ville</dt><dd>Lyon</dd>" in content


def test_nameless_contact_titled_by_email(sales_user, client_for):
    contact = ContactFactory(
        first_name="", last_name="", job_title="", company="Exemple SARL"
    )

    content = _detail(client_for(sales_user), contact)

    assert _heading(content) == contact.email
    assert contact.email in _title(content)
    assert f"#{contact.pk}" not in _title(content)
    assert '<p class="lead">Exemple SARL</p>' in content


def test_nameless_contact_titled_by_phone(sales_user, client_for):
    contact = ContactFactory(
        first_name="", last_name="", email="", phone="+33612345678"
    )

    content = _detail(client_for(sales_user), contact)

    assert _heading(content) == "+33612345678"


def test_contact_without_identifiers_titled_by_id(sales_user, client_for):
    contact = ContactFactory(
        first_name="", last_name="", email="", job_title="", company=""
    )

    content = _detail(client_for(sales_user), contact)

    assert _heading(content) == f"Contact {contact.pk}"
    assert f"Contact {contact.pk}" in _title(content)
    assert 'class="lead"' not in content


def test_lead_line_joins_title_and_company(sales_user, client_for):
    contact = ContactFactory(job_title="Acheteuse", company="Exemple SARL")

    content = _detail(client_for(sales_user), contact)

    assert '<p class="lead">Acheteuse · Exemple SARL</p>' in content


def test_lead_line_without_company(sales_user, client_for):
    contact = ContactFactory(job_title="Acheteuse", company="")

    content = _detail(client_for(sales_user), contact)

    assert '<p class="lead">Acheteuse</p>' in content


def test_list_names_nameless_contact_by_email(sales_user, client_for):
    contact = ContactFactory(first_name="", last_name="")

    response = client_for(sales_user).get(
        reverse("contacts:contact-list"), headers=ENGLISH
    )

    content = response.content.decode()
    link = reverse("contacts:contact-detail", args=[contact.pk])
    assert re.search(rf'<a href="{link}">\s*{re.escape(contact.email)}\s*</a>', content)


def _filter_errors(client, params) -> dict:
    response = client.get(reverse("contacts:contact-list"), params, headers=ENGLISH)
    assert response.status_code == 200
    return {
        name: list(errors) for name, errors in response.context["form"].errors.items()
    }


def test_unknown_list_filter_names_id(sales_user, client_for):
    errors = _filter_errors(client_for(sales_user), {"contact_list": "999"})

    assert errors["contact_list"] == [
        "No list has the id “999”: choose a list in the menu, or reset the filters."
    ]


def test_unknown_vendor_filter_names_value(sales_user, client_for):
    errors = _filter_errors(client_for(sales_user), {"vendor": "abc"})

    assert errors["vendor"] == [
        "No vendor has the id “abc”: choose a vendor in the menu, or reset the filters."
    ]


def test_known_list_and_vendor_accepted(sales_user, client_for):
    vendor = VendorFactory()
    contact_list = ContactListFactory(vendor=vendor)

    errors = _filter_errors(
        client_for(sales_user), {"vendor": vendor.pk, "contact_list": contact_list.pk}
    )

    assert errors == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("FRA", "“FRA” is not a two-letter country code: use FR."),
        ("france", "“FRANCE” is not a two-letter country code: use FR."),
        ("XYZW", "'XYZW' is not a country code: use two letters such as FR."),
        ("F1", "'F1' is not a country code: use two letters such as FR."),
    ],
)
def test_bad_country_filter_names_value(sales_user, client_for, value, message):
    errors = _filter_errors(client_for(sales_user), {"country": value})

    assert errors["country"] == [message]


def test_country_filter_accepts_lower_case(sales_user, client_for):
    ContactFactory(country="FR")

    response = client_for(sales_user).get(
        reverse("contacts:contact-list"), {"country": " fr "}, headers=ENGLISH
    )

    assert response.context["form"].cleaned_data["country"] == "FR"
    assert response.context["count"] == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"city": "saint-etienne"}, {"Saint-Étienne", "SAINT ETIENNE"}),
        ({"city": " SAINT-ÉTIENNE "}, {"Saint-Étienne", "SAINT ETIENNE"}),
        ({"city": "Saint"}, set()),
        ({"city": "saint etienne"}, {"Saint-Étienne", "SAINT ETIENNE"}),
        ({"postcode": "69"}, {"Lyon", "Villeurbanne"}),
        ({"postcode": "sw1a 1"}, {"London"}),
        ({"postcode": "69", "city": "lyon"}, {"Lyon"}),
    ],
)
def test_postcode_and_city_filters(sales_user, client_for, filters, expected):
    ContactFactory(postcode="42000", city="Saint-Étienne")
    ContactFactory(postcode="42100", city="SAINT ETIENNE")
    ContactFactory(postcode="69003", city="Lyon")
    ContactFactory(postcode="69100", city="Villeurbanne")
    ContactFactory(postcode="SW1A 1AA", city="London")

    response = client_for(sales_user).get(
        reverse("contacts:contact-list"), filters, headers=ENGLISH
    )

    assert {row.city for row in response.context["page"].rows} == expected


def test_long_city_filter_names_value(sales_user, client_for):
    errors = _filter_errors(client_for(sales_user), {"city": "x" * 101})

    assert errors["city"] == [
        "“xxxxxxxxxxxxxxxxxxxx…” is 101 characters long, more than a city can "
        "hold: type at most 100."
    ]


def test_campaign_page_names_bad_filter(sales_user, client_for):
    response = client_for(sales_user).get(
        reverse("contacts:campaign-create"), {"contact_list": "999"}, headers=ENGLISH
    )

    error = response.context["search_error"]
    assert error.startswith("Fix the filters on the contact list first.")
    assert "No list has the id “999”" in error


def _anonymised_contact():
    return ContactFactory(
        first_name="",
        last_name="",
        email="",
        company="",
        status=Contact.Status.ANONYMISED,
    )


def test_anonymised_contact_source_not_kept(sales_user, client_for):
    content = _detail(client_for(sales_user), _anonymised_contact())

    assert "The contact was anonymised, so its source is no longer kept." in content
    assert "Entered by hand" not in content


def test_contact_without_list_entered_by_hand(sales_user, client_for):
    content = _detail(client_for(sales_user), ContactFactory())

    assert "Entered by hand: no purchased or rented list." in content


def test_anonymised_contact_shows_no_unsubscribe_link(sales_user, client_for):
    content = _detail(client_for(sales_user), _anonymised_contact())

    assert "/contacts/unsubscribe/" not in content
    assert "an anonymised contact has no address to unsubscribe" in content


def test_active_contact_shows_unsubscribe_link(sales_user, client_for):
    content = _detail(client_for(sales_user), ContactFactory())

    assert "/contacts/unsubscribe/" in content


def _audit_actions(content: str) -> list[str]:
    section = content.split("<h2>Audit events</h2>", 1)[1]
    return re.findall(r"<code>([a-z_.]+)</code>", section)


def _subject_request(kind: str):
    from django.utils import timezone

    from apps.subject_requests.services import request_create

    return request_create(
        kind=kind,
        channel="email",
        requester_name="Ana Martin",
        requester_email="ana.requester@example.com",
        received_at=timezone.now(),
    )


def test_audit_lists_unsubscribe_link(sales_user, client_for):
    from apps.contacts.services import contact_unsubscribe_url

    contact = ContactFactory()
    url = contact_unsubscribe_url(contact, site_url="")

    client_for(sales_user).post(url)

    content = _detail(client_for(sales_user), contact)
    assert _audit_actions(content) == ["contacts.contact.unsubscribed"]


def test_audit_lists_link_unsubscribe_while_restricted(sales_user, client_for):
    from apps.contacts.services import contact_unsubscribe_url

    contact = ContactFactory(status=Contact.Status.RESTRICTED)
    url = contact_unsubscribe_url(contact, site_url="")

    client_for(sales_user).post(url)

    content = _detail(client_for(sales_user), contact)
    assert _audit_actions(content) == ["contacts.contact.unsubscribed"]


def test_audit_lists_api_objection(sales_user, client_for, settings):
    settings.API_TOKENS = ["test-token-0123456789abcdef0123456789"]
    contact = ContactFactory()
    other = ContactFactory(first_name="Bastien", last_name="Autre")

    response = client_for(sales_user).post(
        reverse("contacts:api-unsubscribes"),
        data={"emails": [contact.email, other.email], "reason": "objected"},
        content_type="application/json",
        headers={"Authorization": "Bearer test-token-0123456789abcdef0123456789"},
    )

    content = _detail(client_for(sales_user), contact)
    assert response.status_code == 200
    assert _audit_actions(content) == ["contacts.contact.objected"]
    assert other.email not in content
    assert "Autre" not in content


def test_audit_lists_request_objection(dpo, sales_user, client_for):
    from apps.subject_requests.services import request_link_contacts
    from apps.subject_requests.services import request_object

    contact = ContactFactory()
    other = ContactFactory(first_name="Bastien", last_name="Autre")
    request = _subject_request("objection")
    request_link_contacts(
        request=request, contact_ids=[contact.pk, other.pk], actor=dpo
    )

    request_object(request=request, actor=dpo)

    content = _detail(client_for(sales_user), contact)
    assert _audit_actions(content) == ["subject_requests.contacts.objected"]
    assert _audit_actions(_detail(client_for(dpo), contact)) == [
        "subject_requests.contacts.objected",
        "subject_requests.contacts.linked",
    ]
    assert other.email not in content
    assert "Autre" not in content
    assert request.reference not in content


def test_audit_lists_request_restriction(dpo, sales_user, client_for):
    from apps.subject_requests.services import request_link_contacts
    from apps.subject_requests.services import request_restrict
    from apps.subject_requests.services import request_unlink_contact
    from apps.subject_requests.services import request_verify_identity
    from tests.subject_requests.conftest import restriction_lift

    contact = ContactFactory()
    request = _subject_request("restriction")
    request_verify_identity(
        request=request, verified=True, method="Reply from the address", actor=dpo
    )
    request_link_contacts(request=request, contact_ids=[contact.pk], actor=dpo)
    request_restrict(request=request, actor=dpo)
    restriction_lift(request, dpo)

    request_unlink_contact(request=request, contact_id=contact.pk, actor=dpo)

    assert _audit_actions(_detail(client_for(dpo), contact)) == [
        "subject_requests.contacts.unlinked",
        "subject_requests.contacts.restriction_lifted",
        "subject_requests.contacts.restricted",
        "subject_requests.contacts.linked",
    ]
    assert _audit_actions(_detail(client_for(sales_user), contact)) == [
        "subject_requests.contacts.restriction_lifted",
        "subject_requests.contacts.restricted",
    ]


def test_audit_leaves_out_other_contacts_events(dpo, sales_user, client_for):
    from apps.subject_requests.services import request_link_contacts
    from apps.subject_requests.services import request_object

    contact = ContactFactory()
    other = ContactFactory()
    request = _subject_request("objection")
    request_link_contacts(request=request, contact_ids=[other.pk], actor=dpo)
    request_object(request=request, actor=dpo)

    content = _detail(client_for(sales_user), contact)

    assert _audit_actions(content) == []


def test_audit_names_channel_in_french(sales_user, client_for):
    from apps.contacts.services import contact_unsubscribe_url

    contact = ContactFactory()
    client_for(sales_user).post(contact_unsubscribe_url(contact, site_url=""))

    response = client_for(sales_user).get(
        reverse("contacts:contact-detail", args=[contact.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    )

    content = response.content.decode()
    assert "lien de désinscription" in content
    assert "<td>unsubscribe link</td>" not in content


def test_sales_do_not_learn_of_an_access_request(dpo, sales_user, client_for):
    from apps.subject_requests.services import request_link_contacts

    contact = ContactFactory()
    request = _subject_request("access")
    request_link_contacts(request=request, contact_ids=[contact.pk], actor=dpo)

    assert _audit_actions(_detail(client_for(sales_user), contact)) == []
    assert _audit_actions(_detail(client_for(dpo), contact)) == [
        "subject_requests.contacts.linked"
    ]
