import csv
import datetime
import io
import os
import zipfile
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone
from django.utils import translation
from openpyxl import Workbook
from openpyxl import load_workbook

from apps.core.dates import format_datetime
from apps.core.models import AuditEvent
from apps.register.cells import column_letter
from apps.register.exports import register_export
from apps.register.imports import ImportConfirmation
from apps.register.imports import register_import
from apps.register.models import ProcessingActivity
from apps.register.models import Processor
from apps.register.models import Recipient
from apps.register.models import RetentionRule
from apps.register.models import Transfer
from apps.register.selectors import activities_for_export
from apps.register.services import ACTIVITY_FIELDS
from tests.register.factories import complete_activity

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CNIL_FILE = Path(
    "/work/shared/realdata/cnil-registre/registre-traitement-simplifie.ods"
)
needs_cnil_file = pytest.mark.skipif(
    not CNIL_FILE.exists(),
    reason=f"the CNIL register template is not at {CNIL_FILE}",
)
# A CSV file with bare CR line endings, as old Mac programs write them.
MAC_CSV_FILE = Path("/work/shared/realdata/django-import-export/books-mac.csv")


def _problems(report, level="error"):
    return [problem for problem in report.problems if problem.level == level]


@needs_cnil_file
def test_cnil_dry_run_writes_nothing():
    report = register_import(path=CNIL_FILE, dry_run=True)

    entry = report.activities[0]

    assert _problems(report) == []
    assert len(report.activities) == 1
    assert entry["reference"] == "1 - Exemple"
    assert entry["name"] == "Gestion de la paie"
    assert entry["outcome"] == "created"
    assert not ProcessingActivity.objects.exists()
    assert not AuditEvent.objects.filter(action="register.imported").exists()


@needs_cnil_file
def test_cnil_example_record_imports():
    report = register_import(path=CNIL_FILE, dry_run=False)

    activity = ProcessingActivity.objects.get(reference="1 - Exemple")
    assert report.applied
    assert activity.status == ProcessingActivity.Status.DRAFT
    assert activity.purposes.splitlines()[0] == "Gestion de la paie"
    assert len(activity.purposes.splitlines()) == 4
    assert activity.created_at.date() == datetime.date(2018, 5, 26)
    assert activity.started_on == datetime.date(2018, 5, 26)
    assert activity.last_reviewed_on == datetime.date(2019, 5, 13)
    assert list(activity.data_subjects.values_list("label", flat=True)) == ["Salariés"]
    assert activity.data_categories.count() == 3
    assert activity.recipients.filter(third_country=True).count() == 1


@needs_cnil_file
def test_cnil_transfer_and_retention():
    register_import(path=CNIL_FILE, dry_run=False)
    activity = ProcessingActivity.objects.get(reference="1 - Exemple")

    transfer = activity.transfers.get()
    rule = activity.retention_rules.first()

    assert transfer.country == "Andorre"
    assert transfer.safeguard == Transfer.Safeguard.SCC
    assert activity.retention_rules.count() == 3
    assert rule.duration == 5
    assert rule.unit == RetentionRule.Unit.YEARS
    assert rule.start_event == RetentionRule.StartEvent.OTHER
    assert rule.start_event_other == "versement de la paie"


@needs_cnil_file
def test_cnil_placeholders_and_blank_sheet_ignored():
    report = register_import(path=CNIL_FILE, dry_run=True)
    notes = {(p.sheet, p.message) for p in report.problems if p.level == "info"}

    assert any(sheet.startswith("3_") and "empty" in msg for sheet, msg in notes)
    assert all("Sélectionnez" not in str(entry) for entry in report.activities)


@needs_cnil_file
def test_cnil_example_row_is_flagged():
    report = register_import(path=CNIL_FILE, dry_run=True)

    warnings = _problems(report, "warning")

    assert any(
        p.sheet == "2_-_Liste_des_traitements" and p.row == 9 and p.column == "A"
        for p in warnings
    )


def _cnil_like_workbook(path, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Fiche paie"
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_cnil_record_errors_name_cells(tmp_path):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        [
            ["Nom du traitement", "Paie"],
            ["N° / RÉF", "P-1"],
            ["Date de création du traitement", "31/02/2020"],
            ["Données sensibles"],
            ["Données concernant la santé", "Arrêts maladie", None, None, "longtemps"],
            ["Transferts hors UE", "Destinataire", "Pays", "Type de Garanties"],
            ["Organisme destinataire 1", "Banque", "Andorre", "Poignée de main"],
        ],
    )

    report = register_import(path=path, dry_run=True)
    errors = {(p.sheet, p.row, p.column): p.message for p in _problems(report)}

    assert ("Fiche paie", 3, "B") in errors
    assert "DD/MM/YYYY" in errors[("Fiche paie", 3, "B")]
    assert ("Fiche paie", 5, "E") in errors
    assert "“longtemps”" in errors[("Fiche paie", 5, "E")]
    assert ("Fiche paie", 7, "D") in errors
    assert "Poignée de main" in errors[("Fiche paie", 7, "D")]
    assert report.activities == []
    assert not ProcessingActivity.objects.exists()


@pytest.mark.parametrize(
    "period", ["30 jours", "30 jours après", "30 jours à compter de", "30 jours du"]
)
def test_cnil_period_without_event_asks_for_it(tmp_path, period):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        [
            ["Nom du traitement", "Vidéo"],
            ["N° / RÉF", "VIDEO-02"],
            ["Données sensibles"],
            ["Images", "Enregistrements", None, None, period],
        ],
    )

    report = register_import(path=path, dry_run=True)
    errors = {(p.sheet, p.row, p.column): p.message for p in _problems(report)}

    assert errors[("Fiche paie", 4, "E")] == (
        f"“{period}” does not say from which event the period runs; add it, "
        "e.g. '30 jours à compter de la collecte'."
    )


