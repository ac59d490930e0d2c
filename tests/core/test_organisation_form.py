import io

import pytest
from django import forms

from apps.core.demo import seed_demo
from apps.core.forms import ORGANISATION_TEXT_MAX_LENGTH
from apps.core.forms import OrganisationForm
from apps.core.models import Organisation
from apps.register.layout import organisation_rows

pytestmark = [pytest.mark.django_db]


def _form(**values) -> OrganisationForm:
    data = {"name": "Exemplaire Industries SAS", "country": "FR"}
    data.update(values)
    return OrganisationForm(data=data)


@pytest.mark.parametrize("field", ["phone", "dpo_phone"])
def test_phone_rejects_text(field):
    form = _form(**{field: "abc"})

    assert not form.is_valid()
    assert "“abc” is not a phone number" in form.errors[field][0]


@pytest.mark.parametrize("number", ["06 12 34 56 78", "+33 6 12 34 56 78", ""])
def test_phone_accepts_french_and_e164(number):
    form = _form(phone=number, dpo_phone=number)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == number


def test_demo_organisation_saves_unchanged():
    seed_demo(password="demo-password-for-tests", stdout=io.StringIO())
    organisation = Organisation.current()

    data = forms.model_to_dict(organisation)
    data["loaded_version"] = organisation.updated_at.isoformat()
    form = OrganisationForm(data=data, instance=organisation)

    assert form.is_valid(), form.errors


@pytest.mark.parametrize("number", ["abc", "1234", "732 829 320 0007"])
def test_french_registration_number_checked(number):
    form = _form(registration_number=number)

    assert not form.is_valid()
    assert (
        f"“{number}” is neither a SIREN nor a SIRET"
        in (form.errors["registration_number"][0])
    )


@pytest.mark.parametrize(
    ("country", "number"),
    [
        ("FR", "732 829 320"),
        ("FR", "73282932000074"),
        ("FR", "732\u00a0829\u00a0320"),
        ("FR", "35600000000010"),
        ("DE", "HRB 12345"),
    ],
)
def test_registration_number_forms_accepted(country, number):
    form = _form(country=country, registration_number=number)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["registration_number"] == number


@pytest.mark.parametrize("number", ["123 456 789", "73282932000075"])
def test_registration_check_digit_checked(number):
    form = _form(registration_number=number)

    assert not form.is_valid()
    assert "wrong check digit" in form.errors["registration_number"][0]


@pytest.mark.parametrize("country", ["XX", "F", "fra", "12", "France"])
def test_unknown_country_rejected(country):
    form = _form(country=country)

    assert not form.is_valid()
    assert f"“{country.upper()}” is not a country code" in form.errors["country"][0]


def test_country_input_not_cut_to_two_letters():
    html = str(_form()["country"])

    assert "maxlength" not in html


def test_country_stored_upper_case():
    form = _form(country=" be ", registration_number="0123.456.789")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["country"] == "BE"


def test_browser_line_breaks_stored_as_lf():
    """GIVEN a DPO address typed in the browser, which submits CRLF line breaks,
    WHEN the organisation is saved and exported,
    THEN it is stored with LF and the register's identity block joins its lines
    with commas, without a stray carriage return."""
    form = _form(dpo_address="8 bis, rue Çà-et-Là\r\n75011 Paris", address="1 rue\r\nB")
    organisation = form.save()

    organisation.refresh_from_db()
    assert organisation.dpo_address == "8 bis, rue Çà-et-Là\n75011 Paris"
    assert organisation.address == "1 rue\nB"
    rows = dict((label, value) for label, value in organisation_rows(organisation))
    dpo = rows["Délégué à la protection des données (DPO) :"]
    assert "8 bis, rue Çà-et-Là, 75011 Paris" in dpo
    assert "\r" not in dpo


@pytest.mark.parametrize("field", ["address", "eu_representative", "dpo_address"])
def test_text_above_limit_rejected(field):
    form = _form(**{field: "x" * (ORGANISATION_TEXT_MAX_LENGTH + 1)})

    assert not form.is_valid()
    assert form.errors[field][0].startswith(
        f"This text has {ORGANISATION_TEXT_MAX_LENGTH + 1:d} characters, above "
        f"the maximum of {ORGANISATION_TEXT_MAX_LENGTH:d}."
    )


def test_text_limit_counts_crlf_as_one():
    lines = ["x" * 99] * 10
    form = _form(address="\r\n".join(lines))

    assert len("\r\n".join(lines)) > ORGANISATION_TEXT_MAX_LENGTH
    assert form.is_valid(), form.errors


def test_crlf_text_not_changed():
    organisation = Organisation.objects.create(
        name="Exemple SAS", address="1 rue\nB", dpo_address="2 rue\nC"
    )
    data = forms.model_to_dict(organisation)
    data["address"] = "1 rue\r\nB"
    data["dpo_address"] = "2 rue\rC"
    data["loaded_version"] = organisation.updated_at.isoformat()

    form = OrganisationForm(data=data, instance=organisation)

    assert form.is_valid(), form.errors
    assert "address" not in form.changed_data
    assert "dpo_address" not in form.changed_data
    assert form.cleaned_data["address"] == "1 rue\nB"
