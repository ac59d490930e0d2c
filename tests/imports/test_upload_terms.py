"""The upload form and the command reject batch terms no contact could meet."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.core.management import call_command
from django.urls import reverse

from apps.imports.models import ImportJob
from apps.register.models import ProcessingActivity
from apps.retention.policy import local_today
from tests.imports.conftest import UPLOAD_FILE
from tests.imports.conftest import upload_form_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _activity(reference, lawful_basis, status=ProcessingActivity.Status.IN_FORCE):
    return ProcessingActivity.objects.create(
        reference=reference,
        name=f"Activité {reference}",
        status=status,
        lawful_basis=lawful_basis,
        concerns_recipients_profession=True,
    )


def test_form_offers_only_prospecting_activities(sales_user, client_for):
    interests = _activity("TRT-910", "legitimate_interests")
    consent = _activity("TRT-911", "consent")
    breaches = _activity("TRT-912", "legal_obligation")
    contract = _activity("TRT-913", "contract")
    no_basis = _activity("TRT-914", "")
    draft = _activity("TRT-915", "consent", ProcessingActivity.Status.DRAFT)

    response = client_for(sales_user).get(reverse("imports:job-create"))

    choices = list(response.context["form"].fields["processing_activity"].queryset)
    assert choices == [interests, consent]
    assert breaches not in choices
    assert contract not in choices
    assert no_basis not in choices
    assert draft not in choices


def test_posted_breach_register_not_named(sales_user, client_for, upload_root):
    breaches = ProcessingActivity.objects.create(
        reference="TRT-912",
        name="Registre des violations",
        status=ProcessingActivity.Status.IN_FORCE,
        lawful_basis="legal_obligation",
    )

    response = upload_form_post(
        client_for(sales_user),
        lawful_basis="legal_obligation",
        processing_activity=str(breaches.pk),
    )

    errors = response.context["form"].errors["processing_activity"]
    assert response.status_code == 200
    assert "not one of the available choices" in errors[0]
    assert "TRT-912" not in response.content.decode()
    assert "Registre des violations" not in response.content.decode()
    assert not ImportJob.objects.exists()


def test_missing_activity_shown_beside_field(sales_user, client_for, upload_root):
    response = upload_form_post(client_for(sales_user), processing_activity="")

    errors = response.context["form"].errors["processing_activity"]
    assert response.status_code == 200
    assert "No processing activity is chosen" in errors[0]
    assert not ImportJob.objects.exists()


def test_basis_mismatch_shown_beside_basis(sales_user, client_for, upload_root):
    consent = _activity("TRT-911", "consent")

    response = upload_form_post(
        client_for(sales_user), processing_activity=str(consent.pk)
    )

    errors = response.context["form"].errors["lawful_basis"]
    assert "TRT-911" in errors[0]
    assert "“Consent (Art. 6(1)(a))”" in errors[0]
    assert not ImportJob.objects.exists()


def test_command_without_activity_fails(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(UPLOAD_FILE)

    with pytest.raises(CommandError, match="No processing activity is chosen"):
        call_command(
            "import_contacts",
            str(path),
            "--vendor=V",
            "--list=L",
            f"--acquired-on={local_today() - timedelta(days=60)}",
            stdout=io.StringIO(),
        )

    assert not ImportJob.objects.exists()


def test_command_b2c_on_interests_fails(upload_root, tmp_path):
    activity = _activity("TRT-910", "legitimate_interests")
    path = tmp_path / "liste.csv"
    path.write_bytes(UPLOAD_FILE)

    with pytest.raises(CommandError, match="consumers \\(B2C\\)"):
        call_command(
            "import_contacts",
            str(path),
            "--vendor=V",
            "--list=L",
            f"--acquired-on={local_today() - timedelta(days=60)}",
            "--audience=b2c",
            "--consent-claim=opt-in",
            f"--activity={activity.reference}",
            stdout=io.StringIO(),
        )

    assert not ImportJob.objects.exists()


def test_upload_form_offers_prospecting_bases_only():
    from apps.imports.forms import UploadForm

    choices = [value for value, _label in UploadForm().fields["lawful_basis"].choices]

    assert choices == ["consent", "legitimate_interests"]
