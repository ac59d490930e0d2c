"""The upload form shows each rejected list term beside its field."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from apps.contacts.models import ContactList
from apps.imports.mapping import mapping_problems
from apps.imports.models import ImportJob
from apps.retention.policy import local_today
from tests.imports.conftest import upload_form_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _field_errors(response, field: str) -> list[str]:
    assert response.status_code == 200
    return response.context["form"].errors.get(field, [])


def test_expired_licence_shown_beside_field(sales_user, client_for, upload_root):
    ended = local_today() - timedelta(days=5)

    response = upload_form_post(
        client_for(sales_user),
        acquisition="rental",
        licence_ends_on=ended.isoformat(),
    )

    errors = _field_errors(response, "licence_ends_on")
    assert len(errors) == 1
    assert f"{ended:%d/%m/%Y}" in errors[0]
    assert "retention run" in errors[0]
    assert not ImportJob.objects.exists()


def test_licence_end_on_purchase_rejected(sales_user, client_for, upload_root):
    licence_end = local_today() + timedelta(days=30)

    response = upload_form_post(
        client_for(sales_user), licence_ends_on=licence_end.isoformat()
    )

    errors = _field_errors(response, "licence_ends_on")
    assert f"{licence_end:%d/%m/%Y}" in errors[0]
    assert "only to a rented list" in errors[0]
    assert not ImportJob.objects.exists()


def test_acquisition_in_year_1_rejected(sales_user, client_for, upload_root):
    response = upload_form_post(client_for(sales_user), acquired_on="0001-01-01")

    errors = _field_errors(response, "acquired_on")
    assert "01/01/0001" in errors[0]
    assert "01/01/2000" in errors[0]
    assert not ImportJob.objects.exists()


def test_acquisition_past_retention_rejected(sales_user, client_for, upload_root):
    acquired_on = local_today() - timedelta(days=4 * 365)

    response = upload_form_post(
        client_for(sales_user), acquired_on=acquired_on.isoformat()
    )

    errors = _field_errors(response, "acquired_on")
    assert f"{acquired_on:%d/%m/%Y}" in errors[0]
    assert "3 years" in errors[0]
    assert not ImportJob.objects.exists()


def test_consent_basis_with_opt_out_rejected(sales_user, client_for, upload_root):
    response = upload_form_post(client_for(sales_user), lawful_basis="consent")

    errors = _field_errors(response, "lawful_basis")
    assert "“Consent (Art. 6(1)(a))”" in errors[0]
    assert "“opt-out (informed, able to object)”" in errors[0]
    assert not ImportJob.objects.exists()


def test_errors_in_french(sales_user, client_for, upload_root):
    response = upload_form_post(
        client_for(sales_user),
        language="fr",
        lawful_basis="consent",
        consent_claim="unknown",
    )

    errors = _field_errors(response, "lawful_basis")
    assert "« Consentement (art. 6.1.a) »" in errors[0]
    assert "« non précisé »" in errors[0]
    assert "unknown" not in errors[0]


def test_b2c_error_in_french_names_label(sales_user, client_for, upload_root):
    response = upload_form_post(client_for(sales_user), language="fr", audience="b2c")

    errors = _field_errors(response, "consent_claim")
    assert "« opt-out (personne informée, pouvant s'opposer) »" in errors[0]
    assert "opt_out" not in errors[0]


def test_invalid_date_skips_list_terms(sales_user, client_for, upload_root):
    response = upload_form_post(
        client_for(sales_user), acquired_on="hier", lawful_basis="consent"
    )

    assert "acquired_on" in response.context["form"].errors
    assert "lawful_basis" not in response.context["form"].errors


def test_rental_with_licence_ahead_accepted(sales_user, client_for, upload_root):
    licence_end = local_today() + timedelta(days=90)

    response = upload_form_post(
        client_for(sales_user),
        acquisition="rental",
        licence_ends_on=licence_end.isoformat(),
    )

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.acquisition == ContactList.Acquisition.RENTAL
    assert job.licence_ends_on == licence_end


def test_rental_licence_ending_today_accepted(sales_user, client_for, upload_root):
    response = upload_form_post(
        client_for(sales_user),
        acquisition="rental",
        licence_ends_on=local_today().isoformat(),
    )

    assert response.status_code == 302
    assert ImportJob.objects.get().licence_ends_on == local_today()


def test_duplicate_mapping_names_field_label():
    problems = mapping_problems({"0": "email", "1": "email"}, 2)

    assert problems == [
        "Column 1 and column 2 are mapped to “E-mail”, but a field takes one "
        "column only. Keep one of them and set the others to “(ignore this "
        "column)”."
    ]


def test_duplicate_mapping_label_in_french():
    with translation.override("fr"):
        problems = mapping_problems({"0": "postcode", "1": "postcode"}, 2)

    # The columns and the field are named in French. The sentence around them
    # is translated once the catalogue has its new text.
    assert problems[0].startswith("Colonne 1 et colonne 2 ")
    assert "Code postal" in problems[0]


def test_upload_form_date_help_texts(sales_user, client_for):
    response = client_for(sales_user).get(
        reverse("imports:job-create"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    fields = response.context["form"].fields
    assert "collection date" in str(fields["acquired_on"].help_text)
    assert "left empty for a purchased one" in str(fields["licence_ends_on"].help_text)
