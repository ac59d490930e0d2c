import datetime
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.contacts.models import Contact
from apps.core.navigation import navigation_for
from apps.subject_requests.models import SubjectRequest
from tests.subject_requests.conftest import access_answered_close

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def _detail(request):
    return reverse("subject_requests:request-detail", args=[request.pk])


def _action(name, request):
    return reverse(f"subject_requests:request-{name}", args=[request.pk])


@pytest.mark.parametrize("persona", ["dpo", "compliance_officer"])
def test_list_visible_to_dpo_and_officer(request, client_for, persona, make_request):
    make_request()
    user = request.getfixturevalue(persona)

    response = client_for(user).get(reverse("subject_requests:request-list"))

    assert response.status_code == 200
    assert b"DSR-" in response.content


@pytest.mark.parametrize("persona", ["sales_user", "outsider"])
def test_list_forbidden_to_others(request, client_for, persona):
    user = request.getfixturevalue(persona)

    response = client_for(user).get(reverse("subject_requests:request-list"))

    assert response.status_code == 403


def test_list_requires_login(client):
    response = client.get(reverse("subject_requests:request-list"))

    assert response.status_code == 302


def test_navigation_entry_by_role(dpo, compliance_officer, sales_user):
    def names(user):
        return {entry["url_name"] for entry in navigation_for(user)}

    assert "subject_requests:request-list" in names(dpo)
    assert "subject_requests:request-list" in names(compliance_officer)
    assert "subject_requests:request-list" not in names(sales_user)


def test_officer_cannot_act(client_for, compliance_officer, make_request):
    request = make_request()
    client = client_for(compliance_officer)

    detail = client.get(_detail(request))
    response = client.post(_action("search", request))

    assert detail.status_code == 200
    assert b"Search every source" not in detail.content
    assert response.status_code == 403


def test_sales_cannot_see_request(client_for, sales_user, make_request):
    request = make_request()

    response = client_for(sales_user).get(_detail(request))

    assert response.status_code == 403


