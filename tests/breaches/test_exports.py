"""Export of the whole breach register: page downloads and the command."""

import csv
import io
import json
import zipfile
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from apps.breaches import services
from apps.breaches.models import Breach
from apps.core.models import AuditEvent
from apps.register.spreadsheets import read_grid

from .factories import ActivityFactory
from .factories import BreachFactory
from .factories import ContactFactory

pytestmark = pytest.mark.postgres

EXPORT_URL = "breaches:breach-register-export"


@pytest.fixture
def register(db, organisation):
    """Three breaches: notified late and informed, waived, and overdue."""
    activity = ActivityFactory(reference="TRT-900", name="Prospecting in Lyon")
    ContactFactory.create_batch(3, processing_activity=activity)

    notified = BreachFactory(
        title="Prospect file sent to a wrong address",
        aware_at=timezone.now() - timedelta(hours=100),
        subject_categories="B2B prospects",
        subjects_approx=1200,
        data_categories="Professional e-mail addresses",
        records_approx=1300,
        likely_consequences="Phishing attempts.",
        measures_taken="Recipient asked to delete the file.",
        measures_proposed="Encrypt every export.",
        risk_level=Breach.RiskLevel.HIGH,
        risk_reasoning="The file names the people.",
        subjects_must_be_informed=True,
    )
    notified.activities.set([activity])
    services.breach_notify_authority(
        breach=notified,
        phase="initial",
        submitted_at=notified.aware_at + timedelta(hours=80),
        authority_reference="CNIL-42",
        delay_reasons="The processor told us only on day 3.",
    )
    services.breach_record_communication(
        breach=notified,
        communicated_at=timezone.now() - timedelta(hours=1),
        method="E-mail from the DPO",
        activity_ids=[activity.pk],
    )

    waived = BreachFactory(
        title="Laptop lost, disk encrypted",
        aware_at=timezone.now() - timedelta(hours=10),
        affects_confidentiality=False,
        affects_availability=True,
        risk_level=Breach.RiskLevel.NONE,
        notification_decision=Breach.NotificationDecision.NOT_REQUIRED,
        no_notification_reason="The disk was encrypted.",
    )
    overdue = BreachFactory(
        title="=HYPERLINK formula in a title",
        aware_at=timezone.now() - timedelta(hours=80),
    )
    return {"notified": notified, "waived": waived, "overdue": overdue}


def _csv_rows(content: bytes) -> list[dict]:
    text = content.decode("utf-8").removeprefix("\ufeff")
    delimiter = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;").delimiter
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def _column(headers: list[str], start: str) -> str:
    """Return the header that starts with ``start`` (times name their zone)."""
    return next(header for header in headers if header.startswith(start))


def test_csv_lists_every_breach(client_for, dpo, register):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "breach-register-" in response["Content-Disposition"]
    rows = _csv_rows(response.content)
    by_reference = {row["Reference"]: row for row in rows}
    assert set(by_reference) == {breach.reference for breach in register.values()}


def test_csv_contains_the_facts(client_for, dpo, register):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "csv"})

    rows = _csv_rows(response.content)
    headers = list(rows[0])
    row = next(r for r in rows if r["Reference"] == register["notified"].reference)
    aware_at = timezone.localtime(register["notified"].aware_at)
    assert row["Title"] == "Prospect file sent to a wrong address"
    assert row[_column(headers, "Became aware at")] == aware_at.strftime(
        "%d/%m/%Y %H:%M"
    )
    assert row[_column(headers, "Detected at")] != ""
    assert row[_column(headers, "Notification deadline")] != ""
    assert row[_column(headers, "Notified at")] != ""
    assert row[_column(headers, "Data subjects first informed at")] != ""
    assert row["Status"] == "Notified to the authority"
    assert row["Notification late"] == "yes"
    assert row["Time past the deadline"] == "notified 8 h 00 min late"
    assert row["Reasons for the delay"] == "The processor told us only on day 3."
    assert row["Type of breach"] == "confidentiality"
    assert row["Categories of data subjects"] == "B2B prospects"
    assert row["Approximate number of data subjects"] == "1200"
    assert row["Categories of personal data"] == "Professional e-mail addresses"
    assert row["Approximate number of records"] == "1300"
    assert row["Likely consequences"] == "Phishing attempts."
    assert row["Measures taken"] == "Recipient asked to delete the file."
    assert row["Measures proposed"] == "Encrypt every export."
    assert row["Notification to the authority"] == "The authority must be notified"
    assert row["Authority reference"] == "CNIL-42"
    assert row["Data subjects must be informed"] == "yes"
    assert row["Communications to data subjects"].endswith(
        " · E-mail from the DPO · 3 people informed"
    )
    assert row["People informed"] == "3"
    assert row["Processing activities concerned"] == "TRT-900 · Prospecting in Lyon"


