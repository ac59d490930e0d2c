"""Erasure reaches staged rows, uploaded files and row-result links."""

import datetime

import pytest
from django.utils import timezone

from apps.core.personal_data import personal_data_erase
from apps.core.personal_data import personal_data_find
from apps.imports import personal_data
from apps.imports.models import ImportJob
from apps.imports.models import StagingRow
from apps.imports.selectors import STALE_AFTER
from apps.imports.services import import_job_create
from tests.imports.conftest import RECENT_ACQUISITION
from tests.imports.conftest import import_file
from tests.imports.conftest import prospecting_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILE = (
    "Courriel;Nom;Téléphone\n"
    "jean.dupont@example.com;Dupont;06 12 34 56 78\n"
    "zoe.petit@example.com;Petit;\n"
).encode()


def _pending_job(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    with path.open("rb") as upload:
        return import_job_create(
            upload=upload,
            file_name="liste.csv",
            vendor_name="V",
            list_name="L",
            acquired_on=RECENT_ACQUISITION,
            processing_activity=prospecting_activity(),
        )


def test_find_reports_file_and_staging(upload_root, tmp_path):
    job = _pending_job(tmp_path)
    StagingRow.objects.create(job=job, row_number=2, email="jean.dupont@example.com")

    matches = personal_data.find(
        emails=["jean.dupont@example.com"], phones=[], names=[]
    )

    kinds = sorted(match.kind for match in matches)
    assert kinds == ["import_source_file", "import_staging_row"]
    assert all("jean" not in match.label for match in matches)


def test_find_matches_phone_in_file(upload_root, tmp_path):
    _pending_job(tmp_path)

    matches = personal_data.find(emails=[], phones=["+33612345678"], names=[])

    assert [match.kind for match in matches] == ["import_source_file"]


def test_erase_deletes_file_staging_and_links(upload_root, tmp_path):
    path = tmp_path / "done.csv"
    path.write_bytes(FILE)
    done = import_file(path)
    contact_id = done.row_results.get(row_number=2).contact_id
    pending = _pending_job(tmp_path)
    StagingRow.objects.create(
        job=pending, row_number=2, email="jean.dupont@example.com"
    )

    counts = personal_data_erase(
        contact_ids=[contact_id], emails=["jean.dupont@example.com"], phones=[]
    )

    done.refresh_from_db()
    pending.refresh_from_db()
    assert counts["import_staging_row"] == 1
    assert counts["import_source_file"] == 2
    assert counts["import_row_result_unlinked"] == 1
    assert not done.source_file
    assert not pending.source_file
    assert pending.status == "cancelled"
    assert done.row_results.count() == 2
    assert not personal_data_find(
        emails=["jean.dupont@example.com"], phones=[], names=[]
    )


def test_erase_keeps_files_of_other_people(upload_root, tmp_path):
    job = _pending_job(tmp_path)

    counts = personal_data.erase(
        contact_ids=[], emails=["someone.else@example.com"], phones=[]
    )

    job.refresh_from_db()
    assert counts["import_source_file"] == 0
    assert job.source_file


@pytest.mark.parametrize(
    "cell",
    [
        "nina.durand@example.com, assistante@example.org",
        "Nina Durand <nina.durand@example.com>",
        "01 44 55 66 77 / 06 98 76 54 32",
    ],
)
def test_erase_finds_identifier_in_list_cell(upload_root, tmp_path, cell):
    path = tmp_path / "contacts.csv"
    path.write_text(f"Contacts;Nom\n{cell};Durand\n", encoding="utf-8")
    with path.open("rb") as upload:
        job = import_job_create(
            upload=upload,
            file_name="contacts.csv",
            vendor_name="V",
            list_name="L",
            acquired_on=RECENT_ACQUISITION,
            processing_activity=prospecting_activity(),
        )

    counts = personal_data.erase(
        contact_ids=[], emails=["nina.durand@example.com"], phones=["+33698765432"]
    )

    job.refresh_from_db()
    assert counts["import_source_file"] == 1
    assert not job.source_file


PROBE_IDENTIFIERS = {
    "inès.dupont@example.com",
    "+33612345678",
    "+32470123456",
    "+14155553222",
    "+18003569377",
    "+33142685300",
}
PROBE_CELLS = [
    "Inès.Dupont@Example.com",
    " INE\u0300S.DUPONT@EXAMPLE.COM ",
    "ines.dupont@example.com",
    "jean.dupont@example.com",
    "06 12 34 56 78",
    "+33 (0)6-12-34-56-78",
    "0033612345678",
    "6.12.34.56.78",
    "06 12 34 56 79",
    "+32 470 12 34 56",
    "0470 12 34 56",
    "\uff10\uff16\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
    "SIRET 12345678901234",
    "+1-415-555-3ABC",
    "+1 (415) 555-3abc poste 12",
    "06 12 3x4 56 78",
    "+1-800-FLOWERS",
    "+33 1 42 68 53 00 ext. 20456",
    612345678.0,
    "",
]


@pytest.mark.parametrize("cell", PROBE_CELLS)
def test_probe_agrees_with_normalising(cell):
    probe = personal_data._IdentifierProbe(PROBE_IDENTIFIERS)

    try:
        expected = bool(personal_data.email_normalize(str(cell)) in PROBE_IDENTIFIERS)
    except personal_data.InvalidValue:
        expected = False
    if not expected:
        try:
            expected = (
                personal_data.phone_normalize(personal_data.cell_text(cell))
                in PROBE_IDENTIFIERS
            )
        except personal_data.InvalidValue:
            expected = False

    assert probe.row_holds(["Dupont", cell, "Paris"]) is expected


def test_probe_skips_rows_without_identifiers():
    probe = personal_data._IdentifierProbe(PROBE_IDENTIFIERS)

    assert not probe.row_holds(["Jean", "jean.dupont@example.com", "06 12 34 56 79"])
    assert not probe.row_holds([None, "", 0])


def test_erase_without_uploads_queries_nothing(upload_root, django_assert_num_queries):
    (upload_root / "2026" / "11").mkdir(parents=True)

    with django_assert_num_queries(0):
        counts = personal_data.erase(
            contact_ids=[], emails=["jean.dupont@example.com"], phones=[]
        )

    assert counts == {}


def test_staged_rows_erased_by_identifier(upload_root, tmp_path):
    job = _pending_job(tmp_path)
    StagingRow.objects.create(job=job, row_number=2, phone="+33612345678")
    StagingRow.objects.create(job=job, row_number=3, email="autre@example.com")

    counts = personal_data_erase(contact_ids=[], emails=[], phones=["+33612345678"])

    job.refresh_from_db()
    assert counts["import_staging_row"] == 1
    assert counts["import_source_file"] == 1
    assert job.status == ImportJob.Status.CANCELLED
    assert "whose erasure was requested" in job.error
    assert not StagingRow.objects.filter(job=job).exists()


def test_erase_leaves_queued_job_alone(upload_root, tmp_path):
    job = _pending_job(tmp_path)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.QUEUED, heartbeat_at=timezone.now()
    )
    StagingRow.objects.create(job=job, row_number=2, email="jean.dupont@example.com")

    counts = personal_data_erase(emails=["jean.dupont@example.com"])

    job.refresh_from_db()
    assert counts == {}
    assert job.source_file
    assert job.status == ImportJob.Status.QUEUED
    assert StagingRow.objects.filter(job=job).count() == 1