def test_cnil_period_after_event_drops_the_word(tmp_path):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        [
            ["Nom du traitement", "Enquête"],
            ["N° / RÉF", "ENQ-1"],
            ["Données sensibles"],
            ["Réponses", "Questionnaires", None, None, "1 an après la clôture"],
        ],
    )

    register_import(path=path, dry_run=False)

    rule = ProcessingActivity.objects.get(reference="ENQ-1").retention_rules.get()
    assert rule.start_event_other == "la clôture"


@pytest.mark.parametrize(
    ("period", "duration", "unit", "start_event", "other"),
    [
        ("1 an et 6 mois à compter de la collecte", 18, "months", "collection", ""),
        ("1 an et demi à compter de la collecte", 18, "months", "collection", ""),
        (
            "1 an 1/2 à compter de la fin du contrat",
            18,
            "months",
            "end_of_contract",
            "",
        ),
        ("1 an ½ à compter de la fin du contrat", 18, "months", "end_of_contract", ""),
        ("2 ans, 3 mois après la fin du contrat", 27, "months", "end_of_contract", ""),
        (
            "Jusqu'à la fin de la relation commerciale + 3 ans",
            3,
            "years",
            "end_of_contract",
            "",
        ),
        (
            "Jusqu’au départ du salarié + 5 ans",
            5,
            "years",
            "other",
            "départ du salarié",
        ),
        ("5 ans à compter de la collecte.", 5, "years", "collection", ""),
    ],
)
def test_cnil_period_forms_read(tmp_path, period, duration, unit, start_event, other):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        [
            ["Nom du traitement", "Clients"],
            ["N° / RÉF", "CLI-1"],
            ["Données sensibles"],
            ["Identité", "Noms", None, None, period],
        ],
    )

    report = register_import(path=path, dry_run=False)

    rule = ProcessingActivity.objects.get(reference="CLI-1").retention_rules.get()
    assert _problems(report) == []
    assert (rule.duration, rule.unit) == (duration, unit)
    assert rule.start_event == start_event
    assert rule.start_event_other == other


@pytest.mark.parametrize(
    "period", ["3 ans.", "1 an et 6 mois", "2 ans et 3 semaines après la collecte"]
)
def test_cnil_period_with_punctuation_asks_for_event(tmp_path, period):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        [
            ["Nom du traitement", "Vidéo"],
            ["N° / RÉF", "VIDEO-02"],
            ["Données sensibles"],
            ["Images", "Enregistrements", None, None, period],
        ],
    )

    report = register_import(path=path, dry_run=True)
    errors = {(p.sheet, p.row, p.column): p.message for p in _problems(report)}

    assert (
        "does not say from which event the period runs"
        in (errors[("Fiche paie", 4, "E")])
    )


def test_cnil_note_in_french_whatever_the_language(tmp_path):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        [
            ["Nom du traitement", "Clients"],
            ["N° / RÉF", "CLI-1"],
            ["Données sensibles"],
            ["Identité", "Noms", None, None, "5 ans à compter de la collecte"],
        ],
    )

    with translation.override("en"):
        register_import(path=path, dry_run=False)

    rule = ProcessingActivity.objects.get(reference="CLI-1").retention_rules.get()
    assert rule.notes == (
        "Importé du modèle de la CNIL : 5 ans à compter de la collecte"
    )


def test_privacy_shield_is_a_warning(tmp_path):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        [
            ["Nom du traitement", "Paie"],
            ["N° / RÉF", "P-1"],
            ["Transferts hors UE", "Destinataire", "Pays", "Type de Garanties"],
            ["Organisme destinataire 1", "Hébergeur", "Etats-Unis", "Privacy shield"],
        ],
    )

    report = register_import(path=path, dry_run=False)

    warning = next(p for p in _problems(report, "warning") if p.column == "D")
    assert "C-311/18" in warning.message
    assert ProcessingActivity.objects.get().transfers.get().safeguard == ""


def test_unreadable_file_is_rejected(tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(b"not a workbook")

    report = register_import(path=path, dry_run=False)

    assert len(_problems(report)) == 1
    assert "register.xlsx" in _problems(report)[0].message


def test_zip_bomb_register_is_rejected_before_parsing(tmp_path):
    """An ODS of about 100 KB whose content decompresses to 100 MB."""
    path = tmp_path / "registre.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", b"<x>" + b"A" * 100_000_000 + b"</x>")

    with mock.patch("apps.register.spreadsheets.odf_load") as odf_load:
        report = register_import(path=path, dry_run=True)

    message = _problems(report)[0].message
    assert "registre.ods would expand to 100,000,007 bytes" in message
    odf_load.assert_not_called()


def test_oversized_part_rejected(tmp_path, monkeypatch):
    """A part that compresses like a real sheet, but is larger than any register."""
    monkeypatch.setattr("apps.register.spreadsheets.MAX_PART_BYTES", 10_000)
    path = tmp_path / "registre.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", os.urandom(20_000).hex())

    with mock.patch("apps.register.spreadsheets.odf_load") as odf_load:
        report = register_import(path=path, dry_run=True)

    assert "registre.ods would expand to 40,000 bytes" in _problems(report)[0].message
    odf_load.assert_not_called()


def test_ods_element_limit_rejected(tmp_path, monkeypatch):
    """Tiny elements cost far more memory once built than their bytes."""
    monkeypatch.setattr("apps.register.spreadsheets.MAX_ODS_ELEMENTS", 1_000)
    path = tmp_path / "registre.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x>" + "<s/>a" * 1_001 + "</x>")

    with mock.patch("apps.register.spreadsheets.odf_load") as odf_load:
        report = register_import(path=path, dry_run=True)

    message = _problems(report)[0].message
    assert "registre.ods holds more than 1,000 spreadsheet elements" in message
    odf_load.assert_not_called()


