import csv
import datetime
import io
import re
import zipfile

import pytest
from django.utils import timezone
from odf import teletype
from odf.opendocument import load as odf_load
from odf.text import P
from openpyxl import load_workbook
from pypdf import PdfReader
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth

from apps.core.exports import neutralize_formula
from apps.core.models import AuditEvent
from apps.core.models import Organisation
from apps.core.pdf import pdf_fonts
from apps.core.text import newlines_unified
from apps.register import pdf
from apps.register.exports import _sheet_name
from apps.register.exports import register_export
from apps.register.imports import register_import
from apps.register.layout import PROCESSOR_SUMMARY_TITLE
from apps.register.layout import choice_label
from apps.register.layout import format_value
from apps.register.layout import record_parts
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.register.models import Sensitivity
from apps.register.pdf import words_breakable
from apps.register.selectors import activities_for_export
from apps.register.selectors import register_snapshot
from apps.register.spreadsheets import read_grid
from tests.register.factories import complete_activity

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

FORMULA = '=HYPERLINK("http://attacker.example";"x")'
PHONE = "+33 4 00 00 00 00"


class _Reader:
    is_authenticated = False

    def has_perm(self, permission):
        return True


@pytest.fixture
def organisation():
    """The controller's identity, with phone numbers that start with a plus."""
    organisation = Organisation.current()
    organisation.name = "Exemplaire Industries SAS"
    organisation.address = "12 rue de l'Exemple\n69002 Lyon"
    organisation.phone = PHONE
    organisation.email = "contact@exemplaire.example"
    organisation.legal_representative = "Claire Invent, présidente"
    organisation.eu_representative = "Représentant Exemple GmbH, Berlin"
    organisation.dpo_name = "Bruno Fictif"
    organisation.dpo_email = "dpo@exemplaire.example"
    organisation.dpo_phone = "+33 4 00 00 00 01"
    organisation.save()
    return organisation


@pytest.fixture
def register(compliance_officer, organisation):
    """Two activities, one with formula-like text in several fields.

    The second one has no DPIA decision yet, so it is a draft: an activity in
    force must be complete.
    """
    first = complete_activity(
        compliance_officer,
        reference="TRT-101",
        started_on=datetime.date(2019, 3, 1),
    )
    second = complete_activity(
        compliance_officer,
        reference="TRT-102",
        name="+33 rappel automatique",
        purposes=FORMULA,
        security_measures="-chiffrement\n@audit",
        role=ProcessingActivity.Role.JOINT_CONTROLLER,
        joint_controllers="Partenaire SAS, 1 rue Exemple, Lyon",
        dpia_required=None,
        status=ProcessingActivity.Status.DRAFT,
    )
    second.transfers.update(documentation="=1+1")
    second.recipients.update(third_country=True, details="Filiale\nau Canada")
    return [first, second]


def _export(file_format) -> bytes:
    activities = activities_for_export(user=_Reader())
    return register_export(activities=activities, file_format=file_format)


@pytest.mark.parametrize("file_format", ["xlsx", "ods", "csv"])
def test_round_trip_restores_register(register, tmp_path, file_format):
    before = register_snapshot()
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))
    ProcessingActivity.objects.all().delete()

    report = register_import(path=path, dry_run=False)

    assert report.problems == []
    assert report.applied
    assert register_snapshot() == before


@pytest.mark.parametrize("file_format", ["xlsx", "ods", "csv"])
def test_round_trip_keeps_typed_apostrophes(register, tmp_path, file_format):
    """GIVEN texts typed with a leading apostrophe before a formula character,
    WHEN the register is exported and imported again,
    THEN each text comes back with its apostrophes."""
    first = register[0]
    first.description = "'=1+1"
    first.purposes = "'+33 4 00 00 00 00"
    first.security_measures = "''@audit"
    first.save()
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))

    report = register_import(path=path, dry_run=False)

    assert report.problems == []
    first.refresh_from_db()
    assert first.description == "'=1+1"
    assert first.purposes == "'+33 4 00 00 00 00"
    assert first.security_measures == "''@audit"