def test_csv_decision_and_late_flags(client_for, dpo, register):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "csv"})

    rows = {row["Reference"]: row for row in _csv_rows(response.content)}
    waived = rows[register["waived"].reference]
    overdue = rows[register["overdue"].reference]
    assert waived["Notification late"] == "no"
    assert waived["Time past the deadline"] == ""
    assert waived["Notification to the authority"] == "No notification to the authority"
    assert waived["Why the authority is not notified"] == "The disk was encrypted."
    assert waived["Type of breach"] == "availability"
    assert overdue["Notification late"] == "yes"
    assert overdue["Time past the deadline"] == "overdue by 8 h 00 min"
    assert overdue["People informed"] == "0"


def test_csv_neutralises_formulas(client_for, dpo, register):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "csv"})

    rows = {row["Reference"]: row for row in _csv_rows(response.content)}
    assert rows[register["overdue"].reference]["Title"] == (
        "'=HYPERLINK formula in a title"
    )


def test_xlsx_reads_back(client_for, dpo, register):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "xlsx"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    headers = list(rows[0])
    by_reference = {row[0]: dict(zip(headers, row, strict=True)) for row in rows[1:]}
    notified = by_reference[register["notified"].reference]
    aware_at = timezone.localtime(register["notified"].aware_at)
    assert len(by_reference) == 3
    assert notified[_column(headers, "Became aware at")] == aware_at.replace(
        tzinfo=None, microsecond=0
    )
    assert notified["Notification late"] == "yes"
    assert notified["Approximate number of data subjects"] == 1200
    assert notified["People informed"] == 3
    assert notified["Measures proposed"] == "Encrypt every export."
    overdue = by_reference[register["overdue"].reference]
    assert overdue["Title"] == "=HYPERLINK formula in a title"


def test_xlsx_and_list_show_offset_of_repeated_hour(
    client_for, dpo, register, settings
):
    settings.TIME_ZONE = "Europe/Paris"
    breach = register["notified"]
    second_half_past_two = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    Breach.objects.filter(pk=breach.pk).update(
        detected_at=second_half_past_two, aware_at=second_half_past_two
    )
    client = client_for(dpo)

    response = client.get(reverse(EXPORT_URL), {"format": "xlsx"})
    listing = client.get(reverse("breaches:breach-list"))

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    headers = list(rows[0])
    row = next(row for row in rows[1:] if row[0] == breach.reference)
    aware_at = dict(zip(headers, row, strict=True))[_column(headers, "Became aware at")]
    assert aware_at.endswith("02:30 (UTC+01:00)")
    assert "02:30 (UTC+01:00)" in listing.text


def _ods_records(content: bytes, tmp_path) -> tuple[list, dict[str, dict]]:
    """Return the headers of an ODS export and its rows by breach reference.

    The reader drops a row's trailing empty cells, so a row may be shorter
    than the headers.
    """
    path = tmp_path / "register.ods"
    path.write_bytes(content)
    headers, *rows = read_grid(path)[0].rows
    records = {row[0]: dict(zip(headers, row, strict=False)) for row in rows}
    return headers, records


