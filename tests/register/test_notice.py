"""The public notice of an activity: the information of GDPR Art. 13 and 14."""

import uuid

import pytest
from django.urls import reverse

from apps.core.models import Organisation
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from tests.register.factories import complete_activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    organisation = Organisation.current()
    organisation.name = "Exemplaire Industries SAS"
    organisation.dpo_name = "Bruno Fictif"
    organisation.dpo_email = "dpo@exemplaire.example"
    organisation.save()
    return organisation


def test_notice_public_with_art_14_items(client, organisation, compliance_officer):
    activity = complete_activity(compliance_officer)

    response = client.get(reverse("register:notice", args=[activity.notice_token]))

    assert response.status_code == 200
    content = response.content.decode()
    for expected in (
        "Exemplaire Industries SAS",
        "dpo@exemplaire.example",
        activity.purposes,
        activity.get_lawful_basis_display(),
        "Coordonnées",
        "Service commercial",
        "Right to erasure",
        "lodge a complaint with the supervisory authority, the CNIL",
    ):
        assert expected in content, expected


def test_notice_by_id_not_found(client, organisation, compliance_officer):
    activity = complete_activity(compliance_officer)

    response = client.get(f"/register/notice/{activity.pk}/")

    assert response.status_code == 404


def test_notice_unknown_token_not_found(client, organisation, compliance_officer):
    complete_activity(compliance_officer)

    response = client.get(reverse("register:notice", args=[uuid.uuid4()]))

    assert response.status_code == 404


def test_notice_tokens_differ(compliance_officer):
    first = complete_activity(compliance_officer, reference="TRT-201")
    second = complete_activity(compliance_officer, reference="TRT-202")

    assert first.notice_token != second.notice_token


def test_draft_has_no_notice(client, organisation, compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )

    response = client.get(reverse("register:notice", args=[activity.notice_token]))

    assert response.status_code == 404


def test_processor_activity_has_no_notice(client, organisation, compliance_officer):
    activity = complete_activity(
        compliance_officer, role=ProcessingActivity.Role.PROCESSOR
    )

    response = client.get(reverse("register:notice", args=[activity.notice_token]))

    assert response.status_code == 404


def _notice_text(client, activity) -> str:
    response = client.get(
        reverse("register:notice", args=[activity.notice_token]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    return response.content.decode()


def test_notice_consent_rights(client, organisation, compliance_officer):
    activity = complete_activity(
        compliance_officer, lawful_basis=LawfulBasis.CONSENT, legitimate_interest=""
    )

    content = _notice_text(client, activity)

    assert "Right to withdraw your consent at any time" in content
    assert "Right to data portability" in content
    assert "Right to object" not in content
    assert "a link to withdraw your consent with one click" in content
    assert "link to object" not in content


def test_notice_legal_obligation_rights(client, organisation, compliance_officer):
    activity = complete_activity(
        compliance_officer,
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        legitimate_interest="",
        data_sources="Registre des incidents tenu par le DPO.",
    )

    content = _notice_text(client, activity)

    assert "except for the data we must keep to meet this legal obligation" in content
    assert "portability" not in content
    assert "Right to object" not in content
    assert "withdraw" not in content
    assert "Registre des incidents tenu par le DPO." in content
    assert "with one click" not in content
    assert "list vendors named in our message" not in content


def test_notice_legitimate_interests_rights(client, organisation, compliance_officer):
    activity = complete_activity(
        compliance_officer, lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS
    )

    content = _notice_text(client, activity)

    assert "which is always granted (GDPR Art. 21)" in content
    assert "a link to object with one click" in content
    assert "grounds relating to your particular situation" in content
    assert "portability" not in content
    assert "withdraw" not in content
    assert "3 place de Fontenoy" in content


def test_activity_page_links_notice(client_for, compliance_officer):
    activity = complete_activity(compliance_officer)

    response = client_for(compliance_officer).get(
        reverse("register:activity-detail", args=[activity.pk])
    )

    notice = reverse("register:notice", args=[activity.notice_token])
    assert notice in response.content.decode()


def test_draft_page_has_no_notice_link(client_for, compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )

    response = client_for(compliance_officer).get(
        reverse("register:activity-detail", args=[activity.pk])
    )

    assert "data-notice" not in response.content.decode()
