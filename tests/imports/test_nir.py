"""Social-security numbers (NIR) never reach a contact, a preview or a download."""

import pytest

from apps.contacts.models import Contact
from apps.imports.mapping import is_forbidden_header
from apps.imports.mapping import is_nir
from apps.imports.selectors import job_preview
from apps.imports.selectors import job_rejected_export
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created

# Invented numbers whose keys are valid: a man born in May 1980 in Paris, and
# the same in Corse-du-Sud (2A, which the key counts as 19).
NIR = "1 80 05 75 107 123 64"
NIR_CORSICA = "1 80 05 2A 004 123 10"


@pytest.mark.parametrize(
    "header",
    [
        "NIR",
        "N° Sécu",
        "N° de sécurité sociale",
        "Numéro sécurité sociale",
        "N° SS",
        "N° INSEE",
        "NIR/NIA",
        "Social security number",
        "N° S.S.",
        "NumSecu",
        "Numéro d'inscription au répertoire",
        "Numéro Sécurité Soc.",
    ],
)
def test_nir_headers_recognised(header):
    assert is_forbidden_header(header)


@pytest.mark.parametrize("header", ["Code INSEE", "Numéro", "Société", "Ville"])
def test_other_headers_allowed(header):
    assert not is_forbidden_header(header)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (NIR, True),
        (NIR.replace(" ", ""), True),
        (NIR_CORSICA, True),
        (NIR.replace(" ", "."), True),
        ("1 80 05 75 107 123 65", False),
        ("06 12 34 56 78", False),
        ("73282932000074", False),
    ],
)
def test_nir_key_checked(text, expected):
    assert is_nir(text) is expected


@pytest.mark.django_db
@pytest.mark.postgres
def test_nir_under_other_header_left_out(upload_root, write_file):
    content = f"Email;Nom;Identifiant\njean.dupont@example.com;Dupont;{NIR}\n"
    path = write_file("liste.csv", content.encode())

    job = import_file(path, mapping={"0": "email", "1": "last_name", "2": "job_title"})

    contact = Contact.objects.get()
    assert contact.job_title == ""
    assert "social-security number" in job.row_results.get().reason


@pytest.mark.django_db
@pytest.mark.postgres
def test_nir_masked_in_preview_and_download(upload_root, write_file):
    content = (
        "Email;Nom;Identifiant;Date de collecte\n"
        f"jean.dupont@example.com;Dupont;{NIR};2001-01-01\n"
    )
    path = write_file("liste.csv", content.encode())
    job = import_file_created(path)

    preview = job_preview(job)
    job = import_file(path, list_name="Autre liste")
    _headers, rows = job_rejected_export(job)

    assert preview[0][2] == "•••"
    (rejected,) = list(rows)
    assert NIR not in rejected
    assert "•••" in rejected


@pytest.mark.django_db
@pytest.mark.postgres
def test_nir_under_postcode_left_out(upload_root, write_file):
    content = f"Email;Nom;Code postal\njean.dupont@example.com;Dupont;{NIR}\n"
    path = write_file("liste.csv", content.encode())

    import_file(path)

    assert Contact.objects.get().postcode == ""
