"""The import_contacts command prints JSON and fails loudly on bad input."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.core.management import call_command
from django.utils import translation

from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Vendor
from apps.imports.models import ImportJob
from apps.register.models import ProcessingActivity
from apps.retention.policy import local_today
from tests.imports.conftest import prospecting_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILE = (
    b"Courriel,Nom,Portable\n"
    b"jean.dupont@example.com,Dupont,06 12 34 56 78\n"
    b"mauvais,Petit,\n"
)
# Dates count back from the day of the run, because the command rejects a list
# acquired more than three years ago or a licence that has already ended.
ACQUIRED = f"--acquired-on={local_today() - timedelta(days=60)}"
LICENCE_ENDED = f"--licence-until={local_today() - timedelta(days=1)}"


def _run(*args):
    """Run the command; without --activity, under an activity fitting the basis."""
    import io

    if not any(arg.startswith("--activity") for arg in args):
        basis = "consent" if "--lawful-basis=consent" in args else None
        activity = prospecting_activity(basis or "legitimate_interests")
        args = (*args, f"--activity={activity.reference}")
    stdout = io.StringIO()
    # The invented files have no business column.
    args = (*args, "--professional-use-confirmed")
    call_command("import_contacts", *args, stdout=stdout)
    return json.loads(stdout.getvalue())


def test_command_prints_summary(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    summary = _run(
        str(path),
        "--vendor=Fichiers Exemple SARL",
        "--list=Salon",
        ACQUIRED,
        f"--licence-until={local_today() + timedelta(days=300)}",
        "--consent-claim=opt-out",
    )

    assert summary["status"] == "done"
    assert summary["counts"] == {
        "created": 1,
        "merged": 0,
        "duplicate": 0,
        "suppressed": 0,
        "rejected": 1,
    }
    contact_list = ContactList.objects.get()
    assert contact_list.acquisition == "rental"
    assert contact_list.consent_claim == "opt_out"


def test_command_dry_run_writes_nothing(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    summary = _run(str(path), "--vendor=V", "--list=L", ACQUIRED, "--dry-run")

    assert summary["dry_run"]["counts"]["created"] == 1
    assert Contact.objects.count() == 0


def test_command_mapping_by_header(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    summary = _run(
        str(path),
        "--vendor=V",
        "--list=L",
        ACQUIRED,
        '--mapping={"Courriel": "email", "Nom": "company"}',
    )

    assert summary["mapping"] == {"0": "email", "1": "company", "2": "mobile"}
    assert Contact.objects.get().company == "Dupont"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--acquired-on=2025-31-01"], "YYYY-MM-DD"),
        (["--acquired-on=2026-02-30"], "no such day exists"),
        (["--acquired-on=30/02/2026"], "write it as YYYY-MM-DD"),
        ([ACQUIRED, "--mapping={bad"], "not valid JSON"),
        ([ACQUIRED, '--mapping={"Fax": "phone"}'], "Fax"),
        ([ACQUIRED, '--mapping={"Courriel": "bogus"}'], "use one of email, "),
        ([ACQUIRED, "--activity=NOPE"], "NOPE"),
        (["--acquired-on=2099-03-01"], "future"),
        (["--acquired-on=0001-01-01"], "01/01/0001 is before 01/01/2000"),
        ([f"--acquired-on={local_today() - timedelta(days=4 * 365)}"], "too old"),
        ([ACQUIRED, LICENCE_ENDED], "before today"),
        (
            [ACQUIRED, "--lawful-basis=consent", "--consent-claim=opt-out"],
            "consent claim is “opt-out",
        ),
        ([ACQUIRED, "--lawful-basis=consent"], "consent claim is “not stated”"),
    ],
)
def test_command_bad_input_fails(args, message, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    with pytest.raises(CommandError, match=message):
        _run(str(path), "--vendor=V", "--list=L", *args)
    assert not ImportJob.objects.exclude(status="cancelled").exists()


def test_command_missing_file_fails(tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        _run(
            str(tmp_path / "absent.csv"),
            "--vendor=V",
            "--list=L",
            ACQUIRED,
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--acquired-on=2025-31-01"], "ce jour n’existe pas"),
        (["--acquired-on=31/01/2025"], "écrivez-la AAAA-MM-JJ"),
        ([ACQUIRED, "--mapping={bad"], "n’est pas un JSON valide"),
        ([ACQUIRED, "--activity=NOPE"], "Aucun traitement n’a la référence 'NOPE'"),
    ],
)
def test_command_errors_in_french(args, message, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    with translation.override("fr"), pytest.raises(CommandError, match=message):
        _run(str(path), "--vendor=V", "--list=L", *args)


def test_command_rejects_draft_activity(upload_root, tmp_path):
    ProcessingActivity.objects.create(
        reference="TRT-905", name="Projet", status=ProcessingActivity.Status.DRAFT
    )
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    with pytest.raises(CommandError, match="TRT-905"):
        _run(
            str(path),
            "--vendor=V",
            "--list=L",
            ACQUIRED,
            "--activity=TRT-905",
        )

    assert not ImportJob.objects.exists()
    assert not Vendor.objects.exists()


def test_command_unmappable_file_records_error(upload_root, tmp_path):
    """GIVEN a file with no e-mail or phone column
    WHEN the command imports it
    THEN the job is cancelled with the error text and leaves no vendor or list."""
    path = tmp_path / "adresses.csv"
    path.write_bytes(b"Nom,Ville\nDupont,Lyon\n")

    with pytest.raises(CommandError, match="e-mail address or a phone number"):
        _run(str(path), "--vendor=CLI QA", "--list=cli-x", ACQUIRED)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.CANCELLED
    assert "e-mail address or a phone number" in job.error
    assert job.vendor_name == "CLI QA"
    assert not Vendor.objects.exists()
    assert not ContactList.objects.exists()


def test_command_sets_lawful_basis(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    _run(
        str(path),
        "--vendor=V",
        "--list=L",
        ACQUIRED,
        "--lawful-basis=consent",
        "--consent-claim=opt-in",
    )

    assert ImportJob.objects.get().lawful_basis == "consent"
    assert Contact.objects.get().lawful_basis == "consent"


DUPLICATED_EMAIL = (
    "Email;Prénom;Nom;Email;Téléphone\n"
    "jean.dupont@example.com;Jean;Dupont;;06 12 34 56 78\n"
    ";Zoé;Petit;zoe.petit@example.com;\n"
).encode()


def test_command_long_vendor_fails_cleanly(upload_root, tmp_path):
    """GIVEN a vendor name of 250 characters
    WHEN the command imports a file for it
    THEN it fails with the length and the limit and keeps no job or file."""
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    with pytest.raises(CommandError) as raised:
        _run(str(path), f"--vendor={'V' * 250}", "--list=L", ACQUIRED)

    message = str(raised.value)
    assert "The vendor name “VVVV" in message
    assert "250 characters long, above the limit of 200 characters" in message
    assert not ImportJob.objects.exists()
    assert not [file for file in upload_root.rglob("*") if file.is_file()]


def test_command_long_list_fails_cleanly(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    with pytest.raises(CommandError, match="limit of 200 characters"):
        _run(str(path), "--vendor=V", f"--list={'L' * 201}", ACQUIRED)

    assert not ImportJob.objects.exists()
    assert not [file for file in upload_root.rglob("*") if file.is_file()]


def _dry_run_output(path) -> tuple[str, str]:
    """Run a dry run of ``path`` with the command; return its stdout and stderr."""
    import io

    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "import_contacts",
        str(path),
        "--vendor=V",
        "--list=L",
        ACQUIRED,
        f"--activity={prospecting_activity().reference}",
        "--dry-run",
        stdout=stdout,
        stderr=stderr,
    )
    return stdout.getvalue(), stderr.getvalue()


def test_command_warns_of_duplicate_headers(upload_root, tmp_path):
    path = tmp_path / "doublons.csv"
    path.write_bytes(DUPLICATED_EMAIL)

    stdout, warning = _dry_run_output(path)

    assert "column 1 and column 4, both “Email”" in warning
    assert "Column 1 is ignored and column 4 feeds “E-mail”" in warning
    assert "--mapping" in warning
    assert json.loads(stdout)["status"] == "pending"


def test_command_mapping_by_shared_header_fails(upload_root, tmp_path):
    path = tmp_path / "doublons.csv"
    path.write_bytes(DUPLICATED_EMAIL)

    with pytest.raises(CommandError) as raised:
        _run(
            str(path),
            "--vendor=V",
            "--list=L",
            ACQUIRED,
            '--mapping={"Email": "email"}',
        )

    assert "several columns have (0-based numbers 0, 3)" in str(raised.value)
    assert ImportJob.objects.get().status == ImportJob.Status.CANCELLED


def test_command_mapping_by_number_picks_column(upload_root, tmp_path):
    path = tmp_path / "doublons.csv"
    path.write_bytes(DUPLICATED_EMAIL)

    summary = _run(
        str(path),
        "--vendor=V",
        "--list=L",
        ACQUIRED,
        '--mapping={"0": "email", "3": ""}',
    )

    assert summary["mapping"]["0"] == "email"
    assert summary["mapping"].get("3", "") == ""
    assert Contact.objects.filter(email="jean.dupont@example.com").exists()
    assert not Contact.objects.filter(email="zoe.petit@example.com").exists()


def test_command_unknown_field_names_column(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    with pytest.raises(CommandError) as raised:
        _run(
            str(path),
            "--vendor=V",
            "--list=L",
            ACQUIRED,
            '--mapping={"Nom": "societe"}',
        )

    assert "Unknown field societe for column 2 (“Nom”)" in str(raised.value)


def test_command_vendor_name_ignores_case(upload_root, tmp_path):
    from apps.contacts.models import Vendor

    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    _run(str(path), "--vendor=RDV Données", "--list=L", ACQUIRED)

    _run(str(path), "--vendor=rdv données", "--list=L", ACQUIRED)

    assert list(Vendor.objects.values_list("name", flat=True)) == ["RDV Données"]
    assert ContactList.objects.count() == 1


def test_command_mapping_one_field_twice_fails(upload_root, tmp_path):
    path = tmp_path / "doublons.csv"
    path.write_bytes(DUPLICATED_EMAIL)

    with pytest.raises(CommandError) as raised:
        _run(
            str(path),
            "--vendor=V",
            "--list=L",
            ACQUIRED,
            '--mapping={"0": "email", "3": "email"}',
        )

    assert "0-based columns 0 and 3 to 'email'" in str(raised.value)
    assert not Contact.objects.exists()


def test_command_rejects_social_security_column(upload_root, tmp_path):
    path = tmp_path / "nir.csv"
    path.write_bytes(
        b"Courriel;Nom;NIR\njean.dupont@example.com;Dupont;185057512345678\n"
    )

    with pytest.raises(CommandError) as raised:
        _run(
            str(path),
            "--vendor=V",
            "--list=L",
            ACQUIRED,
            '--mapping={"NIR": "job_title"}',
        )

    assert "holds social-security numbers" in str(raised.value)
    assert not Contact.objects.filter(job_title="185057512345678").exists()


def test_command_warns_of_missing_business_column(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    _stdout, stderr = _dry_run_output(path)

    assert "Warning: No column is mapped to a company" in stderr


def test_command_names_option_for_unknown_people(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    activity = prospecting_activity("legitimate_interests")

    with pytest.raises(CommandError, match="--professional-use-confirmed"):
        call_command(
            "import_contacts",
            str(path),
            "--vendor=Fichiers SA",
            "--list=Salon",
            ACQUIRED,
            f"--activity={activity.reference}",
        )

    assert Contact.objects.count() == 0
    assert ImportJob.objects.get().status == ImportJob.Status.CANCELLED