def test_csv_long_cell_names_line(tmp_path):
    path = tmp_path / "registre.csv"
    path.write_text("Nom;Finalités\nFichier clients;" + "x" * 100_001 + "\n")

    report = register_import(path=path, dry_run=True)

    message = _problems(report)[0].message
    assert "registre.csv has a cell longer than 100,000 characters on line 2" in message
    assert "Shorten that cell" in message


def test_csv_multiline_cell_names_first_line(tmp_path):
    path = tmp_path / "registre.csv"
    long_cell = "ligne\n" * 20_000
    path.write_text('Nom;Finalités\nFichier clients;"' + long_cell + '"\n')

    report = register_import(path=path, dry_run=True)

    assert "longer than 100,000 characters on line 2" in _problems(report)[0].message


def test_unreadable_file_names_upload(tmp_path):
    path = tmp_path / "a7e5ffe7c9e00653d480601ef9cdcd07.xlsx"
    path.write_bytes(b"\x00\x01random bytes")

    report = register_import(path=path, file_name="binary.xlsx", dry_run=True)

    message = _problems(report)[0].message
    assert "binary.xlsx" in message
    assert "a7e5ffe7" not in message
    assert "zip" not in message
    assert "upload it again" in message


def test_unreadable_file_message_in_french(tmp_path):
    path = tmp_path / "stored.xlsx"
    path.write_bytes(b"not a workbook")

    with translation.override("fr"):
        report = register_import(path=path, file_name="binaire.xlsx", dry_run=True)

    message = _problems(report)[0].message
    assert "binaire.xlsx" in message
    assert "n'a pas pu être lu" in message


@pytest.mark.skipif(
    not MAC_CSV_FILE.exists(), reason=f"the CSV sample is not at {MAC_CSV_FILE}"
)
def test_mac_csv_is_not_register(tmp_path):
    path = tmp_path / "stored.csv"
    path.write_bytes(MAC_CSV_FILE.read_bytes())

    report = register_import(path=path, file_name="books-mac.csv", dry_run=True)

    messages = [problem.message for problem in _problems(report)]
    sheets = {problem.sheet for problem in report.problems} - {""}
    assert sheets == {"books-mac"}
    assert len(messages) == 1
    assert "No processing activity was found in books-mac.csv" in messages[0]
    assert "new-line" not in messages[0]


def test_csv_with_cr_line_endings_imports(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="TRT-201")
    activity.recipients.update(details="Siège\nFiliale")
    content = register_export(
        activities=activities_for_export(user=compliance_officer),
        file_format="csv",
    )
    ProcessingActivity.objects.all().delete()
    path = tmp_path / "register.csv"
    path.write_bytes(content.replace(b"\r\n", b"\r").replace(b"\n", b"\r"))

    report = register_import(path=path, dry_run=False)

    restored = ProcessingActivity.objects.get(reference="TRT-201")
    assert not _problems(report)
    assert restored.recipients.get().details == "Siège\nFiliale"


def test_unknown_extension_is_rejected(tmp_path):
    path = tmp_path / "register.pdf"
    path.write_bytes(b"%PDF-1.4")

    report = register_import(path=path, dry_run=True)

    assert ".pdf" in _problems(report)[0].message


def test_csv_part_without_activity_is_rejected(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,N° / RÉF,Nom du traitement,"
        "Destinataires : Type de destinataire\n"
        "Destinataires,ABSENT-1,,Service interne\n",
        encoding="utf-8",
    )

    report = register_import(path=path, dry_run=True)
    error = _problems(report)[0]

    assert (error.row, error.column) == (2, "B")
    assert "ABSENT-1" in error.message


def test_bad_choice_lists_accepted_values(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,N° / RÉF,Nom du traitement,Base légale\n"
        "Traitement,X-1,Essai,Parce que\n",
        encoding="utf-8",
    )

    report = register_import(path=path, dry_run=True)
    error = _problems(report)[0]

    assert (error.row, error.column) == (2, "D")
    assert "“Parce que”" in error.message
    assert "Consentement (art. 6.1.a)" in error.message


def test_csv_without_part_columns_keeps_parts(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="KEEP-1")
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,N° / RÉF,Nom du traitement\nTraitement,KEEP-1,Nouveau nom\n",
        encoding="utf-8",
    )

    # The file has no export time, so the change must be confirmed.
    report = register_import(
        path=path,
        dry_run=False,
        confirmation=ImportConfirmation(overwrite_all=True),
    )

    activity.refresh_from_db()
    assert report.activities[0]["outcome"] == "updated"
    assert activity.name == "Nouveau nom"
    assert activity.transfers.count() == 1
    assert activity.retention_rules.count() == 1


def test_csv_part_rows_need_their_columns(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,N° / RÉF,Nom du traitement\n"
        "Traitement,X-1,Essai\n"
        "Destinataires,X-1,\n",
        encoding="utf-8",
    )

    report = register_import(path=path, dry_run=True)
    error = _problems(report)[0]

    assert (error.row, error.column) == (3, "A")
    assert "Destinataires : <column>" in error.message


def _export_with_duration(owner, tmp_path, duration):
    """Export one complete activity as XLSX with its rule's duration replaced."""
    complete_activity(owner, reference="DUR-1")
    content = register_export(
        activities=activities_for_export(user=owner), file_format="xlsx"
    )
    path = tmp_path / "register.xlsx"
    path.write_bytes(content)

    workbook = load_workbook(path)
    sheet = workbook["DUR-1"]
    header = next(
        cell for row in sheet.iter_rows() for cell in row if cell.value == "Durée"
    )
    duration_cell = sheet.cell(row=header.row + 1, column=header.column)
    duration_cell.value = duration
    workbook.save(path)
    return path, duration_cell.coordinate


