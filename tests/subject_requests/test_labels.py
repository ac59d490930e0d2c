"""Readable labels on the request page: timeline, search, links and messages."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.formats import date_format

from apps.subject_requests.labels import event_details
from apps.subject_requests.labels import matched_on_label
from apps.subject_requests.labels import sentence_end
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import request_link_contacts
from apps.subject_requests.services import request_search

pytestmark = pytest.mark.postgres


def _detail(request):
    return reverse("subject_requests:request-detail", args=[request.pk])


def _french_page(client, request) -> str:
    response = client.get(_detail(request), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    return response.content.decode()


def test_timeline_in_french(client_for, dpo, make_request, person):
    request = make_request(verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    html = _french_page(client_for(dpo), request)

    assert 'data-action="created">demande enregistrée<' in html
    assert 'data-action="identity_checked">identité vérifiée<' in html
    assert "type : accès (art. 15) · reçue par : e-mail" in html
    assert "{&#x27;kind&#x27;" not in html
    assert "{'kind'" not in html
    assert f"#{person.pk}" in html


def test_event_details_readable(db):
    with translation.override("fr"):
        pairs = dict(
            event_details(
                {
                    "kind": "access",
                    "channel": "email",
                    "due_on": "2027-02-04",
                    "counts": {"contact": 1, "consent_record": 2},
                }
            )
        )

    assert pairs["type"] == "accès (art. 15)"
    assert pairs["reçue par"] == "e-mail"
    assert pairs["nouvelle échéance"] == "4 février 2027"
    assert pairs["enregistrements supprimés"] == (
        "contact : 1, preuve de consentement : 2"
    )


def test_search_summary_in_french(client_for, dpo, make_request, person):
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)

    html = _french_page(client_for(dpo), request)

    assert "subject_requests, breaches" not in html
    assert "par email, name" not in html
    assert "demandes d&#x27;exercice de droits" in html
    assert "e-mail, téléphone, nom" in html


def test_search_summary_local_date(client_for, dpo, make_request, person):
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)
    request.last_search["searched_at"] = datetime.datetime(
        2026, 12, 4, 16, 5, 27, tzinfo=datetime.UTC
    ).isoformat()
    request.save(update_fields=["last_search"])

    html = _french_page(client_for(dpo), request)

    assert "Sources consultées le 4 décembre 2026 17:05 :" in html
    assert "2026-12-04T" not in html


def test_match_kinds_in_french(client_for, dpo, make_request, person):
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)

    html = _french_page(client_for(dpo), request)

    assert 'data-kind="contact"><td>contact</td>' in html
    assert 'data-kind="provenance"><td>provenance' in html
    assert "<td>email, phone, name</td>" not in html


def test_matched_on_labels(db):
    with translation.override("fr"):
        assert matched_on_label("email or phone") == "e-mail ou téléphone"
        assert matched_on_label("email, name") == "e-mail, nom"
        assert matched_on_label("contact #12") == "contact n° 12"


def test_officer_sees_no_contact_links(
    client_for, compliance_officer, dpo, make_request, person
):
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)
    contact_url = reverse("contacts:contact-detail", args=[person.pk])

    response = client_for(compliance_officer).get(_detail(request))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{contact_url}"' not in html
    assert f"#{person.pk}" in html


def test_dpo_sees_contact_links(client_for, dpo, make_request, person):
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)
    contact_url = reverse("contacts:contact-detail", args=[person.pk])

    response = client_for(dpo).get(_detail(request))

    assert f'href="{contact_url}"'.encode() in response.content


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_create_message_local_date(client_for, dpo):
    received = timezone.localtime() - datetime.timedelta(days=1)

    response = client_for(dpo).post(
        reverse("subject_requests:request-create"),
        {
            "kind": "access",
            "channel": "email",
            "requester_name": "Maëlle Quintard-Exemple",
            "requester_email": "maelle.quintard@example.com",
            "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        },
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )

    created = SubjectRequest.objects.get()
    with translation.override("fr"):
        expected = date_format(created.due_on, "DATE_FORMAT")
    messages = " ".join(_messages(response))
    assert f"échéance le {expected}" in messages
    assert created.due_on.isoformat() not in messages


def test_extend_message_local_date(client_for, dpo, make_request):
    request = make_request(verified_by=dpo)

    response = client_for(dpo).post(
        reverse("subject_requests:request-extend", args=[request.pk]),
        {
            "months": "1",
            "reason": "Many lists to search.",
            "informed_on": timezone.localdate().isoformat(),
            "informed_by": "email",
        },
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )

    request.refresh_from_db()
    with translation.override("fr"):
        expected = date_format(request.due_on, "DATE_FORMAT")
    assert any(expected in message for message in _messages(response))
    assert not any(request.due_on.isoformat() in m for m in _messages(response))


def test_link_message_plural(client_for, dpo, make_request, person):
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)

    response = client_for(dpo).post(
        reverse("subject_requests:request-link", args=[request.pk]),
        {"contact_ids": [person.pk]},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )

    assert "1 contact rattaché." in _messages(response)


def test_set_aside_button_records_decision(client_for, dpo, make_request, person):
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)

    response = client_for(dpo).post(
        reverse("subject_requests:request-link", args=[request.pk]),
        {"contact_ids": [person.pk], "action": "set_aside"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    assert "1 contact set aside as someone else's." in _messages(response)
    assert "Set aside: not the requester" in response.content.decode()
    assert "set aside: not the requester</span>" in response.content.decode()
    assert not request.contacts.exists()
    assert request.events.filter(action="contacts_set_aside").exists()


def test_extend_message_first_of_month(client_for, dpo, make_request):
    """GIVEN a request received on the first day of the current month
    WHEN the DPO extends it by one month in French
    THEN the message writes the new due date as "1er <month>"."""
    first_day = timezone.localtime().replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    request = make_request(verified_by=dpo, received_at=first_day)

    response = client_for(dpo).post(
        reverse("subject_requests:request-extend", args=[request.pk]),
        {
            "months": "1",
            "reason": "Many lists to search.",
            "informed_on": timezone.localdate().isoformat(),
            "informed_by": "email",
        },
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )

    request.refresh_from_db()
    with translation.override("fr"):
        month_year = date_format(request.due_on, "F Y")
    assert request.due_on.day == 1
    assert any(f"1er {month_year}" in message for message in _messages(response))
    assert not any(f" 1 {month_year}" in message for message in _messages(response))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Generated on Dec. 4, 2026, 4:48 a.m..",
            "Generated on Dec. 4, 2026, 4:48 a.m.",
        ),
        ("Généré le 4 décembre 2026 04:48.", "Généré le 4 décembre 2026 04:48."),
        ("Generated at noon.", "Generated at noon."),
    ],
)
def test_sentence_end_single_full_stop(text, expected):
    assert sentence_end(text) == expected


def test_search_summary_single_full_stop(client_for, dpo, make_request, person):
    request = make_request(verified_by=dpo)
    request_search(request=request, actor=dpo)
    request.last_search["searched_at"] = datetime.datetime(
        2026, 12, 4, 3, 48, tzinfo=datetime.UTC
    ).isoformat()
    request.save(update_fields=["last_search"])

    response = client_for(dpo).get(_detail(request), HTTP_ACCEPT_LANGUAGE="en")

    assert "on 4 December 2026, 04:48.</p>" in response.text
    assert "..</p>" not in response.text
