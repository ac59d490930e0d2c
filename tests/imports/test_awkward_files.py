"""Awkward vendor files: each ends with the expected count per outcome."""

import datetime
import io
import zipfile

import openpyxl
import pytest
import tablib
from django.utils import translation

from apps.contacts.models import Contact
from apps.imports.models import ImportJob
from apps.imports.services import ImportInputError
from apps.imports.services import import_job_sheet_choose
from apps.imports.services import other_contact_sheets_warning
from apps.imports.services import unnamed_columns_warning
from tests.imports.conftest import RECENT_ACQUISITION
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HEADER = "Prénom;Nom;Adresse mail;Téléphone;Société\n"


def _xlsx(rows, *, sheets=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Contacts"
    for row in rows:
        sheet.append(row)
    for name, extra_rows in (sheets or {}).items():
        other = workbook.create_sheet(name)
        for row in extra_rows:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _ods(rows) -> bytes:
    dataset = tablib.Dataset(*rows[1:], headers=rows[0])
    return dataset.export("ods")


AWKWARD_FILES = {
    "utf8-bom.csv": (
        (
            "\ufeff"
            + HEADER
            + "Jean;Dupont;jean.dupont@example.com;06 12 34 56 78;Acme\n"
            + "Inès;Martin;ines.martin@example.com;;Acme\n"
        ).encode(),
        {"created": 2},
    ),
    "windows-1252.csv": (
        (
            HEADER
            + "Hélène;Mahé;helene.mahe@example.com;01 23 45 67 89;Société Générale\n"
            + "François;Noël;francois.noel@example.com;;Crème & Brûlée\n"
        ).encode("cp1252"),
        {"created": 2},
    ),
    "comma-quoted-line-break.csv": (
        (
            "first_name,last_name,email,company\n"
            'Anne,Leroy,anne.leroy@example.com,"Leroy SA\nSiège social"\n'
            'Paul,Roux,paul.roux@example.com,"Roux, Fils et Cie"\n'
        ).encode(),
        {"created": 2},
    ),
    "blank-lines.csv": (
        (
            HEADER
            + "\n"
            + "Jean;Dupont;jean.dupont@example.com;;\n"
            + ";;;;\n"
            + "\n"
            + "Luc;Blanc;luc.blanc@example.com;;\n"
            + "\n"
        ).encode(),
        {"created": 2},
    ),
    "duplicates-different-case.csv": (
        (
            HEADER
            + "Jean;Dupont;Jean.Dupont@Example.com;;\n"
            + "Jean;Dupont;jean.dupont@example.com;;\n"
            + "JEAN;DUPONT;JEAN.DUPONT@EXAMPLE.COM;;\n"
        ).encode(),
        {"created": 1, "duplicate": 2},
    ),
    "header-not-first.csv": (
        (
            "Export du 01/03/2025;;;;\n"
            ";;;;\n" + HEADER + "Jean;Dupont;jean.dupont@example.com;;\n"
        ).encode(),
        {"created": 1},
    ),
    "tab-delimited.tsv": (
        (
            "Prénom\tNom\tE-mail\n"
            "Jean\tDupont\tjean.dupont@example.com\n"
            "Marc\tPetit\tpas-une-adresse\n"
        ).encode(),
        {"created": 1, "rejected": 1},
    ),
    "pipe-delimited.csv": (
        (
            "Prénom|Nom|Courriel\n"
            "Jean|Dupont|jean.dupont@example.com\n"
            "Zoé|Petit|zoe.petit@example.com\n"
        ).encode(),
        {"created": 2},
    ),
    "mac-line-endings.csv": (
        b"Nom,E-mail\rDupont,jean.dupont@example.com\rPetit,zoe.petit@example.com\r",
        {"created": 2},
    ),
    "formula-cells.csv": (
        (
            HEADER
            + 'Jean;Dupont;jean.dupont@example.com;;=HYPERLINK("http://x.example")\n'
            + "Eve;Malice;=1+1;;Acme\n"
        ).encode(),
        {"created": 1, "rejected": 1},
    ),
    "serial-dates.xlsx": (
        _xlsx(
            [
                ["E-mail", "Nom", "Date de collecte"],
                ["jean.dupont@example.com", "Dupont", 45292],
                ["zoe.petit@example.com", "Petit", None],
                [None, None, None],
                [None, None, None],
            ]
        ),
        {"created": 2},
    ),
    "several-sheets.xlsx": (
        _xlsx(
            [
                ["Courriel", "Tél. portable"],
                ["jean.dupont@example.com", 612345678],
                [None, "06 98 76 54 32"],
                [None, "12"],
            ],
            sheets={"Notes": [["not", "contacts"]]},
        ),
        {"created": 2, "rejected": 1},
    ),
    "contacts.ods": (
        _ods(
            [
                ["Adresse mail", "Nom", "Pays"],
                ["jean.dupont@example.com", "Dupont", "France"],
                ["anna.muller@example.com", "Müller", "Atlantide"],
            ]
        ),
        {"created": 2},
    ),
}


@pytest.mark.parametrize("name", sorted(AWKWARD_FILES))
def test_awkward_file_outcomes(name, upload_root, write_file):
    content, expected = AWKWARD_FILES[name]
    job = import_file(write_file(name, content))

    assert job.status == ImportJob.Status.DONE, job.error
    for outcome in ("created", "merged", "duplicate", "suppressed", "rejected"):
        assert job.counts[outcome] == expected.get(outcome, 0), outcome
    assert sum(job.counts.values()) == job.row_count
    assert job.row_results.count() == job.row_count


def test_windows_1252_names_keep_their_accents(upload_root, write_file):
    content, _expected = AWKWARD_FILES["windows-1252.csv"]
    import_file(write_file("accents.csv", content))

    contact = Contact.objects.get(email="helene.mahe@example.com")
    assert (contact.first_name, contact.last_name) == ("Hélène", "Mahé")
    assert contact.company == "Société Générale"
    assert contact.phone == "+33123456789"


def test_quoted_line_break_stays_in_one_field(upload_root, write_file):
    content, _expected = AWKWARD_FILES["comma-quoted-line-break.csv"]
    import_file(write_file("quoted.csv", content))

    assert Contact.objects.get(email="anne.leroy@example.com").company == (
        "Leroy SA Siège social"
    )


def test_serial_date_becomes_collection_date(upload_root, write_file):
    content, _expected = AWKWARD_FILES["serial-dates.xlsx"]
    import_file(write_file("dates.xlsx", content))

    dated = Contact.objects.get(email="jean.dupont@example.com")
    undated = Contact.objects.get(email="zoe.petit@example.com")
    assert dated.collected_at.date() == datetime.date(2024, 1, 1)
    assert undated.collected_at.date() == RECENT_ACQUISITION


def test_formula_cell_is_dropped_and_noted(upload_root, write_file):
    content, _expected = AWKWARD_FILES["formula-cells.csv"]
    job = import_file(write_file("formula.csv", content))

    contact = Contact.objects.get(email="jean.dupont@example.com")
    created = job.row_results.get(outcome="created")
    rejected = job.row_results.get(outcome="rejected")
    assert contact.company == ""
    assert "Société" in created.reason
    assert "formula" in created.reason
    assert "Adresse mail" in rejected.reason


def test_unknown_country_is_dropped_but_row_kept(upload_root, write_file):
    content, _expected = AWKWARD_FILES["contacts.ods"]
    job = import_file(write_file("pays.ods", content))

    assert Contact.objects.get(email="jean.dupont@example.com").country == "FR"
    assert Contact.objects.get(email="anna.muller@example.com").country == ""
    assert "Pays" in job.row_results.get(row_number=3).reason


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n  \n", "empty"),
        ("only-headers.csv", HEADER.encode() + b"\n;;\n", "no contact rows"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "NUL"),
        ("legacy.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), ".xls"),
        ("archive.csv", b"PK\x03\x04" + bytes(100), "damaged or truncated"),
    ],
)
def test_unreadable_file_is_rejected_with_reason(
    name, content, message, upload_root, write_file
):
    with pytest.raises(ImportInputError, match=message):
        import_file(write_file(name, content))
    assert not ImportJob.objects.exists()


