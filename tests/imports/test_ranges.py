"""Staging and merging a file in ranges gives the outcomes of a whole-file merge.

With chunks of one to three rows, the file below puts each rule across a
chunk boundary. It holds duplicates of a row in an earlier chunk and a key
first seen on a suppressed row. It also holds a row that matches a contact
created by an earlier chunk of the same file, and two rows merged into one
existing contact.
"""

import datetime
import threading

import pytest
from django.db import OperationalError

from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.contacts.suppression import suppression_add
from apps.core.archives import MAX_CELL_CHARACTERS
from apps.imports import merge
from apps.imports import pipeline
from apps.imports.models import ImportJob
from tests.imports.conftest import import_file

pytestmark = [pytest.mark.postgres]

RANGES = (
    "Prénom;Nom;Courriel;Téléphone\n"
    "Jean;Dupont;jean.dupont@example.com;06 12 34 56 78\n"  # 2
    "Paul;Noir;;07 98 76 54 32\n"  # 3: merged by phone and name
    "Jean;Dupont;JEAN.DUPONT@example.com;\n"  # 4: duplicate of 2
    "Claire;Petit;contact@acme.example.com;01 23 45 67 89\n"  # 5: listed
    "Claire;Petit;;01 23 45 67 89\n"  # 6: same key as 5, created
    "Jean;Dupont;;06 12 34 56 78\n"  # 7: would match 2's contact
    "Paul;Noir;paul.noir@example.com;\n"  # 8: merged again by e-mail
    "Opposé;Martin;oppose.martin@example.com;\n"  # 9: contact objected
    "Marc;Roux;marc.roux@example;\n"  # 10: rejected
    "Claire;Petit;;01.23.45.67.89\n"  # 11: duplicate of 6
)
EXPECTED = [
    (2, "created", ""),
    (3, "merged", ""),
    (4, "duplicate", "same e-mail address as row 2"),
    (5, "suppressed", "the e-mail address is on the suppression list"),
    (6, "created", ""),
    (7, "created", ""),
    (8, "merged", ""),
    (9, "suppressed", "the matching contact objected or unsubscribed"),
    (10, "rejected", "Courriel: not a valid e-mail address"),
    (11, "duplicate", "same phone or company address and name as row 6"),
]


def _existing_contacts() -> tuple[Contact, Contact]:
    collected = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    paul = Contact.objects.create(
        first_name="Paul",
        last_name="Noir",
        email="paul.noir@example.com",
        phone="+33798765432",
        collected_at=collected,
    )
    objected = Contact.objects.create(
        email="oppose.martin@example.com",
        status=Contact.Status.OBJECTED,
        collected_at=collected,
    )
    suppression_add(reason="objected", emails=["contact@acme.example.com"])
    return paul, objected


def _outcomes(job: ImportJob) -> list[tuple[int, str, str]]:
    results = job.row_results.order_by("row_number")
    return [
        (row_number, outcome, reason.split(" (")[0])
        for row_number, outcome, reason in results.values_list(
            "row_number", "outcome", "reason"
        )
    ]


def _import_in_chunks(path, monkeypatch, rows: int) -> ImportJob:
    monkeypatch.setattr(pipeline, "COPY_CHUNK_ROWS", rows)
    return import_file(path)


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 2, 3, 20_000])
def test_chunk_size_keeps_outcomes(rows, upload_root, write_file, monkeypatch):
    paul, _objected = _existing_contacts()

    job = _import_in_chunks(write_file("ranges.csv", RANGES), monkeypatch, rows)

    assert _outcomes(job) == EXPECTED
    assert job.row_results.get(row_number=3).contact_id == paul.pk
    assert job.row_results.get(row_number=8).contact_id == paul.pk
    assert Provenance.objects.get(contact=paul).row_number == 3
    assert Contact.objects.filter(phone="+33612345678").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 20_000])