def test_officer_sees_no_contact_data(
    client_for, compliance_officer, make_request, dpo, person
):
    from apps.subject_requests.services import request_link_contacts

    request = make_request(verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    response = client_for(compliance_officer).get(_detail(request))

    assert b"Quincaillerie Exemple" not in response.content
    assert f'data-contact="{person.pk}"'.encode() in response.content


def test_create_computes_due_date(client_for, dpo):
    response = client_for(dpo).post(
        reverse("subject_requests:request-create"),
        {
            "kind": "access",
            "channel": "letter",
            "requester_name": "Alix Exemple",
            "requester_email": "Alix.Exemple@Example.com",
            "received_at": "2026-01-31T10:00",
        },
    )

    created = SubjectRequest.objects.get()
    assert response.status_code == 302
    assert created.due_on == datetime.date(2026, 2, 28)
    assert created.requester_email == "alix.exemple@example.com"
    assert created.handler == dpo


def test_create_posted_twice_records_once(client_for, dpo):
    """GIVEN the request form, filled in once
    WHEN it is posted twice with the token of its page
    THEN one request is recorded and the second post goes to it.
    """
    client = client_for(dpo)
    page = client.get(reverse("subject_requests:request-create"))
    assert page.content.decode().count('name="submission_token"') == 1
    data = {
        "submission_token": page.context["form"]["submission_token"].value(),
        "kind": "access",
        "channel": "letter",
        "requester_name": "Alix Exemple",
        "requester_email": "alix.exemple@example.com",
        "received_at": "2026-01-31T10:00",
    }

    first = client.post(reverse("subject_requests:request-create"), data)
    second = client.post(reverse("subject_requests:request-create"), data)

    created = SubjectRequest.objects.get()
    detail = reverse("subject_requests:request-detail", args=[created.pk])
    assert first["Location"] == detail
    assert second["Location"] == detail


def test_rejected_create_keeps_token_usable(client_for, dpo):
    client = client_for(dpo)
    page = client.get(reverse("subject_requests:request-create"))
    data = {
        "submission_token": page.context["form"]["submission_token"].value(),
        "kind": "access",
        "channel": "email",
        "requester_name": "Alix Exemple",
        "requester_email": "alix-at-example",
        "received_at": "2026-01-31T10:00",
    }

    rejected = client.post(reverse("subject_requests:request-create"), data)
    data["requester_email"] = "alix.exemple@example.com"
    corrected = client.post(reverse("subject_requests:request-create"), data)

    assert rejected.status_code == 200
    assert corrected.status_code == 302
    assert SubjectRequest.objects.count() == 1


def test_create_rejects_pasted_file_as_address(client_for, dpo):
    response = client_for(dpo).post(
        reverse("subject_requests:request-create"),
        {
            "kind": "access",
            "channel": "letter",
            "requester_name": "Alix Exemple",
            "requester_address": "1 rue de l'Exemple, Lyon. " * 4000,
            "received_at": "2026-01-31T10:00",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert b"at most 1000 characters" in response.content
    assert not SubjectRequest.objects.exists()


def test_create_rejects_bad_email(client_for, dpo):
    response = client_for(dpo).post(
        reverse("subject_requests:request-create"),
        {
            "kind": "access",
            "channel": "email",
            "requester_name": "Alix Exemple",
            "requester_email": "alix-at-example",
            "received_at": "2026-01-31T10:00",
        },
    )

    assert response.status_code == 200
    assert b"alix-at-example" in response.content
    assert b"is not a valid e-mail address" in response.content
    assert not SubjectRequest.objects.exists()


def test_create_rejects_future_receipt(client_for, dpo):
    future = timezone.localtime() + datetime.timedelta(days=2)

    response = client_for(dpo).post(
        reverse("subject_requests:request-create"),
        {
            "kind": "access",
            "channel": "email",
            "requester_name": "Alix Exemple",
            "requester_email": "alix@example.com",
            "received_at": future.strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert b"is in the future" in response.content


def test_search_and_link_flow(client_for, dpo, make_request, person, bystander):
    request = make_request()
    client = client_for(dpo)

    client.post(_action("search", request))
    page = client.get(_detail(request))
    client.post(_action("link", request), {"contact_ids": [person.pk]})

    assert b"Quincaillerie Exemple" in page.content
    assert list(request.contacts.values_list("pk", flat=True)) == [person.pk]
    assert request.events.filter(action="searched").exists()


def test_link_rejects_unsearched_contact(client_for, dpo, make_request, bystander):
    request = make_request()
    client = client_for(dpo)

    client.post(_action("search", request))
    response = client.post(
        _action("link", request), {"contact_ids": [bystander.pk]}, follow=True
    )

    assert not request.contacts.exists()
    assert b"is not one of the available choices" in response.content


def test_package_download_before_identity(client_for, dpo, make_request):
    request = make_request()

    response = client_for(dpo).post(_action("access-package", request), follow=True)

    assert b"is not verified" in response.content


def test_package_download(client_for, dpo, make_request, person):
    from apps.subject_requests.services import request_link_contacts

    request = make_request(verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    response = client_for(dpo).post(_action("access-package", request))

    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "answer.html" in names


def test_restrict_and_lift(client_for, dpo, make_request, person):
    from apps.subject_requests.services import request_link_contacts

    request = make_request(kind="restriction", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    client = client_for(dpo)

    client.post(_action("restrict", request))
    person.refresh_from_db()
    assert person.status == Contact.Status.RESTRICTED

    client.post(
        _action("lift-restriction", request),
        {"informed_on": timezone.localdate().isoformat(), "informed_by": "email"},
    )
    person.refresh_from_db()
    assert person.status == Contact.Status.ACTIVE


def test_lift_restriction_needs_notice_date(client_for, dpo, make_request, person):
    """GIVEN a restricted contact, WHEN the DPO lifts the restriction without
    the day the person was informed, or with a day in the future, THEN it stays
    restricted and the page names the date to give."""
    from apps.subject_requests.services import request_link_contacts

    request = make_request(kind="restriction", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    client = client_for(dpo)
    client.post(_action("restrict", request))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    missing = client.post(
        _action("lift-restriction", request), {"informed_by": "email"}, follow=True
    )
    future = client.post(
        _action("lift-restriction", request),
        {"informed_on": tomorrow.isoformat(), "informed_by": "email"},
        follow=True,
    )

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    before = client.post(
        _action("lift-restriction", request),
        {"informed_on": yesterday.isoformat(), "informed_by": "email"},
        follow=True,
    )

    person.refresh_from_db()
    assert person.status == Contact.Status.RESTRICTED
    assert "Person informed on: This field is required." in missing.text
    assert "that the restriction would be lifted: it was placed on" in before.text
    assert "is in the future; tell the person first" in future.text
    assert not request.events.filter(action="restriction_lifted").exists()


def test_answer_of_another_kind_is_rejected(client_for, dpo, make_request, person):
    from apps.subject_requests.services import request_link_contacts

    request = make_request(verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    response = client_for(dpo).post(_action("restrict", request), follow=True)

    person.refresh_from_db()
    assert person.status == Contact.Status.ACTIVE
    assert "this answer needs one of kind" in response.text


def test_page_offers_answers_of_the_kind(client_for, dpo, make_request):
    request = make_request(kind="restriction", verified_by=dpo)

    response = client_for(dpo).get(
        reverse("subject_requests:request-detail", args=[request.pk])
    )

    assert 'value="restrict"' in response.text
    assert 'value="access-package"' not in response.text
    assert 'value="object"' not in response.text


def test_objection_suppresses(client_for, dpo, make_request, person):
    from apps.contacts.suppression import is_suppressed
    from apps.subject_requests.services import request_link_contacts

    request = make_request(kind="objection", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    client_for(dpo).post(_action("object", request))

    person.refresh_from_db()
    assert person.status == Contact.Status.OBJECTED
    assert is_suppressed(email=person.email)


def test_objection_by_phone_counts_suppressed_identifiers(
    client_for, dpo, make_request
):
    """GIVEN an objection from a phone that no contact holds, WHEN the DPO
    grants it, THEN the message counts the phone put on the suppression list
    instead of reading as if nothing happened."""
    request = make_request(
        kind="objection", requester_email="", requester_phone="04 78 12 34 56"
    )

    response = client_for(dpo).post(
        _action("object", request), HTTP_ACCEPT_LANGUAGE="en", follow=True
    )

    assert (
        "Objection granted: 0 contacts marked objected, 1 identifier added to "
        "the suppression list." in response.content.decode()
    )


def test_objection_granted_again_adds_nothing(client_for, dpo, make_request):
    request = make_request(
        kind="objection", requester_email="", requester_phone="04 78 12 34 56"
    )
    client = client_for(dpo)
    client.post(_action("object", request), HTTP_ACCEPT_LANGUAGE="en")

    response = client.post(
        _action("object", request), HTTP_ACCEPT_LANGUAGE="en", follow=True
    )

    assert (
        "Objection granted: 0 contacts marked objected, 0 identifiers added to "
        "the suppression list." in response.content.decode()
    )


def test_rectify_records_fields(client_for, dpo, make_request, person):
    from apps.subject_requests.services import request_link_contacts

    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    url = reverse("subject_requests:request-rectify", args=[request.pk, person.pk])
    form = {
        field: getattr(person, field)
        for field in (
            "first_name",
            "last_name",
            "email",
            "phone",
            "job_title",
            "job_function",
            "company",
            "postcode",
            "city",
            "country",
        )
    }
    form["job_title"] = "Head of purchasing"
    form["phone"] = "06 98 76 54 32"

    response = client_for(dpo).post(url, form)

    person.refresh_from_db()
    assert response.status_code == 302
    assert person.job_title == "Head of purchasing"
    assert person.phone == "+33698765432"
    event = request.events.get(action="rectified")
    assert sorted(event.details["fields"]) == ["job_title", "phone"]


def test_erase_needs_confirmation(client_for, dpo, make_request, person):
    from apps.subject_requests.services import request_link_contacts

    request = make_request(kind="erasure", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    client_for(dpo).post(_action("erase", request), {})

    assert Contact.objects.filter(pk=person.pk).exists()


def test_refuse_needs_reason(client_for, dpo, make_request):
    request = make_request()

    client_for(dpo).post(_action("refuse", request), {"reason": ""})

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.RECEIVED


def test_closed_request_rejects_actions(client_for, dpo, make_request):
    request = make_request(verified_by=dpo)
    access_answered_close(request, dpo)

    response = client_for(dpo).post(
        _action("refuse", request), {"reason": "Too late"}, follow=True
    )

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.CLOSED
    assert b"file a new one" in response.content


def test_closed_request_keeps_its_search(client_for, dpo, make_request):
    request = make_request(verified_by=dpo)
    access_answered_close(request, dpo)
    request.refresh_from_db()
    answered_search = request.last_search
    searches = request.events.filter(action="searched").count()

    response = client_for(dpo).post(_action("search", request), follow=True)

    request.refresh_from_db()
    assert request.last_search == answered_search
    assert request.events.filter(action="searched").count() == searches
    assert b"file a new one" in response.content


def test_dashboard_panel_counts_overdue(dpo, make_request):
    from django.template.loader import render_to_string

    from apps.subject_requests.dashboard import dashboard_panels

    make_request(received_at=timezone.now() - datetime.timedelta(days=40))
    make_request()

    (panel,) = dashboard_panels(dpo)
    html = render_to_string(panel.template, {"panel": panel.context})

    assert panel.context["open_count"] == 2
    assert 'data-overdue="1"' in html


def test_dashboard_panel_words_overdue(dpo, make_request):
    from django.template.loader import render_to_string

    from apps.subject_requests.dashboard import dashboard_panels

    request = make_request(received_at=timezone.now() - datetime.timedelta(days=40))
    (panel,) = dashboard_panels(dpo)

    html = render_to_string(panel.template, {"panel": panel.context})

    overdue = (timezone.localdate() - request.due_on).days
    assert f"overdue by {overdue} day" in html
    assert f">-{overdue}<" not in html


def test_dashboard_panel_hidden_from_sales(sales_user):
    from apps.subject_requests.dashboard import dashboard_panels

    assert dashboard_panels(sales_user) == []


ACTIONS = [
    "identity",
    "extend",
    "search",
    "link",
    "access-package",
    "portability",
    "restrict",
    "lift-restriction",
    "object",
    "erase",
    "close",
    "refuse",
]


@pytest.mark.parametrize("persona", ["compliance_officer", "sales_user"])
def test_actions_forbidden_without_change(request, client_for, persona, make_request):
    client = client_for(request.getfixturevalue(persona))
    subject_request = make_request()

    statuses = {
        action: client.post(_action(action, subject_request)).status_code
        for action in ACTIONS
    }

    assert statuses == dict.fromkeys(ACTIONS, 403)


def test_create_forbidden_to_officer(client_for, compliance_officer):
    response = client_for(compliance_officer).get(
        reverse("subject_requests:request-create")
    )

    assert response.status_code == 403


def test_timeline_shows_action_labels(client_for, dpo, make_request):
    request = make_request(verified_by=dpo)

    response = client_for(dpo).get(_detail(request))

    assert b'data-action="identity_checked">identity checked<' in response.content


def test_list_rejects_nul_in_search(client_for, dpo, make_request):
    make_request()

    response = client_for(dpo).get(
        reverse("subject_requests:request-list"), {"q": "DSR\x00"}
    )

    assert response.status_code == 400
    assert "Reference, name or e-mail: The search contains a NUL character" in (
        response.text
    )
    assert "DSR-" not in response.text


def test_list_rejects_unknown_status(client_for, dpo, make_request):
    make_request()

    response = client_for(dpo).get(
        reverse("subject_requests:request-list"), {"status": "archived"}
    )

    assert response.status_code == 400
    assert "archived is not one of the available choices" in response.text


@pytest.mark.parametrize("status", ["", "open", "all", "closed"])
def test_list_accepts_known_status(client_for, dpo, make_request, status):
    make_request()

    response = client_for(dpo).get(
        reverse("subject_requests:request-list"), {"status": status, "q": "maëlle"}
    )

    assert response.status_code == 200
    assert ("DSR-" in response.text) == (status != "closed")


@pytest.mark.parametrize(
    "query", ["elodie", "ÉLODIE", "Élodie Martin", "MARTIN élodie", "élodie  martin"]
)
def test_list_search_ignores_accents(client_for, dpo, make_request, query):
    request = make_request(
        requester_name="Elodie MARTIN", requester_email="e.m@acme-exemple.fr"
    )

    response = client_for(dpo).get(
        reverse("subject_requests:request-list"), {"q": query}
    )

    assert request.reference in response.text


@pytest.mark.parametrize(
    "query", ["+33643536373", "06 43 53 63 73", "06.43.53.63.73", "0033 6 43 53 63 73"]
)
def test_list_search_finds_phone(client_for, dpo, make_request, query):
    request = make_request(requester_name="Anne Roux", requester_phone="+33643536373")
    other = make_request(requester_name="Luc Morel", requester_phone="+33643536374")

    response = client_for(dpo).get(
        reverse("subject_requests:request-list"), {"q": query}
    )

    assert request.reference in response.text
    assert other.reference not in response.text


def test_anonymised_match_not_offered_to_link(client_for, dpo, make_request, person):
    """GIVEN a search that matched a contact
    WHEN retention anonymises that contact
    THEN the request page marks it as anonymised and offers no link form."""
    request = make_request()
    client = client_for(dpo)
    client.post(_action("search", request))
    Contact.objects.filter(pk=person.pk).update(
        status=Contact.Status.ANONYMISED, email="", email_hash="", last_name=""
    )

    content = client.get(_detail(request)).content.decode()

    assert "anonymised, nothing to link" in content
    assert f'name="contact_ids" value="{person.pk}"' not in content
    assert _action("link", request) not in content


def test_link_anonymised_contact_shows_reason(client_for, dpo, make_request, person):
    request = make_request()
    client = client_for(dpo)
    client.post(_action("search", request))
    Contact.objects.filter(pk=person.pk).update(status=Contact.Status.ANONYMISED)

    response = client.post(
        _action("link", request), {"contact_ids": [person.pk]}, follow=True
    )

    assert not request.contacts.exists()
    assert f"Contact #{person.pk} was anonymised" in response.content.decode()


def test_link_form_flags_name_only_match(client_for, dpo, make_request, person):
    """GIVEN the person's contact and a homonym with another address
    WHEN the DPO searches and opens the request
    THEN the link form flags the homonym as matched on the name only.
    """
    from apps.subject_requests.services import request_search

    homonym = Contact.objects.create(
        first_name=person.first_name,
        last_name=person.last_name,
        email="homonyme@example.org",
        collected_at=timezone.now(),
    )
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)

    page = client_for(dpo).get(
        reverse("subject_requests:request-detail", args=[request.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    choices = dict(page.context["link_form"].fields["contact_ids"].choices)
    assert "name only: check it is the same person" in choices[homonym.pk]
    assert "name only" not in choices[person.pk]


def test_erase_form_lists_contacts_it_deletes(client_for, dpo, make_request, person):
    colleague = Contact.objects.create(
        first_name="Chantal",
        last_name="Standard",
        phone=person.phone,
        collected_at=timezone.now(),
    )
    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)

    page = client_for(dpo).get(
        reverse("subject_requests:request-detail", args=[request.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert page.context["erasure_contacts"] == [f"#{person.pk} {person.full_name}"]
    assert "The erasure deletes these contacts" in page.content.decode()
    assert f"#{colleague.pk}" not in page.context["erasure_contacts"][0]


def test_objection_page_offers_no_refusal(client_for, dpo, make_request):
    request = make_request(kind="objection")
    client = client_for(dpo)

    page = client.get(reverse("subject_requests:request-detail", args=[request.pk]))
    response = client.post(
        _action("refuse", request), {"reason": "Compelling interest"}, follow=True
    )

    request.refresh_from_db()
    assert _action("refuse", request).encode() not in page.content
    assert request.status == SubjectRequest.Status.RECEIVED
    assert b"cannot be refused" in response.content


def _closed_request(client_for, dpo, make_request, *, received_days_ago):
    request = make_request(
        verified_by=dpo,
        received_at=timezone.now() - datetime.timedelta(days=received_days_ago),
    )
    access_answered_close(request, dpo)
    request.refresh_from_db()
    client = client_for(dpo)
    detail = client.get(reverse("subject_requests:request-detail", args=[request.pk]))
    listing = client.get(reverse("subject_requests:request-list"), {"status": "closed"})
    return request, detail.content.decode(), listing.content.decode()


def test_request_answered_late_says_by_how_many_days(client_for, dpo, make_request):
    request, detail, listing = _closed_request(
        client_for, dpo, make_request, received_days_ago=40
    )

    days = (timezone.localdate() - request.due_on).days
    assert days > 0
    assert f'data-late="{days}"' in detail
    assert f'data-late="{days}"' in listing


def test_request_answered_in_time_says_so(client_for, dpo, make_request):
    _request, detail, listing = _closed_request(
        client_for, dpo, make_request, received_days_ago=3
    )

    assert 'data-late="0"' in detail
    assert "data-late" not in listing


def test_page_warns_of_found_contacts_left_out(client_for, dpo, make_request, person):
    from apps.subject_requests.services import request_link_contacts
    from apps.subject_requests.services import request_search

    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)
    url = reverse("subject_requests:request-detail", args=[request.pk])

    before = client_for(dpo).get(url, HTTP_ACCEPT_LANGUAGE="en")
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    after = client_for(dpo).get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert 'id="undecided-contacts"' in before.text
    assert "1 contact found by the search is neither linked" in before.text
    assert 'id="undecided-contacts"' not in after.text


def test_rectify_form_only_for_open_rectification(
    client_for, dpo, make_request, person
):
    from apps.subject_requests.services import request_link_contacts

    access = make_request(verified_by=dpo)
    rectification = make_request(kind="rectification", verified_by=dpo)
    for request in (access, rectification):
        request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    client = client_for(dpo)

    def form_status(request):
        url = reverse("subject_requests:request-rectify", args=[request.pk, person.pk])
        return client.get(url).status_code

    assert form_status(access) == 404
    assert form_status(rectification) == 200


def test_rectify_url_tells_nothing_without_permission(
    client, client_for, dpo, sales_user, make_request, person
):
    """GIVEN a contact linked to an open rectification request,
    WHEN someone without the DPO's rights opens its rectify URL and another
    contact's, THEN both responses are the same, so they do not reveal which
    contacts the request concerns."""
    from apps.subject_requests.services import request_link_contacts

    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    urls = [
        reverse("subject_requests:request-rectify", args=[request.pk, contact_id])
        for contact_id in (person.pk, person.pk + 1000)
    ]

    anonymous = [client.get(url).status_code for url in urls]
    sales = [client_for(sales_user).get(url).status_code for url in urls]

    assert anonymous == [302, 302]
    assert sales == [403, 403]


def test_list_overdue_days(client_for, dpo, make_request):
    request = make_request(
        received_at=timezone.now() - datetime.timedelta(days=60), verified_by=dpo
    )
    days = (timezone.localdate() - request.due_on).days

    listing = client_for(dpo).get(
        reverse("subject_requests:request-list"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert days > 0
    assert f'data-overdue="{days}"' in listing.text
    assert f"overdue by {days} days" in listing.text
    assert f">-{days}<" not in listing.text


def test_objection_page_offers_no_extension(client_for, dpo, make_request):
    objection = make_request(kind="objection", verified_by=dpo)
    access = make_request(verified_by=dpo)
    client = client_for(dpo)

    def page(request):
        url = reverse("subject_requests:request-detail", args=[request.pk])
        return client.get(url).text

    assert 'id="deadline"' not in page(objection)
    assert 'id="deadline"' in page(access)


def _extend(client, request, **fields):
    data = {
        "months": "1",
        "reason": "Many lists to search.",
        "informed_on": timezone.localdate().isoformat(),
        "informed_by": "letter",
    }
    data.update(fields)
    return client.post(_action("extend", request), data, follow=True)


def test_extension_notice_shown(client_for, dpo, make_request):
    request = make_request(verified_by=dpo)

    response = _extend(client_for(dpo), request)

    html = response.content.decode()
    assert f'data-informed="{timezone.localdate().isoformat()}"' in html
    assert "(letter)" in html


def test_extension_notice_in_record(client_for, dpo, make_request):
    from pypdf import PdfReader

    request = make_request(verified_by=dpo)
    client = client_for(dpo)
    _extend(client, request)

    response = client.get(_action("record", request))

    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Person informed of the extension" in text
    assert "person informed on" in text


def _record_text(client, request) -> str:
    from pypdf import PdfReader

    response = client.get(_action("record", request))
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_each_extension_notice_shown(client_for, dpo, make_request):
    request = make_request(
        verified_by=dpo, received_at=timezone.now() - datetime.timedelta(days=10)
    )
    client = client_for(dpo)
    first_notice = timezone.localdate() - datetime.timedelta(days=2)
    _extend(client, request, informed_on=first_notice.isoformat())

    response = _extend(client, request, informed_by="phone")

    html = response.content.decode()
    request.refresh_from_db()
    assert request.extension_months == 2
    assert f'data-informed="{first_notice.isoformat()}"' in html
    assert f'data-informed="{timezone.localdate().isoformat()}"' in html
    assert "(letter) · 1 month more" in html
    assert "(phone) · 1 month more" in html
    record = _record_text(client, request)
    assert "(letter)" in record
    assert "(phone)" in record


def test_each_identity_check_shown(client_for, dpo, make_request):
    request = make_request()
    client = client_for(dpo)
    url = _action("identity", request)
    client.post(url, {"verified": "0", "method": "Blurred ID card copy"})

    response = client.post(
        url, {"verified": "1", "method": "Second ID card copy"}, follow=True
    )

    html = response.content.decode()
    assert 'data-verified="false"' in html
    assert 'data-verified="true"' in html
    assert f"Blurred ID card copy · {dpo.get_username()}" in html
    assert f"Second ID card copy · {dpo.get_username()}" in html
    assert html.index("Blurred ID card copy") < html.index("Second ID card copy")
    record = _record_text(client, request)
    assert "Blurred ID card copy" in record
    assert "Second ID card copy" in record


def test_extension_needs_notice_date(client_for, dpo, make_request):
    request = make_request(verified_by=dpo)

    response = _extend(client_for(dpo), request, informed_on="")

    request.refresh_from_db()
    assert request.extension_months == 0
    assert "Person informed on: This field is required." in response.content.decode()


def test_close_records_answer_time(client_for, dpo, make_request):
    """GIVEN an answer mailed two days ago, WHEN the DPO closes the request
    today with that time, THEN the request keeps it as the answer time."""
    from apps.subject_requests.services import request_build_package

    request = make_request(
        verified_by=dpo, received_at=timezone.now() - datetime.timedelta(days=5)
    )
    request_build_package(request=request, actor=dpo)
    request.events.update(occurred_at=timezone.now() - datetime.timedelta(days=3))
    sent = timezone.localtime() - datetime.timedelta(days=2)

    client_for(dpo).post(
        _action("close", request),
        {"response_sent_at": sent.strftime("%Y-%m-%dT%H:%M")},
    )

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.CLOSED
    assert request.response_sent_at == sent.replace(second=0, microsecond=0)


def test_close_rejects_answer_before_package(client_for, dpo, make_request):
    """GIVEN a package built today, WHEN the DPO closes the request with an
    answer sent yesterday, THEN the request stays open and the error names
    the package."""
    from apps.subject_requests.services import request_build_package

    request = make_request(
        verified_by=dpo, received_at=timezone.now() - datetime.timedelta(days=5)
    )
    request_build_package(request=request, actor=dpo)
    sent = timezone.localtime() - datetime.timedelta(days=1)

    response = client_for(dpo).post(
        _action("close", request),
        {"response_sent_at": sent.strftime("%Y-%m-%dT%H:%M")},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    request.refresh_from_db()
    assert request.is_open
    assert "before the last step the answer reports" in response.content.decode()
    assert "access package built" in response.content.decode()


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (datetime.timedelta(days=1), "is in the future"),
        (-datetime.timedelta(days=10), "before the request was received"),
    ],
)
def test_refuse_rejects_answer_time(client_for, dpo, make_request, offset, message):
    request = make_request(verified_by=dpo)
    sent = timezone.localtime() + offset

    response = client_for(dpo).post(
        _action("refuse", request),
        {
            "reason": "Identity not proven",
            "response_sent_at": sent.strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )

    request.refresh_from_db()
    assert request.is_open
    assert message in response.content.decode()


def test_refuse_error_names_field_in_french(client_for, dpo, make_request):
    request = make_request(verified_by=dpo)

    response = client_for(dpo).post(
        _action("refuse", request),
        {"reason": ""},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )

    assert "Motif du refus : " in response.content.decode()