def test_fractional_duration_is_rejected(compliance_officer, tmp_path):
    path, coordinate = _export_with_duration(compliance_officer, tmp_path, 2.5)

    report = register_import(path=path, dry_run=False)
    errors = _problems(report)

    assert len(errors) == 1
    assert f"{errors[0].column}{errors[0].row}" == coordinate
    assert "“2.5” is not a whole number." in errors[0].message
    assert not report.applied
    assert RetentionRule.objects.get().duration == 3


def test_whole_float_duration_is_accepted(compliance_officer, tmp_path):
    path, _coordinate = _export_with_duration(compliance_officer, tmp_path, 4.0)

    report = register_import(path=path, dry_run=False)

    assert _problems(report) == []
    assert RetentionRule.objects.get().duration == 4


@pytest.mark.parametrize("duration", ["-3", "0", "trois", "nan", "inf", "1e999999999"])
def test_invalid_duration_text_is_rejected(compliance_officer, tmp_path, duration):
    path, coordinate = _export_with_duration(compliance_officer, tmp_path, duration)

    report = register_import(path=path, dry_run=True)
    errors = _problems(report)

    assert len(errors) == 1
    assert f"{errors[0].column}{errors[0].row}" == coordinate
    assert f"“{duration}”" in errors[0].message


def test_duration_above_maximum_is_rejected(compliance_officer, tmp_path):
    path, _coordinate = _export_with_duration(compliance_officer, tmp_path, 10000)

    report = register_import(path=path, dry_run=True)
    errors = _problems(report)

    assert len(errors) == 1
    assert "Activity DUR-1" in errors[0].message
    assert "10000 years" in errors[0].message
    assert "maximum of 100 years" in errors[0].message
    assert report.activities == []


def test_csv_blank_reference_points_at_column(compliance_officer, tmp_path):
    complete_activity(compliance_officer, reference="CSV-1")
    content = register_export(
        activities=activities_for_export(user=compliance_officer),
        file_format="csv",
    )
    path = tmp_path / "register.csv"
    path.write_bytes(content.replace(b"CSV-1", b""))

    report = register_import(path=path, dry_run=True)
    errors = _problems(report)
    header = content.decode("utf-8-sig").splitlines()[0].split(";")
    reference_letter = "ABCDEFGHIJ"[header.index("N° / RÉF")]

    assert len(errors) > 1
    assert {error.column for error in errors} == {reference_letter}
    assert all("reference) is missing" in error.message for error in errors)
    assert not any("reference ." in error.message for error in errors)


def test_csv_invalid_activity_reported_once(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,Nom du traitement,N° / RÉF,"
        "Destinataires : Type de destinataire\n"
        "Traitement,,X-1,\n"
        "Destinataires,,X-1,Service interne\n",
        encoding="utf-8",
    )

    report = register_import(path=path, dry_run=True)
    errors = _problems(report)

    assert len(errors) == 1
    assert (errors[0].row, errors[0].column) == (2, "B")
    assert "Nom du traitement" in errors[0].message


def _cnil_record_rows(data_rows, transfer_rows):
    """Rows of a CNIL record sheet with the template's section headings."""
    return [
        ["Nom du traitement", "Recrutement"],
        ["N° / RÉF", "CNIL-06"],
        [
            "Catégories de données personnelles concernées",
            "Description",
            None,
            None,
            "Durée de conservation",
        ],
        *data_rows,
        [],
        [
            "Transferts hors UE",
            "Destinataire",
            "Pays",
            "Type de Garanties",
            None,
            "Liens vers la documentation",
        ],
        *transfer_rows,
    ]


def test_cnil_reports_every_save_error(tmp_path):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        _cnil_record_rows(
            [["État civil", "Noms", None, None, "0 ans à compter de la collecte"]],
            [
                [
                    "Organisme destinataire 1",
                    "Filiale",
                    "Allemagne",
                    "Clauses contractuelles types (CCT)",
                ]
            ],
        ),
    )

    report = register_import(path=path, dry_run=True)
    errors = {(p.row, p.column): p.message for p in _problems(report)}

    assert set(errors) == {(4, "E"), (7, "C")}
    assert [problem.row for problem in _problems(report)] == [4, 7]
    assert errors[(4, "E")].startswith(
        "Activity CNIL-06, retention rule, duration "
        "(“Durée de conservation” in the file): The duration must be at least 1"
    )
    assert errors[(7, "C")].startswith(
        "Activity CNIL-06, transfer outside the EU, country (“Pays” in the file): "
        "Allemagne is in the European Economic Area"
    )
    assert all(p.sheet == "Fiche paie" for p in _problems(report))
    assert not ProcessingActivity.objects.exists()


def test_read_and_save_errors_both_reported(tmp_path):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        _cnil_record_rows(
            [
                ["État civil", "Noms", None, None, "longtemps"],
                [
                    "Vie professionnelle",
                    "CV",
                    None,
                    None,
                    "150 ans à compter de la collecte",
                ],
            ],
            [],
        ),
    )

    report = register_import(path=path, dry_run=True)
    errors = {(p.row, p.column): p.message for p in _problems(report)}

    assert set(errors) == {(4, "E"), (5, "E")}
    assert "“longtemps” is not a retention period" in errors[(4, "E")]
    assert "150 years is above the maximum of 100 years" in errors[(5, "E")]
    assert report.activities == []


def test_cnil_actor_rows_named_in_french(tmp_path):
    rows = [
        ["Acteurs", "Nom", "Adresse"],
        ["Responsable du traitement", "Exemple SAS", "1 rue Exemple"],
        ["Représentant", "Rep SARL", "2 rue Exemple"],
        *_cnil_record_rows([], []),
    ]
    path = _cnil_like_workbook(tmp_path / "fiche.xlsx", rows)

    with translation.override("fr"):
        report = register_import(path=path, dry_run=True)

    notes = [problem.message for problem in _problems(report, "info")]
    assert any(
        note.startswith("Les coordonnées du responsable du traitement ne sont pas")
        for note in notes
    ), notes
    assert any(
        note.startswith("Les coordonnées du représentant ne sont pas") for note in notes
    ), notes