def test_file_above_size_limit_is_rejected(settings, upload_root, write_file):
    settings.MAX_UPLOAD_SIZE = 100
    path = write_file("big.csv", HEADER + "Jean;Dupont;jean@example.com;;\n" * 10)

    with pytest.raises(ImportInputError, match="above the 0 MB limit"):
        import_file(path)


def test_file_without_identifier_column_is_rejected(upload_root, write_file):
    path = write_file("names.csv", "first_name,last_name,age\nJohn,Smith,37\n")

    with pytest.raises(ImportInputError, match="e-mail address or a phone number"):
        import_file(path)


def test_numeric_french_postcode_keeps_leading_zero(upload_root, write_file):
    content = _xlsx(
        [
            ["E-mail", "Code postal", "Pays"],
            ["jean.dupont@example.com", 1000, "France"],
            ["anna.muller@example.com", 1000, "Allemagne"],
            ["zoe.petit@example.com", "75007", None],
        ]
    )
    import_file(write_file("codes.xlsx", content))

    assert Contact.objects.get(email="jean.dupont@example.com").postcode == "01000"
    assert Contact.objects.get(email="anna.muller@example.com").postcode == "1000"
    assert Contact.objects.get(email="zoe.petit@example.com").postcode == "75007"


def _workbook_with_cover(file_format: str, cover=None) -> bytes:
    """Build a workbook whose first sheet is a one-row note before the contacts."""
    cover = cover or [["Liste fournie par Exemple SARL"]]
    contacts = [
        ["Prénom", "Nom", "Adresse mail"],
        ["Jean", "Dupont", "jean.dupont@example.com"],
        ["Ana", "Martin", "ana.martin@example.com"],
    ]
    if file_format == "ods":
        book = tablib.Databook()
        note = tablib.Dataset(title="Lisez-moi")
        for row in cover:
            note.append(row)
        sheet = tablib.Dataset(*contacts[1:], headers=contacts[0], title="Contacts")
        book.add_sheet(note)
        book.add_sheet(sheet)
        return book.export("ods")
    workbook = openpyxl.Workbook()
    workbook.active.title = "Lisez-moi"
    for row in cover:
        workbook.active.append(row)
    sheet = workbook.create_sheet("Contacts")
    for row in contacts:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_cover_sheet_skipped_for_contacts(upload_root, write_file, file_format):
    path = write_file(f"liste.{file_format}", _workbook_with_cover(file_format))

    job = import_file(path)

    assert job.sheet_name == "Contacts"
    assert job.counts["created"] == 2


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_vendor_contact_sheet_passed_over(upload_root, write_file, file_format):
    cover = [
        ["Fournisseur", "Email", "Téléphone"],
        ["VendorCo", "commercial@vendor.example.com", "01 23 45 67 89"],
    ]
    content = _workbook_with_cover(file_format, cover)
    path = write_file(f"liste.{file_format}", content)

    job = import_file(path)

    assert job.sheet_name == "Contacts"