def test_erase_cleans_stalled_job(upload_root, tmp_path):
    job = _pending_job(tmp_path)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        heartbeat_at=timezone.now() - STALE_AFTER - datetime.timedelta(minutes=1),
    )
    StagingRow.objects.create(job=job, row_number=2, email="jean.dupont@example.com")
    StagingRow.objects.create(job=job, row_number=3, email="autre@example.com")

    counts = personal_data_erase(emails=["jean.dupont@example.com"])

    job.refresh_from_db()
    assert counts == {"import_staging_row": 1, "import_source_file": 1}
    assert not job.source_file
    assert job.status == ImportJob.Status.CANCELLED
    assert not StagingRow.objects.filter(job=job).exists()


def _unreadable(job, content: bytes) -> None:
    """Replace the job's stored file with bytes that no reader accepts."""
    with open(job.source_file.path, "wb") as handle:
        handle.write(content)


def test_unreadable_upload_found_by_its_text(upload_root, tmp_path):
    job = _pending_job(tmp_path)
    _unreadable(job, b"\x00\x01jean.dupont@example.com;Dupont;06 12 34 56 78\x00")

    matches = personal_data.find(
        emails=["jean.dupont@example.com"], phones=[], names=[]
    )

    assert [match.kind for match in matches] == ["import_source_file"]
    assert "not readable as a table" in matches[0].label


def test_unreadable_upload_found_by_phone_and_erased(upload_root, tmp_path):
    job = _pending_job(tmp_path)
    _unreadable(job, b"\x00Dupont;06 12 34 56 78\n\x00")

    counts = personal_data.erase(contact_ids=[], emails=[], phones=["+33612345678"])

    job.refresh_from_db()
    assert counts["import_source_file"] == 1
    assert not job.source_file


def test_unreadable_upload_of_other_people_kept(upload_root, tmp_path):
    job = _pending_job(tmp_path)
    _unreadable(job, b"\x00zoe.petit@example.com;" + b"1234567890" * 50 + b"\x00")

    counts = personal_data.erase(
        contact_ids=[], emails=["jean.dupont@example.com"], phones=["+33612345678"]
    )

    job.refresh_from_db()
    assert counts["import_source_file"] == 0
    assert job.source_file


def test_erase_deletes_file_with_full_width_address(upload_root, tmp_path):
    """GIVEN a kept upload that writes the person's address in full-width
    letters, which the importer reads as the same address, WHEN the person
    is erased, THEN that upload is deleted too."""
    path = tmp_path / "pleine-chasse.csv"
    path.write_text(
        "Prénom;Nom;E-mail\nEric;Martin;ｅｒｉｃ.ｍａｒｔｉｎ＠ａｃｍｅ－ｅｘｅｍｐｌｅ．ｆｒ\n",
        encoding="utf-8",
    )
    with path.open("rb") as upload:
        job = import_job_create(
            upload=upload,
            file_name=path.name,
            vendor_name="V",
            list_name="L",
            acquired_on=RECENT_ACQUISITION,
            processing_activity=prospecting_activity(),
        )

    counts = personal_data_erase(
        contact_ids=[], emails=["eric.martin@acme-exemple.fr"], phones=[]
    )

    job.refresh_from_db()
    assert counts["import_source_file"] == 1
    assert not job.source_file