def test_save_error_uses_french_labels(tmp_path):
    path = _cnil_like_workbook(
        tmp_path / "fiche.xlsx",
        _cnil_record_rows(
            [["État civil", "Noms", None, None, "0 ans à compter de la collecte"]], []
        ),
    )

    with translation.override("fr"):
        report = register_import(path=path, dry_run=True)

    message = _problems(report)[0].message
    assert "durée de conservation, durée" in message
    assert "retention_rules" not in message
    assert "duration" not in message


def test_export_error_points_at_cell_and_header(compliance_officer, tmp_path):
    path, coordinate = _export_with_duration(compliance_officer, tmp_path, 10000)

    report = register_import(path=path, dry_run=True)
    error = _problems(report)[0]

    assert (error.sheet, f"{error.column}{error.row}") == ("DUR-1", coordinate)
    assert "retention rule, duration (“Durée” in the file)" in error.message


def test_csv_error_points_at_part_cell(compliance_officer, tmp_path):
    complete_activity(compliance_officer, reference="CSV-2")
    content = register_export(
        activities=activities_for_export(user=compliance_officer),
        file_format="csv",
    )
    path = tmp_path / "register.csv"
    path.write_bytes(content.replace("États-Unis".encode(), b"Belgique"))

    report = register_import(path=path, dry_run=True)
    errors = _problems(report)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    country_column = header.index("Transferts hors UE : Pays")
    transfer_row = next(
        i for i, row in enumerate(rows) if row[0] == "Transferts hors UE"
    )

    assert len(errors) == 1
    assert (errors[0].row, errors[0].column) == (
        transfer_row + 1,
        column_letter(country_column),
    )
    assert "(“Transferts hors UE : Pays” in the file)" in errors[0].message


def test_csv_bad_date_names_iso_format(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,N° / RÉF,Nom du traitement,Prochaine revue\n"
        "Traitement,D-1,Essai,2026-13-01\n",
        encoding="utf-8",
    )

    report = register_import(path=path, dry_run=True)
    error = _problems(report)[0]

    assert (error.row, error.column) == (2, "D")
    assert "Write it as YYYY-MM-DD, as the CSV export does" in error.message


@pytest.mark.parametrize("written", ["2027-03-31", "31/03/2027"])
def test_csv_date_formats_accepted(tmp_path, written):
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,N° / RÉF,Nom du traitement,Prochaine revue\n"
        f"Traitement,D-1,Essai,{written}\n",
        encoding="utf-8",
    )

    report = register_import(path=path, dry_run=False)

    assert _problems(report) == []
    activity = ProcessingActivity.objects.get()
    assert activity.next_review_on == datetime.date(2027, 3, 31)