def _stray_quote_file(rows: int, at: int) -> str:
    lines = [HEADER.rstrip("\n")]
    for number in range(1, rows + 1):
        company = f'"Stray SA {number}' if number == at else f"Société {number}"
        lines.append(f"Jean{number};Dupont;jean{number}@example.com;;{company}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("rows", [60, 3000])
def test_unclosed_quote_rejects_the_file_naming_its_line(rows, upload_root, write_file):
    """GIVEN a row whose company opens a quote that is never closed,
    WHEN the file is imported,
    THEN the import stops with the line of that quote and creates nothing,
    instead of taking the next rows in as one cell."""
    path = write_file("stray.csv", _stray_quote_file(rows, at=rows - 50))

    # Within the rows read to detect the layout, the upload is refused; later,
    # the run fails before it commits anything.
    try:
        job = import_file(path)
    except ImportInputError as error:
        message = str(error)
    else:
        assert job.status == ImportJob.Status.FAILED
        message = job.error
    assert f"Line {rows - 49} opens a cell with a quote mark" in message
    assert f"lines {rows - 48} to {rows + 1}" in message
    assert not Contact.objects.exists()


def test_multiline_address_imports(upload_root, write_file):
    path = write_file(
        "adresse.csv",
        'E-mail;Nom;Adresse\nanne@example.com;Martin;"12 rue de la Paix\n'
        'Bâtiment B; 2e étage\n75002 Paris"\nluc@example.com;Petit;Lyon\n',
    )

    job = import_file(path)

    assert job.counts["created"] == 2


def test_spreadsheet_error_value_is_dropped_and_noted(upload_root, write_file):
    rows = [
        ["E-mail", "Nom", "Fonction", "Société"],
        ["anne@example.com", "Martin", "#REF!", "Exemple SA"],
        ["luc@example.com", "Petit", "Acheteur", "#N/A"],
    ]
    job = import_file(write_file("erreurs.xlsx", _xlsx(rows)))

    anne = Contact.objects.get(email="anne@example.com")
    luc = Contact.objects.get(email="luc@example.com")
    assert (anne.job_title, anne.company) == ("", "Exemple SA")
    assert (luc.job_title, luc.company) == ("Acheteur", "")
    reasons = list(job.row_results.values_list("reason", flat=True))
    assert any("#REF! is a spreadsheet error" in reason for reason in reasons)
    assert any("#N/A is a spreadsheet error" in reason for reason in reasons)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(encoding, upload_root, write_file):
    text = "E-mail,Nom,Société\r\nanne@example.com,Martin,Crème SA\r\n"
    text += "".join(f"p{n}@example.com,Nom {n},Éts {n}\r\n" for n in range(300))
    path = write_file("utf16.csv", text.encode(encoding))

    job = import_file(path)

    assert job.counts["created"] == 301
    assert Contact.objects.get(email="anne@example.com").company == "Crème SA"


SHORT_WESTERN_FILES = [
    ("Société;Nom;Email\r\nL’Œuvre;Zoé;zoe@oeuvre-exemple.fr\r\n", "Zoé", "L’Œuvre"),
    (
        "Nom;Email;Entreprise\r\nBoë;eb@oeil.example;Éditions Œil\r\n",
        "Boë",
        "Éditions Œil",
    ),
]


@pytest.mark.parametrize(("text", "last_name", "company"), SHORT_WESTERN_FILES)
def test_short_windows_1252_file_is_read(
    text, last_name, company, upload_root, write_file
):
    """A short French file that charset-normalizer takes for a Baltic or
    Icelandic code page is read as Windows-1252."""
    job = import_file(write_file("court.csv", text.encode("cp1252")))

    contact = Contact.objects.get()
    assert job.encoding == "cp1252"
    assert contact.last_name == last_name
    assert contact.company == company


def test_cyrillic_windows_1251_file_is_read(upload_root, write_file):
    """A Windows-1251 list is not read as mac_cyrillic, charset-normalizer's
    guess for this sample, which turns its capitals into punctuation."""
    names = ["Иванов", "Смирнова", "Кузнецов", "Попова"]
    text = "Societe;Nom;Email\r\n" + "".join(
        f"Ромашка {n};{names[n % 4]};p{n}@romashka.example\r\n" for n in range(60)
    )

    job = import_file(write_file("cyrillique.csv", text.encode("cp1251")))

    assert job.encoding == "cp1251"
    assert Contact.objects.get(email="p0@romashka.example").last_name == "Иванов"
    assert Contact.objects.get(email="p0@romashka.example").company == "Ромашка 0"


def test_size_limit_message_uses_the_french_decimal_comma(
    settings, upload_root, write_file
):
    settings.MAX_UPLOAD_SIZE = 2 * 1048576
    path = write_file("gros.csv", HEADER + "x" * int(3.4 * 1048576))

    with translation.override("fr"), pytest.raises(ImportInputError) as raised:
        import_file(path)

    assert "3,4 Mo" in str(raised.value)


def test_html_file_named_in_french(upload_root, write_file):
    path = write_file("liste.xls", "<html><body><table></table></body></html>")

    with translation.override("fr"), pytest.raises(ImportInputError) as raised:
        import_file(path)

    assert "XML ou HTML" in str(raised.value)


def test_other_contact_sheet_is_named_in_a_warning(upload_root, write_file):
    """GIVEN a workbook with contacts on two sheets,
    WHEN it is uploaded, THEN the job reads the larger one and warns that the
    other one is not imported, and the warning follows the sheet chosen."""
    idf = [["E-mail", "Nom"]] + [[f"idf{n}@example.com", "Nom"] for n in range(5)]
    paca = [["E-mail", "Nom"]] + [[f"paca{n}@example.com", "Nom"] for n in range(8)]
    path = write_file("regions.xlsx", _xlsx(idf, sheets={"Contacts PACA": paca}))
    job = import_file_created(path)

    warning = other_contact_sheets_warning(job)

    assert job.sheet_name == "Contacts PACA"
    assert "The sheet “Contacts” of this workbook also holds" in warning
    assert "reads only the sheet “Contacts PACA”" in warning
    job = import_job_sheet_choose(job=job, sheet_name="Contacts")
    assert "The sheet “Contacts PACA” of this workbook" in (
        other_contact_sheets_warning(job)
    )


def test_single_contact_sheet_has_no_warning(upload_root, write_file):
    path = write_file("liste.xlsx", _workbook_with_cover("xlsx"))

    assert other_contact_sheets_warning(import_file_created(path)) == ""


def test_merged_header_cell_warns(upload_root, write_file):
    """GIVEN a workbook whose header "Nom complet" is merged over two columns,
    WHEN it is uploaded, THEN a warning names the second column, which has no
    header of its own, with one of its values."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Nom complet", None, "E-mail"])
    sheet.append(["Anne", "Dupuis", "anne@example.com"])
    sheet.append(["Luc", "Morel", "luc@example.com"])
    sheet.merge_cells("A1:B1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = import_file_created(write_file("fusion.xlsx", buffer.getvalue()))

    warning = unnamed_columns_warning(job)

    assert "A column without a header holds values and is left out" in warning
    assert "column 2 (for example “Dupuis”)" in warning
    mapped = {**job.mapping, "1": "last_name"}
    assert unnamed_columns_warning(job, mapped) == ""


def test_unclosed_quote_two_columns(upload_root, write_file):
    lines = ["Email;Nom"] + [f"p{n}@two.example;Nom{n}" for n in range(100)]
    lines[11] = 'p10@two.example;"Stray'
    path = write_file("deux.csv", "\n".join(lines) + "\n")

    with pytest.raises(ImportInputError, match="Line 12 opens a cell with a quote"):
        import_file(path)
    assert not Contact.objects.exists()


def test_two_column_address_with_a_semicolon_imports(upload_root, write_file):
    path = write_file(
        "deux.csv", 'Email;Adresse\nanne@example.com;"12 rue X\nBât. B; étage 2"\n'
    )

    assert import_file(path).counts["created"] == 1


def test_error_email_keeps_phone(upload_root, write_file):
    rows = [["E-mail", "Nom", "Téléphone"], ["#N/A", "Martin", "06 12 34 56 78"]]

    job = import_file(write_file("erreur.xlsx", _xlsx(rows)))

    result = job.row_results.get()
    assert result.outcome == "created"
    assert "#N/A is a spreadsheet error" in result.reason
    assert Contact.objects.get().phone == "+33612345678"


def _utf8_rows(count: int) -> str:
    return "".join(
        f"Émile{index};Lefèvre;emile.lefevre{index}@example.com;;Société Ouest\n"
        for index in range(count)
    )


def test_stray_windows_1252_row_in_utf8_file(upload_root, write_file):
    stray = "Hélène;Mahé;helene.mahe@example.com;;Crème Brûlée\n".encode("cp1252")
    content = (HEADER + _utf8_rows(3)).encode() + stray

    job = import_file(write_file("mixed.csv", content))

    assert job.encoding == "utf-8"
    assert job.counts["created"] == 4
    first = Contact.objects.get(email="emile.lefevre0@example.com")
    assert (first.first_name, first.company) == ("Émile0", "Société Ouest")
    stray_contact = Contact.objects.get(email="helene.mahe@example.com")
    assert (stray_contact.first_name, stray_contact.last_name) == ("Hélène", "Mahé")
    assert stray_contact.company == "Crème Brûlée"
    noted = job.row_results.get(row_number=5)
    assert "read as Windows-1252, unlike the rest of the file" in noted.reason
    assert job.row_results.get(row_number=2).reason == ""


def test_utf8_rows_in_windows_1252_file(upload_root, write_file):
    from apps.contacts.suppression import suppression_add

    suppression_add(reason="objected", emails=["inès.dupont434@example.com"])
    rows = HEADER + "François;Noël;francois.noel@example.com;;Crème\n"
    suppressed_row = "Inès;Dupont;inès.dupont434@example.com;;\n"
    utf8_row = "Zoé;Kühn;zoe.kuhn@example.com;;\n"
    content = rows.encode("cp1252") + (suppressed_row + utf8_row).encode()

    job = import_file(write_file("mixed.csv", content))

    assert job.encoding == "cp1252"
    assert job.counts["created"] == 2
    assert job.counts["suppressed"] == 1
    assert Contact.objects.get(email="francois.noel@example.com").first_name == (
        "François"
    )
    assert Contact.objects.get(email="zoe.kuhn@example.com").last_name == "Kühn"
    assert "read as UTF-8" in job.row_results.get(row_number=4).reason


def test_stray_row_after_detection_sample(upload_root, write_file):
    content = (HEADER + _utf8_rows(20_000)).encode()
    stray = "Hélène;Mahé;helene.mahe@example.com;;\n".encode("cp1252")
    assert len(content) > 1024 * 1024

    job = import_file(write_file("long.csv", content + stray))

    assert job.status == ImportJob.Status.DONE, job.error
    assert job.counts["created"] == 20_001
    assert Contact.objects.get(email="helene.mahe@example.com").last_name == "Mahé"
    assert "Windows-1252" in job.row_results.get(row_number=20_002).reason


MERGED_ROWS = [
    ["Prénom", "Nom", "E-mail", "Société"],
    ["Anne", "Dupuis", "anne.dupuis@example.com", "Exemple Industries"],
    ["Luc", "Morel", "luc.morel@example.com", None],
    ["Inès", "Roy", "ines.roy@example.com", None],
    ["Paul", "Lenoir", "paul.lenoir@example.com", "Autre Exemple SA"],
]


def _merged_xlsx() -> bytes:
    """A workbook with a title merged across columns above the headers, and
    the first company merged over its three people's rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Salon 2026 : liste des visiteurs"])
    for row in MERGED_ROWS:
        sheet.append(row)
    sheet.merge_cells("A1:D1")
    sheet.merge_cells("D3:D5")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _ods_cell_xml(value, *, rows_spanned=0) -> str:
    if value is None:
        return (
            "<table:covered-table-cell/>" if rows_spanned < 0 else "<table:table-cell/>"
        )
    span = f' table:number-rows-spanned="{rows_spanned}"' if rows_spanned > 0 else ""
    return (
        f'<table:table-cell office:value-type="string"{span}>'
        f"<text:p>{value}</text:p></table:table-cell>"
    )


def _ods_bytes(tables: str, styles: str = "") -> bytes:
    """Return an ODS file whose content.xml contains ``tables`` (table
    elements) and the automatic ``styles``, laid out as LibreOffice does."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<office:document-content"
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        f' office:version="1.2"><office:automatic-styles>{styles}'
        "</office:automatic-styles><office:body><office:spreadsheet>"
        f"{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<manifest:manifest"
        ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml"'
        ' manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED
        )
    return buffer.getvalue()


def _ods_table(name: str, rows: list[str], style: str = "") -> str:
    """Return a table element of the cells' XML ``rows``."""
    style_attribute = f' table:style-name="{style}"' if style else ""
    body = "".join(f"<table:table-row>{row}</table:table-row>" for row in rows)
    return f'<table:table table:name="{name}"{style_attribute}>{body}</table:table>'


def _merged_ods() -> bytes:
    """An ODS sheet with the first company merged over three rows, written as
    a spreadsheet program does: a spanning cell, then covered cells."""
    rows = []
    for index, row in enumerate(MERGED_ROWS):
        cells = [_ods_cell_xml(value) for value in row[:3]]
        if index == 1:
            cells.append(_ods_cell_xml(row[3], rows_spanned=3))
        elif row[3] is None:
            cells.append(_ods_cell_xml(None, rows_spanned=-1))
        else:
            cells.append(_ods_cell_xml(row[3]))
        rows.append("".join(cells))
    return _ods_bytes(_ods_table("Contacts", rows))


@pytest.mark.parametrize(
    ("name", "content"),
    [("fusion.xlsx", _merged_xlsx), ("fusion.ods", _merged_ods)],
)
def test_merged_company_cell_fills_its_rows(name, content, upload_root, write_file):
    job = import_file(write_file(name, content()))

    assert job.status == ImportJob.Status.DONE, job.error
    assert job.counts["created"] == 4
    companies = dict(Contact.objects.values_list("last_name", "company"))
    assert companies == {
        "Dupuis": "Exemple Industries",
        "Morel": "Exemple Industries",
        "Roy": "Exemple Industries",
        "Lenoir": "Autre Exemple SA",
    }


def _hidden_archive_xlsx(state: str) -> bytes:
    """Return a workbook whose hidden first sheet lists 30 archived people
    and whose visible sheet lists 10."""
    workbook = openpyxl.Workbook()
    archive = workbook.active
    archive.title = "Archive"
    archive.append(["E-mail", "Nom"])
    for n in range(30):
        archive.append([f"archive{n}@example.com", "Ancien"])
    archive.sheet_state = state
    contacts = workbook.create_sheet("Contacts")
    contacts.append(["E-mail", "Nom"])
    for n in range(10):
        contacts.append([f"contact{n}@example.com", "Actuel"])
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _hidden_archive_ods() -> bytes:
    def rows(prefix, count):
        header = "".join(_ods_cell_xml(value) for value in ("E-mail", "Nom"))
        return [header] + [
            "".join(
                _ods_cell_xml(value) for value in (f"{prefix}{n}@example.com", "Nom")
            )
            for n in range(count)
        ]

    styles = (
        '<style:style style:name="ta1" style:family="table">'
        '<style:table-properties table:display="true"/></style:style>'
        '<style:style style:name="ta2" style:family="table">'
        '<style:table-properties table:display="false"/></style:style>'
    )
    tables = _ods_table("Archive", rows("archive", 30), "ta2") + _ods_table(
        "Contacts", rows("contact", 10), "ta1"
    )
    return _ods_bytes(tables, styles)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cache.xlsx", lambda: _hidden_archive_xlsx("hidden")),
        ("cache-fort.xlsx", lambda: _hidden_archive_xlsx("veryHidden")),
        ("cache.ods", _hidden_archive_ods),
    ],
)
def test_hidden_sheet_not_chosen_over_visible(name, content, upload_root, write_file):
    """GIVEN a hidden sheet of 30 people before a visible sheet of 10,
    WHEN the workbook is uploaded, THEN the visible sheet is read. Reading
    the hidden one on purpose gets a warning that it is hidden."""
    job = import_file_created(write_file(name, content()))

    warning = other_contact_sheets_warning(job)
    assert job.sheet_name == "Contacts"
    assert "The hidden sheet “Archive” also holds" in warning
    assert "Import it as a job of its own" not in warning
    job = import_job_sheet_choose(job=job, sheet_name="Archive")
    assert "The sheet “Archive” is hidden in the workbook" in (
        other_contact_sheets_warning(job)
    )