def test_ods_matches_xlsx(client_for, dpo, register, tmp_path):
    client = client_for(dpo)

    ods = client.get(reverse(EXPORT_URL), {"format": "ods"})
    xlsx = client.get(reverse(EXPORT_URL), {"format": "xlsx"})

    assert ods.status_code == 200
    assert ods["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    assert ods["Content-Disposition"].endswith('.ods"')
    headers, by_reference = _ods_records(ods.content, tmp_path)
    xlsx_headers = next(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert headers == list(xlsx_headers)
    notified = by_reference[register["notified"].reference]
    aware_at = timezone.localtime(register["notified"].aware_at)
    assert notified[_column(headers, "Became aware at")] == aware_at.replace(
        tzinfo=None, microsecond=0
    )
    assert notified["Notification late"] == "yes"
    assert notified["Approximate number of data subjects"] == 1200
    assert notified["People informed"] == 3
    assert notified["Reasons for the delay"] == "The processor told us only on day 3."
    assert len(by_reference) == 3


def test_ods_keeps_formula_as_text(client_for, dpo, register, tmp_path):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "ods"})

    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        content = archive.read("content.xml").decode()
    _headers, records = _ods_records(response.content, tmp_path)
    overdue = records[register["overdue"].reference]
    assert overdue["Title"] == "=HYPERLINK formula in a title"
    assert "table:formula" not in content


def test_ods_shows_offset_of_repeated_hour(
    client_for, dpo, register, settings, tmp_path
):
    settings.TIME_ZONE = "Europe/Paris"
    breach = register["notified"]
    second_half_past_two = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    Breach.objects.filter(pk=breach.pk).update(
        detected_at=second_half_past_two, aware_at=second_half_past_two
    )

    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "ods"})

    headers, records = _ods_records(response.content, tmp_path)
    aware_at = records[breach.reference][_column(headers, "Became aware at")]
    assert aware_at.endswith("02:30 (UTC+01:00)")


def test_pdf_reads_back(client_for, dpo, register):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "pdf"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    for breach in register.values():
        assert breach.reference in text
    assert "Exemple Industries SAS" in text
    assert "The processor told us only on day 3." in text
    assert "Encrypt every export." in text
    assert "The disk was encrypted." in text
    assert "TRT-900" in text


def test_pdf_of_empty_register(client_for, dpo, organisation):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "pdf"})

    reader = PdfReader(io.BytesIO(response.content))
    assert "No breach recorded." in reader.pages[0].extract_text()


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "ods", "pdf"])
def test_export_audited(client_for, dpo, register, file_format):
    client_for(dpo).get(reverse(EXPORT_URL), {"format": file_format})

    event = AuditEvent.objects.get(action="breaches.register.exported")
    assert event.actor == dpo
    assert event.count == 3
    assert event.details["format"] == file_format
    assert sorted(event.details["breach_ids"]) == sorted(
        breach.pk for breach in register.values()
    )


def test_compliance_officer_may_export(client_for, compliance_officer, register):
    response = client_for(compliance_officer).get(
        reverse(EXPORT_URL), {"format": "csv"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["sales_user", "outsider"])
def test_export_forbidden_without_view(client_for, request, register, persona):
    user = request.getfixturevalue(persona)

    response = client_for(user).get(reverse(EXPORT_URL), {"format": "csv"})

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="breaches.register.exported").exists()


def test_export_unknown_format_rejected(client_for, dpo, register):
    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "zzz"})

    content = response.content.decode()
    assert response.status_code == 400
    assert "Unknown export format &#x27;zzz&#x27;" in content
    assert f"{reverse(EXPORT_URL)}?format=ods" in content
    assert not AuditEvent.objects.filter(action="breaches.register.exported").exists()