def test_csv_nul_in_name_is_row_error(tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(
        "Type de ligne,N° / RÉF,Nom du traitement\n"
        "Traitement,NUL-1,Trait\x00ement\n".encode()
    )

    report = register_import(path=path, dry_run=False)
    errors = _problems(report)

    assert len(errors) == 1
    assert (errors[0].sheet, errors[0].row, errors[0].column) == ("register", 2, "C")
    assert "'Trait\\x00ement' contains a NUL character" in errors[0].message
    assert not report.applied
    assert not ProcessingActivity.objects.exists()


def test_csv_nul_in_reference_is_row_error(tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(
        "Type de ligne,N° / RÉF,Nom du traitement\n"
        "Traitement,NUL\x00-2,Essai\n".encode()
    )

    report = register_import(path=path, dry_run=True)
    errors = _problems(report)

    assert [(error.row, error.column) for error in errors] == [(2, "B")]
    assert not ProcessingActivity.objects.exists()


def test_import_dropping_rule_needs_permission(compliance_officer, dpo, tmp_path):
    activity = complete_activity(
        compliance_officer,
        reference="PERM-1",
        status=ProcessingActivity.Status.DRAFT,
    )
    path = tmp_path / "register.xlsx"
    path.write_bytes(
        register_export(
            activities=activities_for_export(user=compliance_officer),
            file_format="xlsx",
        )
    )
    RetentionRule.objects.create(
        activity=activity,
        data_category="Historique des échanges",
        duration=1,
        start_event=RetentionRule.StartEvent.COLLECTION,
    )

    report = register_import(
        path=path,
        actor=dpo,
        dry_run=False,
        confirmation=ImportConfirmation(remove_missing_all=True),
    )
    errors = _problems(report)

    assert len(errors) == 1
    assert "Activity PERM-1, retention rule:" in errors[0].message
    assert "not allowed to delete retention rules" in errors[0].message
    assert not report.applied
    assert activity.retention_rules.count() == 2


def _export_file(user, tmp_path, file_format="xlsx") -> Path:
    path = tmp_path / f"register.{file_format}"
    path.write_bytes(
        register_export(
            activities=activities_for_export(user=user), file_format=file_format
        )
    )
    return path


def _later_edit(activity, **fields):
    """Save ``fields`` through the service one second later than now, as an
    edit in the browser after the export would."""
    from apps.register.services import ActivityData
    from apps.register.services import activity_save

    values = {name: getattr(activity, name) for name in ACTIVITY_FIELDS}
    values.update(fields)
    later = timezone.now() + datetime.timedelta(seconds=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        return activity_save(data=ActivityData(fields=values), activity=activity)


@pytest.mark.parametrize("file_format", ["xlsx", "ods", "csv"])
def test_import_skips_activity_edited_after_export(
    compliance_officer, tmp_path, file_format
):
    activity = complete_activity(compliance_officer, reference="LATE-1")
    path = _export_file(compliance_officer, tmp_path, file_format)
    _later_edit(activity, purposes="Purposes edited after the export")

    report = register_import(path=path, dry_run=False)
    entry = report.activities[0]
    warnings = _problems(report, "warning")
    activity.refresh_from_db()

    assert entry["outcome"] == "skipped"
    assert entry["changed_after_export"]
    assert entry["fields"][0]["old"] == "Purposes edited after the export"
    assert entry["fields"][0]["new"] == "Prospection commerciale"
    assert len(warnings) == 1
    assert "after the file was exported" in warnings[0].message
    assert activity.purposes == "Purposes edited after the export"


def test_skip_warning_shows_edit_time(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="LATE-TIME")
    path = _export_file(compliance_officer, tmp_path)
    edited_at = _later_edit(activity, purposes="Edited after the export").updated_at
    preview_at = edited_at + datetime.timedelta(hours=1)

    with mock.patch("django.utils.timezone.now", return_value=preview_at):
        report = register_import(path=path, dry_run=True)
    warning = _problems(report, "warning")[0].message

    assert report.activities[0]["outcome"] == "skipped"
    assert f"changed in Registre on {format_datetime(edited_at)}," in warning
    assert format_datetime(preview_at) not in warning


def test_confirmed_overwrite_replaces_later_edit(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="LATE-2")
    path = _export_file(compliance_officer, tmp_path)
    edited = _later_edit(activity, purposes="Purposes edited after the export")
    confirmation = ImportConfirmation(
        overwrite={"LATE-2": edited.updated_at.isoformat()}
    )

    report = register_import(path=path, dry_run=False, confirmation=confirmation)
    activity.refresh_from_db()

    assert report.activities[0]["outcome"] == "updated"
    assert activity.purposes == "Prospection commerciale"


def test_overwrite_of_older_version_is_skipped(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="LATE-3")
    path = _export_file(compliance_officer, tmp_path)
    seen = _later_edit(activity, purposes="Seen in the preview").updated_at
    activity.refresh_from_db()
    with mock.patch(
        "django.utils.timezone.now", return_value=seen + datetime.timedelta(seconds=5)
    ):
        _later_edit(activity, purposes="Saved after the preview")
    confirmation = ImportConfirmation(overwrite={"LATE-3": seen.isoformat()})

    report = register_import(path=path, dry_run=False, confirmation=confirmation)
    activity.refresh_from_db()

    assert report.activities[0]["outcome"] == "skipped"
    assert activity.purposes == "Saved after the preview"


def test_csv_without_processor_row_keeps_it(compliance_officer, tmp_path):
    """GIVEN a CSV export filtered to one activity, minus its processor row
    WHEN it is imported without confirming removals
    THEN the processor stays, and the report lists it as kept.
    """
    complete_activity(compliance_officer, reference="KEEP-1")
    complete_activity(compliance_officer, reference="KEEP-2")
    path = _export_file(compliance_officer, tmp_path, "csv")
    with path.open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source, delimiter=";"))
    reference = rows[0].index("N° / RÉF")
    rows = [
        row
        for row in rows
        if row is rows[0] or (row[reference] == "KEEP-1" and row[0] != "Sous-traitants")
    ]
    with path.open("w", encoding="utf-8", newline="") as target:
        csv.writer(target).writerows(rows)

    report = register_import(path=path, dry_run=False)
    entry = report.activities[0]
    kept = [row for row in entry["rows"] if row["action"] == "kept"]

    assert len(report.activities) == 1
    assert entry["outcome"] == "unchanged"
    assert [row["label"] for row in kept] == ["Routeur SA"]
    assert "kept unless you confirm" in _problems(report, "warning")[0].message
    assert Processor.objects.filter(activity__reference="KEEP-1").count() == 1


def test_confirmed_removal_deletes_missing_row(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="DROP-1")
    path = _export_file(compliance_officer, tmp_path, "csv")
    Processor.objects.create(activity=activity, name="Sous-traitant ajouté")
    activity.refresh_from_db()
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        updated_at=activity.updated_at - datetime.timedelta(days=1)
    )
    confirmation = ImportConfirmation(remove_missing=frozenset({"DROP-1"}))

    report = register_import(path=path, dry_run=False, confirmation=confirmation)
    removed = [
        row for row in report.activities[0]["rows"] if row["action"] == "removed"
    ]

    assert [row["label"] for row in removed] == ["Sous-traitant ajouté"]
    assert list(activity.processors.values_list("name", flat=True)) == ["Routeur SA"]


def test_row_left_out_does_not_shift_others(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="SHIFT-1")
    Recipient.objects.create(activity=activity, label="Service juridique")
    Recipient.objects.create(activity=activity, label="Comptabilité", details="x")
    path = _export_file(compliance_officer, tmp_path)
    workbook = load_workbook(path)
    sheet = workbook["SHIFT-1"]
    row = next(cell.row for cell in sheet["A"] if cell.value == "Service juridique")
    sheet.delete_rows(row)
    workbook.save(path)

    report = register_import(path=path, dry_run=True)
    rows = report.activities[0]["rows"]

    assert [(row["action"], row["label"]) for row in rows] == [
        ("kept", "Service juridique")
    ]