def test_repeated_header_in_other_order_reorders_rows(upload_root, write_file):
    """GIVEN two exports pasted into one file, the second with its first and
    last names swapped, WHEN it is imported, THEN the second header row is
    rejected as a header and the rows below it keep their names right."""
    content = (
        "Prénom;Nom;E-mail\n"
        "Anne;Dupuis;anne.dupuis@example.com\n"
        "Luc;Morel;luc.morel@example.com\n"
        "Nom;Prénom;E-mail\n"
        "Durand;Chloé;chloe.durand@example.com\n"
        "Roux;Denis;denis.roux@example.com\n"
    )

    job = import_file(write_file("deux-exports.csv", content))

    header = job.row_results.get(row_number=4)
    names = dict(Contact.objects.values_list("email", "first_name"))
    assert job.counts == {
        "created": 4,
        "merged": 0,
        "duplicate": 0,
        "suppressed": 0,
        "rejected": 1,
    }
    assert header.reason == (
        "this row repeats the header row with its columns in another order; "
        "the rows below are read in that order"
    )
    assert names["chloe.durand@example.com"] == "Chloé"
    assert names["denis.roux@example.com"] == "Denis"
    assert names["anne.dupuis@example.com"] == "Anne"


def test_repeated_header_in_same_order_is_named(upload_root, write_file):
    content = (
        "Prénom;Nom;E-mail\n"
        "Anne;Dupuis;anne.dupuis@example.com\n"
        "Prénom;Nom;E-mail\n"
        "Luc;Morel;luc.morel@example.com\n"
    )

    job = import_file(write_file("repete.csv", content))

    assert job.counts["created"] == 2
    assert job.row_results.get(row_number=3).reason == (
        "this row repeats the header row; the rows below are read as before"
    )


