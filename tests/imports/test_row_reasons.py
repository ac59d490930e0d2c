"""Row reasons: column names, shifted rows, postcodes, e-mails and merge notes."""

import io

import openpyxl
import pytest
from django.utils import translation

from apps.contacts.models import Contact
from apps.imports.models import ImportJob
from apps.imports.selectors import job_rejected_export
from tests.imports.conftest import import_file

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_note_names_shared_header_with_position(upload_root, write_file):
    path = write_file(
        "doublons.csv",
        "Email;Téléphone;Nom;Téléphone\njean.dupont@example.com;;Dupont;12\n",
    )

    job = import_file(path)

    assert job.status == ImportJob.Status.DONE
    reason = job.row_results.get(row_number=2).reason
    assert "Téléphone (column 4): not a valid phone number" in reason


def test_formula_email_row_is_rejected(upload_root, write_file):
    path = write_file(
        "formule.csv",
        "Courriel;Nom\n=cmd@example.com;Dupont\njean.dupont@example.com;Dupont\n",
    )

    job = import_file(path)

    assert job.counts["rejected"] == 1
    assert job.counts["created"] == 1
    reason = job.row_results.get(row_number=2).reason
    assert "Courriel: starts with “=”" in reason
    assert "formula" in reason


def test_row_with_value_beyond_header_is_rejected(upload_root, write_file):
    """GIVEN a CSV row whose city contains the delimiter
    WHEN it is imported
    THEN the row is rejected with the counts and the fix, and the rejected-rows
    download carries that reason."""
    path = write_file(
        "decale.csv",
        "Email;Nom;Ville\n"
        "jean.dupont@example.com;Dupont;Lyon\n"
        "marie.martin@example.com;Martin;Saint-Denis; La Réunion\n",
    )

    job = import_file(path)

    assert job.counts["created"] == 1
    assert job.counts["rejected"] == 1
    assert job.row_results.get(row_number=2).reason == ""
    reason = job.row_results.get(row_number=3).reason
    assert reason.startswith("4 values for 3 columns: ")
    assert "a value probably contains the delimiter “;”" in reason
    assert "Quote that value or remove the delimiter from it." in reason
    _headers, rows = job_rejected_export(job)
    assert [row[:2] for row in rows] == [[3, reason]]


def test_unquoted_comma_row_is_rejected(upload_root, write_file):
    path = write_file(
        "virgule.csv",
        "Nom,Email,Téléphone,Code postal\n"
        "Dupont, Durand SARL,c1@example.fr,06 12 34 56 78,75001\n"
        "Martin SA,c2@example.fr,06 12 34 56 79,69001\n",
    )

    job = import_file(path)

    assert job.counts["created"] == 1
    reason = job.row_results.get(row_number=2).reason
    assert reason.startswith("5 values for 4 columns: ")
    assert "the delimiter “,”" in reason
    assert "Email" not in reason
    assert not Contact.objects.filter(postcode="0612345678").exists()


def test_trailing_delimiters_are_not_values(upload_root, write_file):
    path = write_file(
        "fin.csv",
        "Email;Nom;Ville\njean.dupont@example.com;Dupont;Lyon;;;\n",
    )

    job = import_file(path)

    assert job.counts["created"] == 1
    assert job.row_results.get(row_number=2).reason == ""


def test_spreadsheet_value_without_header_is_left_out(upload_root, write_file):
    """A spreadsheet's cells cannot shift, so the row is kept with a note."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["Email", "Nom"])
    workbook.active.append(["jean.dupont@example.com", "Dupont", "client fidèle"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    job = import_file(write_file("notes.xlsx", buffer.getvalue()))

    assert job.counts["created"] == 1
    reason = job.row_results.get(row_number=2).reason
    assert reason == (
        "Left out the values after the header's last column, which have no header"
    )


@pytest.mark.parametrize(
    ("postcode", "country", "expected", "noted"),
    [
        ("1000", "", "01000", False),
        ("1000", "France", "01000", False),
        ("75 001", "", "75001", False),
        ("75007", "", "75007", False),
        ("1000", "Belgique", "1000", False),
        ("8001", "Suisse", "8001", False),
        ("123456", "", "123456", True),
        ("ABCDE", "FR", "ABCDE", True),
    ],
)
def test_french_postcode_in_csv(
    postcode, country, expected, noted, upload_root, write_file
):
    path = write_file(
        "codes.csv",
        f"Email;Code postal;Pays\njean.dupont@example.com;{postcode};{country}\n",
    )

    job = import_file(path, phone_country="FR")

    assert Contact.objects.get().postcode == expected
    reason = job.row_results.get(row_number=2).reason
    note = "Code postal: not a French postcode of 5 digits, kept as written"
    assert (reason == note) is noted
    if not noted:
        assert reason == ""


def test_postcode_of_belgian_job_stays_four_digits(upload_root, write_file):
    path = write_file("codes.csv", "Email;CP\njean.dupont@example.com;1000\n")

    job = import_file(path, phone_country="BE")

    assert Contact.objects.get().postcode == "1000"
    assert job.row_results.get(row_number=2).reason == ""


def test_postcode_city_column_is_padded(upload_root, write_file):
    path = write_file(
        "cp-ville.csv", "Email;CP Ville\njean.dupont@example.com;1000 Bourg\n"
    )

    import_file(path)

    contact = Contact.objects.get()
    assert (contact.postcode, contact.city) == ("01000", "Bourg")


def test_mailto_email_is_rejected_with_reason(upload_root, write_file):
    path = write_file("lien.csv", "Email;Nom\nmailto:jules@example.com;Garnier\n")

    job = import_file(path)

    assert job.counts["rejected"] == 1
    reason = job.row_results.get(row_number=2).reason
    assert reason == (
        "Email: starts with “mailto:”, the prefix of a web link; keep only the "
        "address after it"
    )


def test_email_with_display_name_keeps_address(upload_root, write_file):
    path = write_file(
        "nom.csv",
        "Email;Nom\n"
        "Jules Garnier <Jules@Example.com>;Garnier\n"
        '"""Garnier, Jules"" <jules.g@example.com>";Garnier\n',
    )

    job = import_file(path)

    assert job.counts["created"] == 2
    emails = set(Contact.objects.values_list("email", flat=True))
    assert emails == {"jules@example.com", "jules.g@example.com"}
    note = "Email: kept only the address inside the angle brackets"
    assert job.row_results.get(row_number=2).reason == note
    assert job.row_results.get(row_number=3).reason == note


