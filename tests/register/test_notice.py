"""The public notice of an activity: the information of GDPR Art. 13 and 14."""

import pytest
from django.urls import reverse

from apps.core.models import Organisation
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

    response = client.get(reverse("register:notice", args=[activity.pk]))

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


def test_draft_has_no_notice(client, organisation, compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )

    response = client.get(reverse("register:notice", args=[activity.pk]))

    assert response.status_code == 404


def test_processor_activity_has_no_notice(client, organisation, compliance_officer):
    activity = complete_activity(
        compliance_officer, role=ProcessingActivity.Role.PROCESSOR
    )

    response = client.get(reverse("register:notice", args=[activity.pk]))

    assert response.status_code == 404