def test_merged_ranges_scanned_once_per_file(write_file, monkeypatch):
    """The scan for merged cells reads a sheet's whole XML, so a page that
    reads a file's first rows several times scans it once."""
    from apps.imports import readers

    scans = []
    scan = readers._xlsx_row_merges
    monkeypatch.setattr(
        readers, "_xlsx_row_merges", lambda sheet: scans.append(1) or scan(sheet)
    )
    path = write_file("fusion-cache.xlsx", _merged_xlsx())

    for _attempt in range(3):
        layout = readers.layout_detect(path)
        reader = readers.FileReader(path, layout)
        rows = list(reader.data_rows())
        reader.close()

    assert len(scans) == 1
    assert rows[2][1][3] == "Exemple Industries"


def test_ods_block_merged_both_ways_fills_its_column(upload_root, write_file):
    """GIVEN an ODS block merged over two columns and three rows. Its lower
    rows cover both columns with one repeated element, as LibreOffice writes
    it. WHEN it is imported, THEN the company fills its own column and the
    city beside it stays empty."""
    covered_pair = '<table:covered-table-cell table:number-columns-repeated="2"/>'
    top = (
        '<table:table-cell office:value-type="string" '
        'table:number-rows-spanned="3" table:number-columns-spanned="2">'
        "<text:p>ACME</text:p></table:table-cell><table:covered-table-cell/>"
    )
    rows = [
        "".join(_ods_cell_xml(value) for value in ("Société", "Ville", "E-mail")),
        top + _ods_cell_xml("ov0@example.com"),
        covered_pair + _ods_cell_xml("ov1@example.com"),
        covered_pair + _ods_cell_xml("ov2@example.com"),
    ]

    import_file(write_file("bloc.ods", _ods_bytes(_ods_table("Contacts", rows))))

    contacts = Contact.objects.order_by("email").values_list("company", "city")
    assert list(contacts) == [("ACME", ""), ("ACME", ""), ("ACME", "")]