def test_chunk_size_keeps_reimport_notes(rows, upload_root, write_file, monkeypatch):
    path = write_file("ranges.csv", RANGES)
    _existing_contacts()
    import_file(path)

    again = _import_in_chunks(path, monkeypatch, rows)

    already = "already imported into this list"
    assert again.counts["created"] == 0
    assert again.row_results.get(row_number=3).reason == already
    assert again.row_results.get(row_number=8).reason == already
    assert again.row_results.get(row_number=2).reason == already


@pytest.mark.django_db
def test_only_first_merged_row_fills(upload_root, write_file, monkeypatch):
    """Blanks of a merged contact are filled from its first row in the file."""
    paul = Contact.objects.create(
        first_name="Paul",
        last_name="Noir",
        email="paul.noir@example.com",
        phone="+33798765432",
        collected_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
    )
    content = "Prénom;Nom;Courriel;Téléphone;Ville\n"
    content += "Paul;Noir;paul.noir@example.com;;\n"
    content += "Paul;Noir;;07 98 76 54 32;Lyon\n"

    job = _import_in_chunks(write_file("fill.csv", content), monkeypatch, 1)

    paul.refresh_from_db()
    assert [outcome for _row, outcome, _reason in _outcomes(job)] == [
        "merged",
        "merged",
    ]
    assert paul.city == ""


@pytest.mark.django_db(transaction=True)
def test_threaded_staging_gives_same_outcomes(
    upload_root, write_file, monkeypatch, caplog
):
    """GIVEN a job run outside a transaction, as a Celery worker runs it
    WHEN the file is read by the staging thread in chunks of two rows
    THEN outcomes match the whole-file merge and progress reaches 100."""
    paul, _objected = _existing_contacts()
    started = []
    original_start = threading.Thread.start

    def recording_start(thread):
        started.append(thread.name)
        original_start(thread)

    monkeypatch.setattr(threading.Thread, "start", recording_start)

    job = _import_in_chunks(write_file("ranges.csv", RANGES), monkeypatch, 2)

    assert job.status == ImportJob.Status.DONE, job.error
    assert _outcomes(job) == EXPECTED
    assert job.progress == 100
    assert f"import-{job.pk}-staging" in started
    assert "progress not saved" not in caplog.text
    assert Provenance.objects.get(contact=paul).row_number == 3


@pytest.mark.django_db(transaction=True)
def test_threaded_staging_error_fails_job(upload_root, write_file, monkeypatch):
    # The quote that is never closed comes after the 1 MB sample that layout
    # detection reads, so only the staging thread meets it.
    content = "Prénom;Nom;Courriel\n" + "".join(
        f"Personne{index};Nom;personne{index}@example.com\n" for index in range(30_000)
    )
    unclosed = 'Z;N;"' + "x" * (MAX_CELL_CHARACTERS + 10) + "\n"
    path = write_file("broken.csv", (content + unclosed).encode())

    job = _import_in_chunks(path, monkeypatch, 5_000)

    assert job.status == ImportJob.Status.FAILED
    assert "Row 30002 has a cell of more than" in job.error
    assert Contact.objects.count() == 0
    assert job.row_results.count() == 0


@pytest.mark.django_db(transaction=True)
def test_failed_merge_stops_staging_thread(upload_root, write_file, monkeypatch):
    def failing_merge(self, first_row, last_row):
        raise OperationalError("database is down")

    monkeypatch.setattr(merge.RangeMerge, "merge", failing_merge)
    content = "Prénom;Nom;Courriel\n" + "".join(
        f"P{index};N;p{index}@example.com\n" for index in range(50)
    )

    job = _import_in_chunks(write_file("many.csv", content), monkeypatch, 2)

    assert job.status == ImportJob.Status.FAILED
    assert "OperationalError" in job.error
    assert Contact.objects.count() == 0
    assert not [
        thread for thread in threading.enumerate() if thread.name.endswith("-staging")
    ]
