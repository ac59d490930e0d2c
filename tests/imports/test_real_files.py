"""Every contact or lead file of the shared real-data folder imports sensibly.

The files are read in place and never copied into the repository.
"""

import pytest

from apps.contacts.models import Contact
from apps.imports.mapping import mapping_guess
from apps.imports.models import ImportJob
from apps.imports.readers import layout_detect
from apps.imports.selectors import job_preview
from apps.imports.services import ImportInputError
from tests.imports.conftest import REALDATA
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(
        not REALDATA.is_dir(), reason=f"{REALDATA} (shared real input files) is absent"
    ),
]

# File, expected counts, and fields that the guessed mapping must contain.
IMPORTABLE = [
    (
        "rdv-insertion/fichier_usager_600_lignes.csv",
        {"created": 600},
        {"email", "phone", "first_name", "last_name", "postcode_city"},
    ),
    (
        "rdv-insertion/new_fichier_usager_test.xlsx",
        {"created": 2},
        {"email", "phone", "first_name", "last_name"},
    ),
    (
        "rdv-insertion/fichier_contact_test_priorite_nir.csv",
        {"created": 2},
        {"email", "phone", "first_name", "last_name"},
    ),
    (
        "invoiceninja/clients.csv",
        {"created": 20},
        {"email", "first_name", "phone", "company"},
    ),
    (
        "invoiceninja/zoho_contacts.csv",
        {"created": 5},
        {"email", "company", "mobile", "phone"},
    ),
    (
        "dolibarr/file_import_company_1.csv",
        {"created": 2},
        {"email", "phone", "postcode", "city", "company"},
    ),
    ("django-import-export/books-ISO-8859-1.csv", {"created": 1}, {"email"}),
    ("django-import-export/books-mac.csv", {"created": 1}, {"email"}),
]

# Files that are not contact lists: they are rejected with a message.
NO_IDENTIFIER = "e-mail address or a phone number"
NOT_CONTACT_LISTS = [
    ("csv-test-files/CSV-basic-ISO-8859-1.CRLF.csv", NO_IDENTIFIER),
    ("django-import-export/books-invalid-date.csv", NO_IDENTIFIER),
    ("pix-siecle/siecle-csv-with-unknown-encoding.csv", NO_IDENTIFIER),
    ("tablib/bad_dimensions.xlsx", NO_IDENTIFIER),
    ("tablib/xlsx_cell_values.xlsx", "no contact rows"),
    ("cnil-registre/registre-traitement-simplifie.ods", NO_IDENTIFIER),
]


def _real(relative):
    path = REALDATA / relative
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.parametrize(("relative", "expected", "fields"), IMPORTABLE)
def test_real_file_imports(relative, expected, fields, upload_root):
    job = import_file(_real(relative))

    assert job.status == ImportJob.Status.DONE, job.error
    assert fields <= set(job.mapping.values())
    for outcome in ("created", "merged", "duplicate", "suppressed", "rejected"):
        assert job.counts[outcome] == expected.get(outcome, 0), outcome
    assert sum(job.counts.values()) == job.row_count


@pytest.mark.parametrize(("relative", "message"), NOT_CONTACT_LISTS)
def test_non_contact_file_is_rejected_with_message(relative, message, upload_root):
    with pytest.raises(ImportInputError, match=message):
        import_file(_real(relative))


def test_accented_local_parts_are_kept(upload_root):
    import_file(_real("rdv-insertion/fichier_usager_600_lignes.csv"))

    contact = Contact.objects.get(email="inès.dupont434@example.com")
    assert contact.first_name == "Inès"
    assert contact.phone == "+33680307435"
    assert (contact.postcode, contact.city) == ("17874", "Lyon")


def test_same_name_different_email_stays_two_people(upload_root):
    import_file(_real("rdv-insertion/fichier_usager_600_lignes.csv"))

    names = Contact.objects.values_list("first_name", "last_name")
    assert len(set(names)) < Contact.objects.count()


def test_nir_column_is_never_mapped(upload_root):
    job = import_file(_real("rdv-insertion/fichier_contact_test_priorite_nir.csv"))

    assert "3" not in job.mapping


def test_nir_column_is_masked_in_preview(upload_root):
    path = _real("rdv-insertion/fichier_contact_test_priorite_nir.csv")
    job = import_file_created(path)

    preview = job_preview(job)

    assert [row[3] for row in preview] == ["•••", "•••"]
    assert preview[0][0] == "ISQCJQO"


def test_invoice_ninja_uses_contact_phone_column(upload_root):
    job = import_file(_real("invoiceninja/clients.csv"))

    assert job.header_row == 4
    assert job.mapping["25"] == "phone"


def test_zoho_shared_phone_does_not_merge_companies(upload_root):
    import_file(_real("invoiceninja/zoho_contacts.csv"))

    assert Contact.objects.count() == 5


def test_dolibarr_company_names_fill_company(upload_root):
    job = import_file(_real("dolibarr/file_import_company_1.csv"))

    assert job.mapping["0"] == "company"
    companies = set(Contact.objects.values_list("company", flat=True))
    assert "" not in companies
    assert len(companies) == 2


def test_siecle_prefers_family_name_column():
    path = _real("pix-siecle/siecle-csv-with-unknown-encoding.csv")
    headers = layout_detect(str(path), sheet_name="").headers

    mapping = mapping_guess(headers)

    last_name_columns = [i for i, field in mapping.items() if field == "last_name"]
    assert [headers[int(i)] for i in last_name_columns] == ["Nom de famille*"]


def test_us_phones_use_the_row_country(upload_root, write_file):
    """GIVEN the US phone numbers of the Invoice Ninja and Zoho exports
    WHEN the rows name their country
    THEN valid US numbers are kept and a French number still reads as French."""
    content = (
        "Email,Phone,Country\n"
        "a@example.com,888-867-5309,United States\n"
        "b@example.com,888-567-5309,US\n"
        "c@example.com,1-537-759-0369,United States of America\n"
        "d@example.com,01 23 45 67 89,US\n"
        "e@example.com,888-867-5309,\n"
    )

    job = import_file(write_file("us.csv", content))

    phones = dict(Contact.objects.values_list("email", "phone"))
    assert phones["a@example.com"] == "+18888675309"
    assert phones["b@example.com"] == "+18885675309"
    # 537 is no US area code, so this number from the export stays invalid.
    assert phones["c@example.com"] == ""
    assert "region US" in job.row_results.get(row_number=4).reason
    assert phones["d@example.com"] == "+33123456789"
    assert phones["e@example.com"] == ""
    assert "region FR" in job.row_results.get(row_number=6).reason