def test_repeated_header_with_synonyms_reorders_rows(upload_root, write_file):
    content = (
        "Prénom;Nom;Email;Société\n"
        "Anne;Dupuis;anne.dupuis@example.com;Exemple SA\n"
        "NOM;PRENOM;E-MAIL;SOCIETE\n"
        "Durand;Paul;paul.durand@example.com;Autre SA\n"
    )

    job = import_file(write_file("synonymes.csv", content))

    paul = Contact.objects.get(email="paul.durand@example.com")
    assert (paul.first_name, paul.last_name) == ("Paul", "Durand")
    assert "repeats the header row" in job.row_results.get(row_number=3).reason


@pytest.mark.parametrize(
    "content",
    [
        # A section row with two header words, but not the e-mail and phone.
        "Prénom;Nom;Société;Fonction;Téléphone;Email\n"
        "Anne;Dupuis;Exemple SA;Achats;0612345678;anne.dupuis@example.com\n"
        ";;Société;Fonction;;\n"
        "Luc;Morel;Autre SA;Ventes;0698765432;luc.morel@example.com\n",
        # A row with some of the header's columns and one of its own.
        "Prénom;Nom;Email;Société\n"
        "Anne;Dupuis;anne.dupuis@example.com;Exemple SA\n"
        "Prénom;Nom;Email;Ville\n"
        "Luc;Morel;luc.morel@example.com;Exemple SA\n",
    ],
    ids=["section-row", "other-column"],
)
def test_header_like_row_read_as_data(upload_root, write_file, content):
    """A row that is not a whole repeated header leaves the rows below it as
    they were, and is read as data."""
    job = import_file(write_file("entete.csv", content))

    assert job.counts["created"] == 2
    assert job.counts["rejected"] == 1
    assert "repeats the header" not in job.row_results.get(row_number=3).reason