def test_removal_after_later_edit_needs_overwrite(compliance_officer, tmp_path):
    """GIVEN an XLSX export minus one recipient row, and a save of the
    activity in Registre after the export
    WHEN the file is previewed, imported with the removal confirmed, then
    imported with the removal and the overwrite confirmed
    THEN the preview offers the overwrite, the first import skips the
    activity and the second one removes the row.
    """
    activity = complete_activity(compliance_officer, reference="LATE-ROWS")
    Recipient.objects.create(activity=activity, label="Comptabilité")
    path = _export_file(compliance_officer, tmp_path)
    workbook = load_workbook(path)
    sheet = workbook["LATE-ROWS"]
    row = next(cell.row for cell in sheet["A"] if cell.value == "Comptabilité")
    sheet.delete_rows(row)
    workbook.save(path)
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        updated_at=timezone.now() + datetime.timedelta(seconds=2)
    )

    preview = register_import(path=path, dry_run=True)
    entry = preview.activities[0]
    warnings = [problem.message for problem in _problems(preview, "warning")]
    removal_only = register_import(
        path=path,
        dry_run=False,
        confirmation=ImportConfirmation(remove_missing=frozenset({"LATE-ROWS"})),
    )
    labels_after_removal_only = sorted(
        activity.recipients.values_list("label", flat=True)
    )
    confirmed = register_import(
        path=path,
        dry_run=False,
        confirmation=ImportConfirmation(
            overwrite={"LATE-ROWS": entry["version"]},
            remove_missing=frozenset({"LATE-ROWS"}),
        ),
    )

    assert entry["outcome"] == "unchanged"
    assert entry["changed_after_export"]
    assert entry["needs_overwrite"]
    assert len(warnings) == 2
    assert "kept unless you confirm their removal" in warnings[0]
    assert "To remove them, also confirm" in warnings[1]
    assert removal_only.activities[0]["outcome"] == "skipped"
    assert labels_after_removal_only == ["Comptabilité", "Service commercial"]
    assert confirmed.activities[0]["outcome"] == "updated"
    assert list(activity.recipients.values_list("label", flat=True)) == [
        "Service commercial"
    ]


def test_removal_before_edit_needs_no_overwrite(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="ROWS-OLD")
    Recipient.objects.create(activity=activity, label="Comptabilité")
    path = _export_file(compliance_officer, tmp_path)
    workbook = load_workbook(path)
    sheet = workbook["ROWS-OLD"]
    row = next(cell.row for cell in sheet["A"] if cell.value == "Comptabilité")
    sheet.delete_rows(row)
    workbook.save(path)

    report = register_import(path=path, dry_run=True)
    entry = report.activities[0]

    assert entry["outcome"] == "unchanged"
    assert not entry["changed_after_export"]
    assert not entry["needs_overwrite"]
    assert len(_problems(report, "warning")) == 1


def test_preview_lists_changed_fields_and_rows(compliance_officer, tmp_path):
    complete_activity(compliance_officer, reference="DIFF-1")
    path = _export_file(compliance_officer, tmp_path)
    workbook = load_workbook(path)
    sheet = workbook["DIFF-1"]
    for cells in sheet.iter_rows():
        if cells[0].value == "Finalité(s) du traitement effectué":
            cells[1].value = "Nouvelle finalité " + "x" * 200
        if cells[0].value == "Routeur SA":
            cells[2].value = "Belgique"
    workbook.save(path)

    report = register_import(path=path, dry_run=True)
    entry = report.activities[0]
    changed = [row for row in entry["rows"] if row["action"] == "changed"]

    assert entry["outcome"] == "updated"
    assert entry["fields"][0]["label"] == "purposes"
    assert entry["fields"][0]["old"] == "Prospection commerciale"
    assert entry["fields"][0]["new"].startswith("Nouvelle finalité x")
    assert len(entry["fields"][0]["new"]) == 80
    assert changed[0]["label"] == "Routeur SA"
    assert changed[0]["values"][0]["old"] == "France"
    assert changed[0]["values"][0]["new"] == "Belgique"


def test_file_without_export_time_is_flagged(compliance_officer, tmp_path):
    complete_activity(compliance_officer, reference="NOTIME-1")
    path = _export_file(compliance_officer, tmp_path)
    workbook = load_workbook(path)
    summary = workbook["Liste des traitements"]
    for cells in summary.iter_rows():
        if cells[0].value == "Date de l'export :":
            cells[1].value = None
    workbook.save(path)

    report = register_import(path=path, dry_run=True)
    warnings = _problems(report, "warning")

    assert len(warnings) == 1
    assert "does not say when it was exported" in warnings[0].message


def test_import_rejects_text_above_limit(compliance_officer, tmp_path):
    complete_activity(compliance_officer, reference="LONG-1")
    path = _export_file(compliance_officer, tmp_path)
    workbook = load_workbook(path)
    sheet = workbook["LONG-1"]
    for cells in sheet.iter_rows():
        if cells[0].value == "Description du traitement":
            cells[1].value = "x" * 20_000
    workbook.save(path)

    report = register_import(path=path, dry_run=False)
    errors = _problems(report)

    assert len(errors) == 1
    assert errors[0].message.startswith(
        "Activity LONG-1, description (“Description du traitement” in the file): "
        "This text has 20000 characters, above the maximum of 10000."
    )
    assert not report.applied


