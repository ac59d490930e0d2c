import datetime
import json

import pytest
from django.core.management import CommandError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils import translation

from apps.core.audit import audit_actor_name
from apps.core.models import AuditEvent
from apps.register.exports import export_filename
from apps.register.models import ProcessingActivity
from tests.register.factories import complete_activity

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.mark.parametrize("file_format", ["xlsx", "ods", "csv", "pdf"])
def test_export_register_writes_file(compliance_officer, tmp_path, capsys, file_format):
    complete_activity(compliance_officer)
    output = tmp_path / f"register.{file_format}"

    call_command("export_register", format=file_format, output=str(output))

    summary = json.loads(capsys.readouterr().out)
    assert summary["activities"] == 1
    assert output.stat().st_size == summary["bytes"]
    event = AuditEvent.objects.get(action="register.exported")
    assert event.actor_label == "manage.py export_register"


def test_export_to_missing_folder_is_not_audited(compliance_officer, tmp_path):
    complete_activity(compliance_officer)

    output = tmp_path / "no" / "x.csv"

    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command("export_register", format="csv", output=str(output))

    assert str(raised.value) == (
        f"Le dossier {output.parent} n'existe pas ; créez-le ou choisissez un "
        "autre --output."
    )
    assert not AuditEvent.objects.filter(action="register.exported").exists()


def test_export_to_folder_path_in_french(compliance_officer, tmp_path):
    complete_activity(compliance_officer)

    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command("export_register", format="csv", output=str(tmp_path))

    assert str(raised.value) == (
        f"{tmp_path} est un dossier ; indiquez un nom de fichier dans --output."
    )


def test_export_unknown_activity_fails(tmp_path):
    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command(
            "export_register",
            format="csv",
            output=str(tmp_path / "x.csv"),
            activity="NOPE",
        )

    assert str(raised.value).startswith("Aucun traitement n’a la référence 'NOPE'")


def test_import_register_dry_run(compliance_officer, tmp_path, capsys):
    complete_activity(compliance_officer, reference="CMD-1")
    output = tmp_path / "register.xlsx"
    call_command("export_register", format="xlsx", output=str(output))
    capsys.readouterr()
    ProcessingActivity.objects.all().delete()

    call_command("import_register", str(output), dry_run=True)

    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True
    assert report["activities"][0]["outcome"] == "created"
    assert not ProcessingActivity.objects.exists()


def test_import_register_failure_exits_nonzero(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("Type de ligne,Nom du traitement\nTraitement,X\n", encoding="utf-8")

    with pytest.raises(CommandError, match="bad.csv was rejected with 1 error;"):
        call_command("import_register", str(path))

    captured = capsys.readouterr()
    assert "error:" in captured.err
    assert json.loads(captured.out)["applied"] is False


def test_import_register_removes_only_when_allowed(
    compliance_officer, tmp_path, capsys
):
    activity = complete_activity(compliance_officer, reference="CMD-2")
    output = tmp_path / "register.csv"
    call_command("export_register", format="csv", output=str(output))
    activity.processors.create(name="Added after the export")
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        updated_at=activity.updated_at
    )
    capsys.readouterr()

    call_command("import_register", str(output))
    kept = json.loads(capsys.readouterr().out)["activities"][0]["rows"]
    call_command("import_register", str(output), allow_removals=True)
    removed = json.loads(capsys.readouterr().out)["activities"][0]["rows"]

    assert [(row["action"], row["label"]) for row in kept] == [
        ("kept", "Added after the export")
    ]
    assert [(row["action"], row["label"]) for row in removed] == [
        ("removed", "Added after the export")
    ]
    assert list(activity.processors.values_list("name", flat=True)) == ["Routeur SA"]