def test_later_header_with_extra_column_keeps_rows_above(upload_root, write_file):
    """GIVEN two exports pasted together, the second with one more column,
    WHEN the file is imported, THEN the first header is the file's header, no
    row above the second one is skipped, and the rows below the second header
    are read in its order, without the added column."""
    content = (
        "Prénom;Nom;Email;Société\n"
        "Anne;Dupuis;anne.dupuis@example.com;Exemple SA\n"
        "Luc;Morel;luc.morel@example.com;Exemple SA\n"
        "Ville;Nom;Prénom;Email;Société\n"
        "Lyon;Durand;Paul;paul.durand@example.com;Autre SA\n"
    )

    job = import_file(write_file("colonne-en-plus.csv", content))

    paul = Contact.objects.get(email="paul.durand@example.com")
    assert job.row_count == 4
    assert job.counts["created"] == 3
    assert job.counts["rejected"] == 1
    assert Contact.objects.filter(email="anne.dupuis@example.com").exists()
    assert (paul.first_name, paul.last_name, paul.company) == (
        "Paul",
        "Durand",
        "Autre SA",
    )
    assert paul.city == ""
    assert job.row_results.get(row_number=4).reason == (
        "this row repeats the header row with one more column; the rows below "
        "are read in its order, without its column “Ville”"
    )


def test_values_past_reordered_header_rejected(upload_root, write_file):
    """GIVEN a repeated header in another order, WHEN a row below it has more
    values than that header, THEN the row is rejected for it, not cut short."""
    content = (
        "Prénom;Nom;E-mail\n"
        "Anne;Dupuis;anne.dupuis@example.com\n"
        "Nom;Prénom;E-mail\n"
        "Durand;Chloé;chloe.durand@example.com;Lyon\n"
    )

    job = import_file(write_file("decale.csv", content))

    assert job.counts["created"] == 1
    assert job.counts["rejected"] == 2
    assert job.row_results.get(row_number=4).reason.startswith("4 values for 3 columns")