def test_list_page_links_exports(client_for, dpo, register):
    content = client_for(dpo).get(reverse("breaches:breach-list")).content.decode()

    for file_format in ("csv", "xlsx", "ods", "pdf"):
        assert f"{reverse(EXPORT_URL)}?format={file_format}" in content


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "ods", "pdf"])
def test_command_writes_file(register, tmp_path, capsys, file_format):
    output = tmp_path / f"register.{file_format}"

    call_command("export_breaches", "--format", file_format, "--output", str(output))

    summary = json.loads(capsys.readouterr().out)
    assert summary["breaches"] == 3
    assert summary["format"] == file_format
    assert summary["bytes"] == output.stat().st_size
    event = AuditEvent.objects.get(action="breaches.register.exported")
    assert event.actor_label == "manage.py export_breaches"
    assert event.count == 3


def test_command_csv_reads_back(register, tmp_path):
    output = tmp_path / "register.csv"

    call_command("export_breaches", "--format", "csv", "--output", str(output))

    rows = _csv_rows(output.read_bytes())
    assert {row["Reference"] for row in rows} == {
        breach.reference for breach in register.values()
    }


def test_command_xlsx_and_pdf_read_back(register, tmp_path):
    xlsx = tmp_path / "register.xlsx"
    pdf = tmp_path / "register.pdf"

    call_command("export_breaches", "--format", "xlsx", "--output", str(xlsx))
    call_command("export_breaches", "--format", "pdf", "--output", str(pdf))

    sheet = load_workbook(xlsx).active
    references = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert references == {breach.reference for breach in register.values()}
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert register["notified"].reference in text


def test_command_in_site_language(register, tmp_path, settings):
    settings.LANGUAGE_CODE = "fr"
    output = tmp_path / "register.csv"

    call_command("export_breaches", "--format", "csv", "--output", str(output))

    headers = list(_csv_rows(output.read_bytes())[0])
    assert "Référence" in headers


def test_command_unwritable_output_fails(register, tmp_path, caplog):
    output = tmp_path / "missing-folder" / "register.csv"

    with pytest.raises(CommandError, match="missing-folder does not exist"):
        call_command("export_breaches", "--format", "csv", "--output", str(output))

    assert not AuditEvent.objects.filter(action="breaches.register.exported").exists()
    assert "breaches.register.exported" not in caplog.text


def test_command_missing_folder_in_french(db, tmp_path):
    output = tmp_path / "missing-folder" / "register.csv"

    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command("export_breaches", "--format", "csv", "--output", str(output))

    assert str(raised.value) == (
        f"Le dossier {output.parent} n'existe pas ; créez-le ou choisissez un "
        "autre --output."
    )


def test_command_output_folder_in_french(db, tmp_path):
    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command("export_breaches", "--format", "csv", "--output", str(tmp_path))

    assert str(raised.value) == (
        f"{tmp_path} est un dossier ; indiquez un nom de fichier dans --output."
    )


def test_command_permission_denied_in_french(db, tmp_path, monkeypatch):
    output = tmp_path / "register.csv"
    open_path = Path.open

    def open_denied(path, *args, **kwargs):
        if path == output:
            raise PermissionError(13, "Permission denied")
        return open_path(path, *args, **kwargs)

    # Root bypasses file permission bits and the suite may run as root,
    # so the test simulates the denial.
    monkeypatch.setattr(Path, "open", open_denied)

    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command("export_breaches", "--format", "csv", "--output", str(output))

    assert str(raised.value).startswith(
        f"Impossible d'écrire {output} : permission refusée."
    )


def test_command_other_write_error_in_french(db, tmp_path):
    output = tmp_path / ("x" * 300 + ".csv")

    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command("export_breaches", "--format", "csv", "--output", str(output))

    assert str(raised.value).startswith(f"Impossible d'écrire {output} : ")
    assert "File name too long" in str(raised.value)


def test_command_rejects_unknown_format(db, tmp_path):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "export_breaches", "--format", "zzz", "--output", str(tmp_path / "x")
        )