def test_email_with_two_addresses_is_rejected(upload_root, write_file):
    path = write_file(
        "deux.csv", "Email;Nom\njules@example.com <j@example.com>;Garnier\n"
    )

    job = import_file(path)

    assert job.counts["rejected"] == 1
    reason = job.row_results.get(row_number=2).reason
    assert "@-sign" not in reason
    assert reason.startswith("Email: not a valid e-mail address (")


def test_email_reasons_in_french(upload_root, write_file):
    path = write_file(
        "lien.csv",
        "Email;Nom\nmailto:jules@example.com;Garnier\n"
        "Jules Garnier <jules@example.com>;Garnier\n",
    )

    with translation.override("fr"):
        job = import_file(path)

    rejected = job.row_results.get(row_number=2).reason
    assert rejected == (
        "Email : commence par « mailto: », le préfixe d'un lien web ; gardez "
        "seulement l'adresse qui suit"
    )
    noted = job.row_results.get(row_number=3).reason
    assert noted == "Email : seule l'adresse entre les chevrons a été gardée"


REIMPORT = (
    "Email;Nom;Pays;Téléphone\n"
    "jean.dupont@example.com;Dupont;FR;06 12 34 56 78\n"
    "marie.martin@example.com;Martin;FR;06 12 34 56 79\n"
)


def test_reimport_keeps_both_notes(upload_root, write_file):
    import_file(write_file("premier.csv", REIMPORT))
    second = REIMPORT.replace(";FR;06 12 34 56 78", ";Atlantide;06 12 34 56 78")

    job = import_file(write_file("second.csv", second))

    assert job.counts["merged"] == 2
    reason = job.row_results.get(row_number=2).reason
    assert reason.startswith("Left out Pays: unknown country")
    assert reason.endswith("; already imported into this list")
    assert job.row_results.get(row_number=3).reason == (
        "already imported into this list"
    )


def test_merge_notes_phone_differing_from_contact(upload_root, write_file):
    import_file(write_file("premier.csv", REIMPORT))
    second = REIMPORT.replace("06 12 34 56 78", "+32 470 12 34 56")

    job = import_file(write_file("second.csv", second), list_name="Autre liste")

    reason = job.row_results.get(row_number=2).reason
    assert reason == (
        "the phone number in the file differs from the contact's, which was kept"
    )
    assert "+32" not in reason
    assert job.row_results.get(row_number=3).reason == ""
    contact = Contact.objects.get(email="jean.dupont@example.com")
    assert contact.phone == "+33612345678"


@pytest.mark.parametrize(
    ("country", "expected_country"),
    [("België", "BE"), ("Österreich", "AT"), ("Belgique (BE)", "BE"), ("Atlantis", "")],
)
def test_foreign_postcode_not_padded(
    country, expected_country, upload_root, write_file
):
    path = write_file(
        "codes.csv", f"Email;Code postal;Pays\njean.dupont@example.com;1000;{country}\n"
    )

    import_file(path, phone_country="FR")

    contact = Contact.objects.get()
    assert contact.postcode == "1000"
    assert contact.country == expected_country


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("jean@exemple.fr.", "un point à côté du signe @ ou à une extrémité"),
        ("jean@exemple.invalidtld123", "une fin de domaine qui n'existe pas"),
    ],
)
def test_email_validator_messages_translated(upload_root, write_file, address, reason):
    path = write_file("points.csv", f"Email;Nom\n{address};Garnier\n")

    with translation.override("fr"):
        job = import_file(path)

    text = job.row_results.get(row_number=2).reason
    assert reason in text
    assert "email address" not in text