def test_import_register_overwrites_only_when_allowed(
    compliance_officer, tmp_path, capsys
):
    activity = complete_activity(compliance_officer, reference="CMD-3")
    output = tmp_path / "register.csv"
    call_command("export_register", format="csv", output=str(output))
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        purposes="Edited later",
        updated_at=timezone.now() + datetime.timedelta(seconds=2),
    )
    capsys.readouterr()

    call_command("import_register", str(output))
    skipped = json.loads(capsys.readouterr().out)["activities"][0]["outcome"]
    call_command("import_register", str(output), overwrite_newer=True)
    updated = json.loads(capsys.readouterr().out)["activities"][0]["outcome"]

    assert skipped == "skipped"
    assert updated == "updated"
    activity.refresh_from_db()
    assert activity.purposes == "Prospection commerciale"


def test_import_register_created_names_command(
    client_for, compliance_officer, tmp_path
):
    complete_activity(compliance_officer, reference="CMD-4")
    output = tmp_path / "register.xlsx"
    call_command("export_register", format="xlsx", output=str(output))
    ProcessingActivity.objects.all().delete()

    call_command("import_register", str(output))
    activity = ProcessingActivity.objects.get(reference="CMD-4")
    created = AuditEvent.objects.get(
        action="register.activity.created", target_id=str(activity.pk)
    )
    imported = AuditEvent.objects.get(action="register.imported")
    page = client_for(compliance_officer).get(
        reverse("register:activity-history", args=[activity.pk])
    )

    assert created.actor_label == "manage.py import_register"
    assert audit_actor_name(created) == audit_actor_name(imported)
    assert "<td>manage.py import_register</td>" in page.text
    assert "<td>system</td>" not in page.text


def test_import_register_removal_names_command(
    client_for, compliance_officer, tmp_path
):
    activity = complete_activity(compliance_officer, reference="CMD-5")
    output = tmp_path / "register.csv"
    call_command("export_register", format="csv", output=str(output))
    activity.processors.create(name="Added after the export")
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        updated_at=activity.updated_at
    )

    call_command("import_register", str(output), allow_removals=True)
    changed = AuditEvent.objects.get(
        action="register.activity.changed", target_id=str(activity.pk)
    )
    removal = activity.processors.model.history.get(
        name="Added after the export", history_type="-"
    )

    assert changed.actor_label == "manage.py import_register"
    assert removal.history_change_reason == "manage.py import_register"


def test_import_register_event_counts_changed_activities(
    compliance_officer, tmp_path, capsys
):
    complete_activity(compliance_officer, reference="CMD-7")
    changed = complete_activity(compliance_officer, reference="CMD-8")
    output = tmp_path / "register.xlsx"
    call_command("export_register", format="xlsx", output=str(output))
    changed.delete()

    call_command("import_register", str(output))

    imported = AuditEvent.objects.get(action="register.imported")
    assert imported.count == 1
    assert imported.details["outcomes"]["created"] == 1
    assert imported.details["outcomes"]["unchanged"] == 1


def test_import_register_unreadable_file_line(tmp_path, capsys):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"not a workbook")

    with pytest.raises(CommandError):
        call_command("import_register", str(path), dry_run=True)

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ")
    assert not line.startswith("error: :")
    assert "fake.xlsx" in line


def test_export_file_name_keeps_accented_letters(db):
    activity = ProcessingActivity(reference="ÉT/2026:[Q1]*?\\ x")

    name = export_filename(file_format="xlsx", activity=activity)

    assert name.startswith("registre-ET-2026-Q1-x-")


def test_export_output_under_a_file_in_french(compliance_officer, tmp_path):
    complete_activity(compliance_officer)
    blocker = tmp_path / "reg.pdf"
    blocker.write_bytes(b"")

    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command("export_register", format="pdf", output=str(blocker / "x.pdf"))

    assert str(raised.value) == (
        f"{blocker} est un fichier, pas un dossier ; choisissez un autre --output."
    )


def test_processor_record_of_controller_activity_rejected(compliance_officer, tmp_path):
    complete_activity(compliance_officer, reference="CTRL-1")

    with pytest.raises(CommandError, match="CTRL-1 is not carried out as a processor"):
        call_command(
            "export_register",
            format="csv",
            output=str(tmp_path / "x.csv"),
            activity="CTRL-1",
            processor_record=True,
        )

    assert not (tmp_path / "x.csv").exists()
    assert not AuditEvent.objects.filter(action="register.exported").exists()
