"""The Django admin of requests and the two actions of the rectification page."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import RECTIFIABLE_FIELDS
from apps.subject_requests.services import request_link_contacts

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def english(client):
    """Ask for English pages: the tests match messages written in the source."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(
        username="sidonie", password="unused-in-tests"
    )


def test_admin_cannot_change_kind_or_status(client_for, superuser, make_request):
    request = make_request(kind="objection")
    url = reverse("admin:subject_requests_subjectrequest_change", args=[request.pk])
    client = client_for(superuser)
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data.update(
        {
            "kind": "access",
            "status": "refused",
            "contacts": "",
            "identity_checks-TOTAL_FORMS": "0",
            "identity_checks-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        }
    )

    response = client.post(url, data)

    request.refresh_from_db()
    assert response.status_code == 302
    assert request.kind == SubjectRequest.Kind.OBJECTION
    assert request.status == SubjectRequest.Status.RECEIVED
    assert request.closed_at is None


def test_admin_form_omits_state_fields(client_for, superuser, make_request):
    request = make_request()
    url = reverse("admin:subject_requests_subjectrequest_change", args=[request.pk])

    form = client_for(superuser).get(url).context["adminform"].form

    for name in ("kind", "status", "identity_status", "received_at", "due_on"):
        assert name not in form.fields


def test_admin_cannot_add_request(client_for, superuser):
    url = reverse("admin:subject_requests_subjectrequest_add")

    response = client_for(superuser).get(url)

    assert response.status_code == 403


def test_admin_edits_only_handler_and_notes(client_for, superuser, make_request):
    request = make_request()
    url = reverse("admin:subject_requests_subjectrequest_change", args=[request.pk])

    form = client_for(superuser).get(url).context["adminform"].form

    assert sorted(form.fields) == ["handler", "notes"]


def test_admin_change_is_audited(client_for, superuser, make_request):
    from apps.core.models import AuditEvent

    request = make_request()
    url = reverse("admin:subject_requests_subjectrequest_change", args=[request.pk])
    client = client_for(superuser)

    response = client.post(
        url,
        {
            "handler": superuser.pk,
            "notes": "Called back on Monday.",
            "identity_checks-TOTAL_FORMS": "0",
            "identity_checks-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "1",
            "events-0-id": request.events.get().pk,
            "events-0-request": request.pk,
        },
    )

    assert response.status_code == 302
    event = request.events.get(action="changed_in_admin")
    assert event.details == {"request_fields": ["handler", "notes"]}
    audit = AuditEvent.objects.get(action="subject_requests.request.changed_in_admin")
    assert audit.details == {"fields": ["handler", "notes"]}


@pytest.mark.parametrize("view", ["add", "delete"])
def test_admin_cannot_forge_erasure_proof(client_for, superuser, erasure_proof, view):
    if view == "add":
        url = reverse("admin:subject_requests_erasureproof_add")
    else:
        url = reverse(
            "admin:subject_requests_erasureproof_delete", args=[erasure_proof.pk]
        )

    response = client_for(superuser).get(url)

    assert response.status_code == 403


@pytest.fixture
def erasure_proof(make_request):
    from apps.subject_requests.models import ErasureProof

    request = make_request(kind="erasure")
    return ErasureProof.objects.create(request=request, record_counts={})


def test_admin_cannot_delete_request(client_for, superuser, make_request):
    request = make_request()
    url = reverse("admin:subject_requests_subjectrequest_delete", args=[request.pk])

    response = client_for(superuser).get(url)

    assert response.status_code == 403


def test_rectify_page_reports_no_change(client_for, dpo, make_request, person):
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    url = reverse("subject_requests:request-rectify", args=[request.pk, person.pk])
    form = {field: getattr(person, field) or "" for field in RECTIFIABLE_FIELDS}

    response = client_for(dpo).post(url, form)

    assert response.status_code == 200
    assert "nothing was rectified" in response.content.decode()
    assert not request.events.filter(action="rectified").exists()


def test_rectify_page_records_not_needed(client_for, dpo, make_request, person):
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    form_url = reverse("subject_requests:request-rectify", args=[request.pk, person.pk])
    action_url = reverse(
        "subject_requests:request-rectify-not-needed", args=[request.pk, person.pk]
    )
    client = client_for(dpo)

    page = client.get(form_url).content.decode()
    response = client.post(action_url)

    assert f'formaction="{action_url}"' in page
    assert response.status_code == 302
    assert request.events.filter(action="rectification_not_needed").exists()
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == [f"Contact #{person.pk} recorded as accurate: it needs no change."]


def test_admin_lists_identity_checks(client_for, superuser, make_request, dpo):
    request = make_request(verified_by=dpo)
    url = reverse("admin:subject_requests_subjectrequest_change", args=[request.pk])

    response = client_for(superuser).get(url)

    assert "Reply from the address on file" in response.content.decode()