@pytest.mark.parametrize("file_format", ["xlsx", "ods", "csv"])
def test_reimport_reports_unchanged(register, tmp_path, file_format):
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))

    report = register_import(path=path, dry_run=False)

    assert [entry["outcome"] for entry in report.activities] == [
        "unchanged",
        "unchanged",
    ]


def test_xlsx_neutralises_formulas(register):
    workbook = load_workbook(io.BytesIO(_export("xlsx")))
    cells = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]

    formula_text = [cell for cell in cells if cell.value == FORMULA]

    assert not any(cell.data_type == "f" for cell in cells)
    assert formula_text
    assert all(cell.data_type == "s" for cell in formula_text)
    assert all(cell.quotePrefix for cell in formula_text)


def test_ods_neutralises_formulas(register, tmp_path):
    path = tmp_path / "register.ods"
    path.write_bytes(_export("ods"))
    document = odf_load(str(path))
    formula_cells = [
        cell
        for cell in document.spreadsheet.getElementsByType(
            __import__("odf.table", fromlist=["TableCell"]).TableCell
        )
        if cell.getAttribute("formula")
    ]
    texts = [
        value
        for sheet in read_grid(path)
        for row in sheet.rows
        for value in row
        if isinstance(value, str)
    ]

    assert formula_cells == []
    assert FORMULA in texts
    assert "'" + FORMULA not in texts


def test_csv_neutralises_formulas(register):
    text = _export("csv").decode("utf-8-sig")
    values = [
        value for row in csv.reader(io.StringIO(text), delimiter=";") for value in row
    ]

    assert all(neutralize_formula(value) == value for value in values)
    assert "'" + FORMULA in values
    assert "'+33 rappel automatique" in values