def _csv_rewrite(path: Path, change) -> None:
    """Replace the CSV export at ``path`` with ``change(rows)``, as a user
    editing it in a spreadsheet would."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source, delimiter=";"))
    with path.open("w", encoding="utf-8", newline="") as target:
        csv.writer(target, delimiter=";").writerows(change(rows))


def _without_column(header: str):
    def change(rows):
        column = rows[0].index(header)
        return [row[:column] + row[column + 1 :] for row in rows]

    return change


def _with_value(reference: str, header: str, value: str):
    def change(rows):
        column = rows[0].index(header)
        for row in rows:
            if row[0] == "Traitement" and row[1:] and reference in row:
                row[column] = value
        return rows

    return change


def test_csv_without_export_column_skips_change(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="OLD-1")
    path = _export_file(compliance_officer, tmp_path, "csv")
    _later_edit(activity, purposes="Purposes edited after the export")
    _csv_rewrite(path, _without_column("Date de l'export"))

    report = register_import(path=path, dry_run=False)
    entry = report.activities[0]
    messages = [problem.message for problem in _problems(report, "warning")]
    activity.refresh_from_db()

    assert entry["outcome"] == "skipped"
    assert entry["changed_after_export"]
    assert not entry["export_time_known"]
    assert any("skipped unless you tick them" in message for message in messages)
    assert any("OLD-1 was last changed in Registre" in message for message in messages)
    assert activity.purposes == "Purposes edited after the export"


def test_csv_without_export_column_confirmed(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="OLD-2")
    path = _export_file(compliance_officer, tmp_path, "csv")
    edited = _later_edit(activity, purposes="Purposes edited after the export")
    _csv_rewrite(path, _without_column("Date de l'export"))
    confirmation = ImportConfirmation(
        overwrite={"OLD-2": edited.updated_at.isoformat()}
    )

    report = register_import(path=path, dry_run=False, confirmation=confirmation)
    activity.refresh_from_db()

    assert report.activities[0]["outcome"] == "updated"
    assert activity.purposes == "Prospection commerciale"


def test_csv_without_export_column_unchanged(compliance_officer, tmp_path):
    complete_activity(compliance_officer, reference="OLD-3")
    path = _export_file(compliance_officer, tmp_path, "csv")
    _csv_rewrite(path, _without_column("Date de l'export"))

    report = register_import(path=path, dry_run=True)

    assert report.activities[0]["outcome"] == "unchanged"


def test_unreadable_export_time_skips_change(compliance_officer, tmp_path):
    activity = complete_activity(compliance_officer, reference="OLD-4")
    path = _export_file(compliance_officer, tmp_path, "csv")
    _csv_rewrite(path, _with_value("OLD-4", "Nom du traitement", "Nouveau nom"))
    _csv_rewrite(path, _with_value("OLD-4", "Date de l'export", "hier soir"))

    report = register_import(path=path, dry_run=False)
    activity.refresh_from_db()

    assert report.activities[0]["outcome"] == "skipped"
    assert activity.name != "Nouveau nom"


@pytest.mark.parametrize(
    "time_format",
    ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
)
def test_export_time_forms_are_read(compliance_officer, tmp_path, time_format):
    """A spreadsheet that re-saves the XLSX export as CSV writes the export
    time day first, such as 05/12/2026 13:02:27."""
    activity = complete_activity(compliance_officer, reference="TIME-1")
    path = _export_file(compliance_officer, tmp_path, "csv")
    exported = timezone.localtime(activity.updated_at) + datetime.timedelta(minutes=2)
    _csv_rewrite(path, _with_value("TIME-1", "Nom du traitement", "Nouveau nom"))
    _csv_rewrite(
        path, _with_value("TIME-1", "Date de l'export", exported.strftime(time_format))
    )

    report = register_import(path=path, dry_run=False)
    activity.refresh_from_db()

    assert report.activities[0]["outcome"] == "updated"
    assert report.activities[0]["export_time_known"]
    assert _problems(report, "warning") == []
    assert activity.name == "Nouveau nom"


@pytest.mark.parametrize(
    "status", [ProcessingActivity.Status.IN_FORCE, ProcessingActivity.Status.RETIRED]
)
def test_import_rejects_return_to_draft(compliance_officer, tmp_path, status):
    activity = complete_activity(compliance_officer, reference="BACK-1", status=status)
    path = _export_file(compliance_officer, tmp_path, "csv")
    _csv_rewrite(path, _with_value("BACK-1", "Statut", "Brouillon"))

    report = register_import(
        path=path,
        dry_run=False,
        confirmation=ImportConfirmation(overwrite_all=True),
    )
    errors = _problems(report)
    activity.refresh_from_db()

    assert len(errors) == 1
    assert "BACK-1 has been in force" in errors[0].message
    assert "cannot go back to “Draft”" in errors[0].message
    assert activity.status == status


def test_import_rejects_draft_of_former_activity(compliance_officer, tmp_path):
    """An activity put back to draft before the rule existed stays out of draft
    too: its history shows it was in force."""
    activity = complete_activity(compliance_officer, reference="BACK-2")
    activity.status = ProcessingActivity.Status.DRAFT
    activity.save()
    activity.status = ProcessingActivity.Status.IN_FORCE
    activity.save()
    path = _export_file(compliance_officer, tmp_path, "csv")
    _csv_rewrite(path, _with_value("BACK-2", "Statut", "Brouillon"))

    report = register_import(path=path, dry_run=True)

    assert "BACK-2 has been in force" in _problems(report)[0].message


def test_bad_date_error_is_shortened(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,N° / RÉF,Nom du traitement,Date de création de la fiche\n"
        f"Traitement,X-1,Essai,{'9' * 3000}\n",
        encoding="utf-8",
    )

    report = register_import(path=path, dry_run=True)
    message = _problems(report)[0].message

    assert "is not a date" in message
    assert len(message) < 300
    assert "…”" in message


def test_created_namesake_is_flagged(compliance_officer, tmp_path):
    """An export from before a reference was renamed creates the old
    reference again, with the same name as the renamed activity."""
    complete_activity(compliance_officer, reference="NEW-REF", name="Paie")
    path = tmp_path / "register.csv"
    path.write_text(
        "Type de ligne,N° / RÉF,Nom du traitement,Statut\n"
        "Traitement,OLD-REF,paie,Brouillon\n",
        encoding="utf-8",
    )

    report = register_import(path=path, dry_run=True)
    warnings = _problems(report, "warning")

    assert report.activities[0]["outcome"] == "created"
    assert len(warnings) == 1
    assert "OLD-REF will be created" in warnings[0].message
    assert "NEW-REF already has the name “paie”" in warnings[0].message