def test_csv_lists_notifications_and_notes(client_for, dpo, register):
    breach = register["notified"]
    services.breach_notify_authority(
        breach=breach,
        phase="complementary",
        submitted_at=timezone.now() - timedelta(minutes=30),
        authority_reference="CNIL-42-B",
        content="The file held 1,300 rows, not 1,200.",
    )
    services.breach_add_note(breach=breach, text="Processor audit planned.")

    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "csv"})

    row = next(
        r for r in _csv_rows(response.content) if r["Reference"] == breach.reference
    )
    notifications = row["Notifications to the authority"].splitlines()
    assert len(notifications) == 2
    assert "CNIL-42" in notifications[0]
    assert "CNIL-42-B" in notifications[1]
    assert "The file held 1,300 rows, not 1,200." in notifications[1]
    assert row["Notes"].endswith("Processor audit planned.")


def test_awareness_reason_in_register_notes(client_for, dpo, organisation):
    from apps.breaches.services import breach_update

    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=10))
    breach_update(
        breach=breach,
        data={"aware_at": breach.aware_at + timedelta(hours=1)},
        actor=dpo,
        aware_at_change_reason="The supplier's alert came an hour later.",
    )

    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "csv"})

    content = response.content.decode("utf-8-sig")
    assert "The supplier's alert came an hour later." in content


def test_people_informed_counted_once(client_for, dpo, register):
    """GIVEN the 3 people of a breach informed, WHEN the same selection is
    recorded again, THEN the register still counts 3 people informed."""
    notified = register["notified"]
    services.breach_record_communication(
        breach=notified,
        communicated_at=timezone.now() - timedelta(minutes=30),
        method="Reminder letter",
        activity_ids=list(notified.activities.values_list("pk", flat=True)),
    )

    response = client_for(dpo).get(reverse(EXPORT_URL), {"format": "csv"})

    rows = {row["Reference"]: row for row in _csv_rows(response.content)}
    assert rows[notified.reference]["People informed"] == "3"
    assert notified.communications.count() == 2


def test_exports_list_each_communication(client_for, dpo, register):
    """GIVEN an e-mail, a later reminder letter, and a phone call made before
    both but recorded last. WHEN the register is exported, THEN each
    communication has its own line in time order. The first time is the call's."""
    breach = register["notified"]
    email_at = breach.communications.get().communicated_at
    letter_at = email_at + timedelta(minutes=30)
    call_at = email_at - timedelta(hours=2)
    activity_ids = list(breach.activities.values_list("pk", flat=True))
    for communicated_at, method in (
        (letter_at, "Reminder letter"),
        (call_at, "Phone call"),
    ):
        services.breach_record_communication(
            breach=breach,
            communicated_at=communicated_at,
            method=method,
            activity_ids=activity_ids,
        )
    client = client_for(dpo)

    csv_response = client.get(reverse(EXPORT_URL), {"format": "csv"})
    xlsx_response = client.get(reverse(EXPORT_URL), {"format": "xlsx"})

    row = next(
        r for r in _csv_rows(csv_response.content) if r["Reference"] == breach.reference
    )
    first_informed = _column(list(row), "Data subjects first informed at")
    call, email, letter = (
        timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")
        for moment in (call_at, email_at, letter_at)
    )
    assert row["Communications to data subjects"].splitlines() == [
        f"{call} · Phone call · 3 people informed",
        f"{email} · E-mail from the DPO · 3 people informed",
        f"{letter} · Reminder letter · 3 people informed",
    ]
    assert row[first_informed] == call
    assert row["People informed"] == "3"
    sheet_rows = list(load_workbook(io.BytesIO(xlsx_response.content)).active.values)
    cells = dict(
        zip(
            sheet_rows[0],
            next(r for r in sheet_rows if r[0] == breach.reference),
            strict=True,
        )
    )
    assert cells[first_informed] == timezone.localtime(call_at).replace(
        tzinfo=None, microsecond=0
    )
    assert "Reminder letter" in cells["Communications to data subjects"]