def test_pdf_shows_every_activity_and_item(register):
    reader = PdfReader(io.BytesIO(_export("pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)

    for activity in register:
        assert activity.reference in text
    for label in (
        "Finalité(s) du traitement effectué",
        "Base légale",
        "Catégories de personnes concernées",
        "Catégories de données personnelles concernées",
        "Destinataires",
        "Transferts hors UE",
        "Durées de conservation",
        "Mesures de sécurité",
        "Sous-traitants",
    ):
        assert label in text
    for value in (
        "Prospection commerciale",
        "Prospects",
        "Service commercial",
        "Routeur SA",
        "Hébergeur Inc.",
        "États-Unis",
        "Contrôle d'accès",
        "Partenaire SAS, 1 rue Exemple, Lyon",
    ):
        assert value in text


def test_pdf_shows_formula_as_inert_text(register):
    content = _export("pdf")
    reader = PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")

    assert "=HYPERLINK" in text
    assert b"/URI" not in content
    assert b"/JavaScript" not in content


def test_export_writes_audit_event(register):
    _export("xlsx")

    event = AuditEvent.objects.get(action="register.exported")
    assert event.count == 2
    assert event.details["format"] == "xlsx"


def test_xlsx_has_summary_and_record_sheets(register):
    workbook = load_workbook(io.BytesIO(_export("xlsx")))

    assert workbook.sheetnames == ["Liste des traitements", "TRT-101", "TRT-102"]
    summary = workbook["Liste des traitements"]
    assert summary["A1"].value == "Registre des activités de traitement"


@pytest.mark.parametrize(
    ("reference", "used", "expected"),
    [
        ("'Devis'", set(), "Devis"),
        ("''", set(), "Fiche"),
        ("X" * 30 + "'", set(), "X" * 30),
        ("History", set(), "History (2)"),
        ("HISTORY", set(), "HISTORY (2)"),
        ("A-B", {"a-b"}, "A-B (2)"),
        ("a/b", {"a-b", "a-b (2)"}, "a-b (3)"),
        ("Y" * 31, {"y" * 31}, "Y" * 27 + " (2)"),
    ],
)
def test_sheet_name_accepted_by_excel(reference, used, expected):
    assert _sheet_name(reference, used) == expected


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_sheet_names_unique_ignoring_case(
    compliance_officer, organisation, tmp_path, file_format
):
    for reference in ("A-B", "a/b", "History", "'Devis'", "liste des traitements"):
        complete_activity(compliance_officer, reference=reference)
    before = register_snapshot()
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))

    names = [sheet.name for sheet in read_grid(path)]
    ProcessingActivity.objects.all().delete()
    report = register_import(path=path, dry_run=False)

    folded = {name.casefold() for name in names}
    assert len(folded) == len(names)
    assert names[0] == "Liste des traitements"
    assert "liste des traitements (2)" in folded
    assert {"a-b", "a-b (2)"} <= folded
    assert "history" not in folded
    assert "History (2)" in names
    assert "Devis" in names
    assert not [name for name in names if name.startswith("'") or name.endswith("'")]
    assert report.problems == []
    assert register_snapshot() == before


def test_xlsx_keeps_phone_number(register):
    workbook = load_workbook(io.BytesIO(_export("xlsx")))
    summary = workbook["Liste des traitements"]
    values = [cell.value for row in summary.iter_rows() for cell in row]

    assert PHONE in values
    assert "'" + PHONE not in values


def test_ods_keeps_phone_number(register, tmp_path):
    path = tmp_path / "register.ods"
    path.write_bytes(_export("ods"))

    summary = read_grid(path)[0]

    assert ["Téléphone :", PHONE] in summary.rows


def test_pdf_shows_organisation_block(register):
    reader = PdfReader(io.BytesIO(_export("pdf")))
    first_page = reader.pages[0].extract_text()

    assert "Exemplaire Industries SAS" in first_page
    assert PHONE in first_page
    assert "'" + PHONE not in first_page
    assert "contact@exemplaire.example" in first_page
    assert "Représentant Exemple GmbH, Berlin" in first_page
    assert "Claire Invent, présidente" in first_page
    assert "+33 4 00 00 00 01" in first_page


def test_pdf_header_on_every_page(register):
    reader = PdfReader(io.BytesIO(_export("pdf")))

    for page in reader.pages:
        assert "Exemplaire Industries SAS" in page.extract_text()


def test_pdf_splits_value_longer_than_page(register):
    """GIVEN an activity whose description fills several pages
    WHEN the register is exported as PDF
    THEN the description runs over the pages instead of failing the export.
    """
    sentence = "Les prospects sont qualifiés par le service commercial. "
    ProcessingActivity.objects.update(description=sentence * 200)

    reader = PdfReader(io.BytesIO(_export("pdf")))

    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 3
    assert text.count("qualifiés par le service") >= 150


def test_pdf_heading_stays_with_its_table(register):
    """GIVEN descriptions of growing length, which push the first section
    heading down the page, WHEN the register is exported as PDF, THEN no
    page ends with a section heading whose table starts on the next page."""
    from apps.register.layout import PART_TABLES

    titles = [title for title, _columns in PART_TABLES.values()]
    sentence = "Les prospects sont qualifiés par le service commercial. "
    for repeats in range(30, 66, 4):
        ProcessingActivity.objects.update(description=sentence * repeats)

        reader = PdfReader(io.BytesIO(_export("pdf")))

        for page in reader.pages:
            lines = [line for line in page.extract_text().splitlines() if line]
            body = [line for line in lines if not line.startswith("Page ")]
            assert body[-1].strip() not in titles, (repeats, body[-3:])


def test_pdf_keeps_words_whole(register):
    reader = PdfReader(io.BytesIO(_export("pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)

    assert "Enregistrements" in text
    assert "Coordonnées" in text


def test_pdf_retention_table_keeps_words_whole(register):
    """GIVEN retention rules whose eight columns hold long French words
    WHEN the register is exported as PDF
    THEN no word of the table is cut across two lines.
    """
    words = ["Coordonnées", "Recommandation", "automatiquement", "Enregistrements"]
    RetentionRule.objects.filter(activity__reference="TRT-101").update(
        data_category="Coordonnées professionnelles des prospects",
        start_event_other="Dernier échange avec le prospect",
        notes="Recommandation de la CNIL appliquée automatiquement",
    )

    reader = PdfReader(io.BytesIO(_export("pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)

    for word in words:
        assert word in text


@pytest.mark.parametrize("file_format", ["xlsx", "ods", "csv", "pdf"])
def test_exports_accept_text_pasted_from_word(register, file_format):
    ProcessingActivity.objects.filter(reference="TRT-101").update(
        purposes="Ligne un\x0bligne deux", description="Contrôle\x01caché"
    )

    content = _export(file_format)

    assert content
    if file_format == "xlsx":
        texts = [
            cell.value
            for sheet in load_workbook(io.BytesIO(content)).worksheets
            for row in sheet.iter_rows()
            for cell in row
        ]
        assert "Ligne un\nligne deux" in texts
    if file_format == "ods":
        assert "Ligne un" in _odf_texts(content)


def test_form_text_line_breaks_unified():
    text = "un\x0bdeux\x0ctrois\r\nquatre"

    assert newlines_unified(text) == "un\ndeux\ntrois\nquatre"


def test_form_text_control_characters_dropped():
    text = "page\x1bESC\x07bell\tfin"

    assert newlines_unified(text) == "pageESCbell\tfin"


def test_pdf_header_joins_address_lines(register, organisation):
    organisation.address = "12 rue de l'Église\r\nZA du Pré-Vert\r\n69002 Lyon"
    organisation.save()

    reader = PdfReader(io.BytesIO(_export("pdf")))
    header = reader.pages[-1].extract_text()

    assert "12 rue de l'Église, ZA du Pré-Vert, 69002 Lyon" in header
    assert "\r" not in header


def test_pdf_header_name_stops_before_the_title(register, organisation):
    """GIVEN a legal name longer than the space left of the page title,
    WHEN the register is printed,
    THEN the header cuts the name with "…" before the title starts."""
    organisation.name = ("Maison Lefèvre & Fils – Cafés torréfiés SAS " * 4).strip()
    organisation.save()
    placed = []

    def visit(text, matrix, text_matrix, font, size):
        if text.strip() and round(text_matrix[5]) == 808:
            placed.append((text_matrix[4], text.strip()))

    reader = PdfReader(io.BytesIO(_export("pdf")))
    reader.pages[-1].extract_text(visitor_text=visit)

    (name_x, name), (title_x, title) = sorted(placed)
    regular, bold = pdf_fonts()
    assert name.endswith("…")
    assert name_x + stringWidth(name, bold, 11) < title_x
    assert title.startswith("Registre")


def _fitted_one_by_one(text: str, font: str, size: float, width: float) -> str:
    """Return ``_fitted``'s result by dropping one character at a time."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return pdf._PARTIAL_CODE_POINT.sub("", text).rstrip() + "…"


@pytest.mark.parametrize("width", [0, 5, 40, 200, 500])
@pytest.mark.parametrize(
    "text",
    [
        "12 rue de l'Église, 69002 Lyon",
        "Maison Lefèvre & Fils – Cafés torréfiés SAS " * 3,
        "iiiii WWWWW iiiii WWWWW [U+1F680] fusée",
        "",
    ],
)
def test_fitted_matches_one_by_one(text, width):
    regular, _bold = pdf_fonts()

    fitted = pdf._fitted(text, regular, 8, width)

    assert fitted == _fitted_one_by_one(text, regular, 8, width)


def test_fitted_measures_long_text_few_times(monkeypatch):
    regular, _bold = pdf_fonts()
    measures = []

    def counted(text, font, size):
        measures.append(len(text))
        return stringWidth(text, font, size)

    monkeypatch.setattr(pdf, "stringWidth", counted)
    fitted = pdf._fitted("12 rue de l'Église " * 1_000, regular, 8, 500)

    assert fitted.endswith("…")
    assert stringWidth(fitted, regular, 8) <= 500
    assert len(measures) < 40


def test_pdf_header_cuts_long_address(register, organisation):
    organisation.address = "12 rue de l'Église " * 1_000
    organisation.save()

    reader = PdfReader(io.BytesIO(_export("pdf")))
    header = reader.pages[-1].extract_text()

    assert "12 rue de l'Église 12 rue" in header
    assert "…" in header


def _odf_texts(content: bytes) -> list[str]:
    document = odf_load(io.BytesIO(content))
    return [
        teletype.extractText(paragraph) for paragraph in document.getElementsByType(P)
    ]


def test_exports_write_lf_lines_of_crlf_text(register):
    # Text saved before line breaks were unified on input still contains CRLF.
    ProcessingActivity.objects.filter(reference="TRT-101").update(
        purposes="Recrutement\r\nSuivi des candidatures"
    )

    ods_texts = _odf_texts(_export("ods"))
    xlsx = load_workbook(io.BytesIO(_export("xlsx")))
    xlsx_values = [
        cell.value
        for sheet in xlsx.worksheets
        for row in sheet.iter_rows()
        for cell in row
    ]
    csv_text = _export("csv").decode("utf-8-sig")
    csv_values = [
        value
        for row in csv.reader(io.StringIO(csv_text), delimiter=";")
        for value in row
    ]

    assert "Suivi des candidatures" in ods_texts
    assert not any("\r" in text for text in ods_texts)
    assert "Recrutement\nSuivi des candidatures" in xlsx_values
    assert not any(isinstance(value, str) and "\r" in value for value in xlsx_values)
    assert "Recrutement\nSuivi des candidatures" in csv_values
    assert not any("\r" in value for value in csv_values)


@pytest.fixture
def processor_activity(compliance_officer, organisation):
    return complete_activity(
        compliance_officer,
        reference="SST-001",
        role=ProcessingActivity.Role.PROCESSOR,
        controllers_served="Client Exemple SA, 1 rue Exemple, Paris",
    )


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_processor_record_titles_spreadsheet(processor_activity, tmp_path, file_format):
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))

    summary = read_grid(path)[0]

    assert summary.rows[0] == [PROCESSOR_SUMMARY_TITLE]
    assert summary.rows[1] == ["Sous-traitant :", "Exemplaire Industries SAS"]
    assert "Registre des activités de traitement" not in summary.rows[0]


def test_processor_record_titles_pdf(processor_activity):
    content = _export("pdf")
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)

    assert "Registre des catégories d'activités de traitement" in text
    assert "Sous-traitant :" in text
    assert "Responsable de traitement :" not in text
    for page in reader.pages:
        assert "Registre du sous-traitant (article 30.2 du RGPD)" in page.extract_text()
    assert reader.metadata.title == PROCESSOR_SUMMARY_TITLE


def test_mixed_register_opens_with_controller_record(register, processor_activity):
    workbook = load_workbook(io.BytesIO(_export("xlsx")))
    summary = workbook["Liste des traitements"]

    assert summary["A1"].value == "Registre des activités de traitement"
    assert summary["A2"].value == "Responsable de traitement :"


def _summary_blocks(sheet) -> dict[str, list[str]]:
    """Map each record title of a summary sheet to the references under it."""
    blocks, title = {}, None
    for row in sheet.rows:
        first = row[0] if row else ""
        if first in ("Registre des activités de traitement", PROCESSOR_SUMMARY_TITLE):
            title = first
            blocks[title] = []
        elif title and first.startswith(("TRT-", "SST-")):
            blocks[title].append(first)
    return blocks


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_mixed_register_splits_records(
    register, processor_activity, tmp_path, file_format
):
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))

    sheets = read_grid(path)

    assert _summary_blocks(sheets[0]) == {
        "Registre des activités de traitement": ["TRT-101", "TRT-102"],
        PROCESSOR_SUMMARY_TITLE: ["SST-001"],
    }


def _summary_table_rows(sheet) -> dict[str, list]:
    """Map each record title of a summary sheet to its header and activity rows."""
    tables, title = {}, None
    for row in sheet.rows:
        first = row[0] if row else ""
        if first in ("Registre des activités de traitement", PROCESSOR_SUMMARY_TITLE):
            title = first
            tables[title] = []
        elif title and (first == "N° / RÉF" or first.startswith(("TRT-", "SST-"))):
            tables[title].append(row)
    return tables


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_processor_summary_names_controllers(
    register, processor_activity, tmp_path, file_format
):
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))

    tables = _summary_table_rows(read_grid(path)[0])

    controller_header, *controller_rows = tables["Registre des activités de traitement"]
    processor_header, processor_row = tables[PROCESSOR_SUMMARY_TITLE]
    assert controller_header[4] == "Base légale"
    assert controller_rows[0][4] == choice_label("lawful_basis", "contract")
    assert processor_header[4] == "Responsables pour le compte desquels nous agissons"
    assert "Base légale" not in processor_header
    assert processor_row[0] == "SST-001"
    assert processor_row[4] == "Client Exemple SA, 1 rue Exemple, Paris"


def _pdf_summary(monkeypatch, *, processor_record: bool):
    """Return the header, rows and column widths of the PDF's summary table of
    the controller's record, or of the processor's, and its activities."""
    tables = []
    grid = pdf._grid

    def recorded(rows, *args, **kwargs):
        tables.append((rows, kwargs["widths"]))
        return grid(rows, *args, **kwargs)

    monkeypatch.setattr(pdf, "_grid", recorded)
    activities = activities_for_export(user=_Reader())
    part = next(
        part
        for part in record_parts(activities, processor_record=False)
        if part.processor_record == processor_record
    )
    body = pdf._styles("Helvetica", "Helvetica-Bold")["body"]
    pdf._summary_table(part, body, "Helvetica", "Helvetica-Bold")
    (header, *rows), widths = tables[0]
    return header, rows, widths, part.activities


@pytest.mark.parametrize("processor_record", [False, True])
def test_pdf_summary_has_spreadsheet_columns(
    register, processor_activity, monkeypatch, processor_record
):
    header, rows, widths, activities = _pdf_summary(
        monkeypatch, processor_record=processor_record
    )

    first = dict(zip(header, rows[0], strict=True))
    assert header[-4:] == [
        "Date de création de la fiche",
        "Dernière mise à jour de la fiche",
        "Données sensibles ?",
        "Éléments manquants",
    ]
    assert first["Date de création de la fiche"] == format_value(
        "date", activities[0].created_at
    )
    assert first["Dernière mise à jour de la fiche"] == format_value(
        "date", activities[0].updated_at
    )
    assert first["Données sensibles ?"] == "Non"
    assert round(sum(widths) / cm, 6) <= 18


def test_pdf_summary_keeps_references_whole(register, processor_activity):
    ProcessingActivity.objects.filter(pk=register[0].pk).update(
        reference="HEB-CLIENTS-2026"
    )
    ProcessingActivity.objects.filter(pk=processor_activity.pk).update(
        controllers_served="dpo@client-exemple.example.com"
    )

    reader = PdfReader(io.BytesIO(_export("pdf")))
    pages = [page.extract_text() for page in reader.pages]

    assert "HEB-CLIENTS-2026" in pages[0]
    assert any("dpo@client-exemple.example.com" in page for page in pages)


def test_pdf_summary_long_name_leaves_dates_whole(register):
    ProcessingActivity.objects.filter(pk=register[0].pk).update(
        name="Registre-des-violations-de-données-personnelles-et-notifications-CNIL"
    )

    reader = PdfReader(io.BytesIO(_export("pdf")))
    first_page = reader.pages[0].extract_text()

    assert re.search(r"\d\d/\d\d/\d{4}", first_page)
    assert "sensibles" in first_page
    assert "Brouillon" in first_page or "En vigueur" in first_page


def test_pdf_summary_marks_sensitive_data(register, monkeypatch):
    register[0].data_categories.update(sensitivity=Sensitivity.SPECIAL)

    header, rows, _widths, _activities = _pdf_summary(
        monkeypatch, processor_record=False
    )

    sensitive = dict((row[0], row[header.index("Données sensibles ?")]) for row in rows)
    assert sensitive[register[0].reference] == "Oui"
    assert sensitive[register[1].reference] == "Non"


def test_processor_pdf_summary_names_controllers(register, processor_activity):
    reader = PdfReader(io.BytesIO(_export("pdf")))
    pages = [page.extract_text() for page in reader.pages]
    processor_start = next(
        index
        for index, text in enumerate(pages)
        if PROCESSOR_SUMMARY_TITLE[:40] in text
    )

    summary = pages[processor_start].replace("\n", " ")
    assert "Responsables pour le compte desquels nous agissons" in summary
    assert "Client Exemple SA, 1 rue Exemple, Paris" in summary
    assert "Responsables pour le compte" not in pages[0]


def test_mixed_register_names_processor(register, processor_activity, tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(_export("xlsx"))

    rows = read_grid(path)[0].rows

    assert ["Sous-traitant :", "Exemplaire Industries SAS"] in rows


def test_mixed_register_sheet_order(processor_activity, register):
    workbook = load_workbook(io.BytesIO(_export("xlsx")))

    assert workbook.sheetnames[1:] == ["TRT-101", "TRT-102", "SST-001"]


def test_mixed_pdf_headers_follow_record(register, processor_activity):
    reader = PdfReader(io.BytesIO(_export("pdf")))
    pages = [page.extract_text() for page in reader.pages]
    processor_start = next(
        index
        for index, text in enumerate(pages)
        if PROCESSOR_SUMMARY_TITLE[:40] in text
    )
    short_title = "Registre du sous-traitant (article 30.2 du RGPD)"

    assert not any(short_title in text for text in pages[:processor_start])
    assert all(short_title in text for text in pages[processor_start:])
    assert any("SST-001 ·" in text for text in pages[processor_start + 1 :])


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_mixed_export_reimports_quietly(
    register, processor_activity, tmp_path, file_format
):
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))

    report = register_import(path=path, dry_run=True)

    assert report.problems == []
    assert {entry["outcome"] for entry in report.activities} == {"unchanged"}


def test_processor_title_forced_without_activity(organisation):
    content = register_export(activities=[], file_format="xlsx", processor_record=True)
    summary = load_workbook(io.BytesIO(content))["Liste des traitements"]

    assert summary["A1"].value == PROCESSOR_SUMMARY_TITLE
    assert summary["A2"].value == "Sous-traitant :"


def test_processor_export_reimports_quietly(processor_activity, tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(_export("xlsx"))

    report = register_import(path=path, dry_run=True)

    assert report.problems == []
    assert report.activities[0]["outcome"] == "unchanged"


def _csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_csv_names_controller_and_dpo(register):
    rows = _csv_rows(_export("csv"))
    activity_rows = [row for row in rows if row["Type de ligne"] == "Traitement"]
    dpo = "Délégué à la protection des données (DPO)"

    assert len(activity_rows) == 2
    for row in activity_rows:
        assert row["Responsable de traitement"] == "Exemplaire Industries SAS"
        assert row["Adresse mél"] == "contact@exemplaire.example"
        assert row["Représentant dans l'UE"] == "Représentant Exemple GmbH, Berlin"
        assert row[dpo].startswith("Bruno Fictif · dpo@exemplaire.example")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["Date de l'export"])


def test_processor_csv_names_processor(processor_activity):
    rows = _csv_rows(_export("csv"))

    assert "Responsable de traitement" not in rows[0]
    assert rows[0]["Sous-traitant"] == "Exemplaire Industries SAS"


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_summary_shows_registration_number(register, tmp_path, file_format):
    Organisation.objects.update(registration_number="123 456 789 00012")
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))

    summary = read_grid(path)[0]

    assert ["Numéro d'immatriculation :", "123 456 789 00012"] in summary.rows


def test_pdf_breaks_only_very_long_words():
    url = "https://example.com/" + "a" * 80
    word = "b" * 120

    assert words_breakable(url) == url
    assert words_breakable(f"see {word}.") == (f"see {'b' * 50} {'b' * 50} {'b' * 20}.")


def test_pdf_shows_long_word_whole(register):
    ProcessingActivity.objects.filter(reference="TRT-101").update(
        description="z" * 5_000
    )

    reader = PdfReader(io.BytesIO(_export("pdf")))
    text = "".join(page.extract_text() for page in reader.pages)

    assert text.count("z") == 5_000


def test_csv_shows_retirement_date(register):
    activity = ProcessingActivity.objects.get(reference="TRT-101")
    activity.status = ProcessingActivity.Status.RETIRED
    activity.save()

    rows = [
        row for row in _csv_rows(_export("csv")) if row["Type de ligne"] == "Traitement"
    ]

    assert rows[0]["Date de retrait"] == timezone.localdate().isoformat()
    assert rows[1]["Date de retrait"] == ""


def test_ods_dates_carry_a_day_first_style(register, tmp_path):
    path = tmp_path / "register.ods"
    path.write_bytes(_export("ods"))
    document = odf_load(str(path))
    table_cell = __import__("odf.table", fromlist=["TableCell"]).TableCell

    date_cells = [
        cell
        for cell in document.spreadsheet.getElementsByType(table_cell)
        if cell.getAttribute("valuetype") == "date"
    ]

    assert date_cells
    assert {cell.getAttribute("stylename") for cell in date_cells} <= {
        "registre-date",
        "registre-datetime",
    }
    content = zipfile.ZipFile(path).read("content.xml").decode()
    assert 'number:date-style style:name="registre-date-data"' in content


@pytest.mark.parametrize("file_format", ["xlsx", "ods", "csv"])
def test_owner_name_round_trip(register, compliance_officer, tmp_path, file_format):
    """GIVEN a person in charge with a name,
    WHEN the register is exported, THEN the file shows "Name (login)",
    AND importing it keeps that user in charge."""
    compliance_officer.first_name, compliance_officer.last_name = "Anaïs", "Exemple"
    compliance_officer.save()
    content = _export(file_format)
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(content)
    ProcessingActivity.objects.update(owner=None)

    report = register_import(path=path, dry_run=False)

    assert report.problems == []
    expected_owner = f"Anaïs Exemple ({compliance_officer.username})"
    cells = [
        str(value) for sheet in read_grid(path) for row in sheet.rows for value in row
    ]
    assert expected_owner in cells
    assert set(ProcessingActivity.objects.values_list("owner", flat=True)) == {
        compliance_officer.pk
    }


def test_former_person_in_charge_label_still_read(
    register, compliance_officer, tmp_path
):
    content = _export("csv").decode("utf-8-sig")
    assert "Responsable de la fiche" in content
    path = tmp_path / "register.csv"
    path.write_text(
        content.replace(
            "Responsable de la fiche", "Responsable de la fiche (identifiant)"
        ),
        encoding="utf-8-sig",
    )
    ProcessingActivity.objects.update(owner=None)

    report = register_import(path=path, dry_run=False)

    assert report.problems == []
    assert set(ProcessingActivity.objects.values_list("owner", flat=True)) == {
        compliance_officer.pk
    }


IMPLAUSIBLE_DATES = [
    ("started_on", datetime.date(1850, 3, 15), "15/03/1850 is too far in the past"),
    (
        "next_review_on",
        datetime.date(9999, 12, 31),
        "31/12/9999 is too far in the future",
    ),
]


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
@pytest.mark.parametrize(("field", "value", "message"), IMPLAUSIBLE_DATES)
def test_import_rejects_implausible_date(
    register, tmp_path, file_format, field, value, message
):
    first = register[0]
    kept = getattr(first, field)
    setattr(first, field, value)
    first.save()
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(_export(file_format))
    setattr(first, field, kept)
    first.save()

    report = register_import(path=path, dry_run=False)

    messages = [problem.message for problem in report.problems]
    assert any(message in text for text in messages)
    first.refresh_from_db()
    assert getattr(first, field) == kept


def test_pdf_names_emoji_by_code_point(register, organisation):
    organisation.name = "Prospéria SAS 🚀"
    organisation.save()

    reader = PdfReader(io.BytesIO(_export("pdf")))

    first_page = reader.pages[0].extract_text()
    assert "Prospéria SAS [U+1F680]" in first_page


def test_pdf_header_keeps_code_points_whole():
    from apps.register.pdf import _fitted

    regular, _bold = pdf_fonts()
    text = "Łódź [U+1F680] [U+682A][U+5F0F] Exemplaire"
    widths = [stringWidth(text[:end] + "…", regular, 11) + 0.1 for end in range(8, 30)]

    for width in widths:
        fitted = _fitted(text, regular, 11, width)
        assert "[U+" not in fitted or fitted.count("[") == fitted.count("]")
