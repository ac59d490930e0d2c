"""Import rules: suppression, deduplication, merging, provenance, re-imports."""

import datetime

import pytest
from django.db import OperationalError
from django.db import connection
from django.utils import timezone

from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.suppression import suppression_add
from apps.core.models import AuditEvent
from apps.imports import merge
from apps.imports import pipeline
from apps.imports import runner
from apps.imports import services
from apps.imports.models import ImportJob
from apps.imports.models import StagingRow
from apps.imports.services import ImportInputError
from apps.imports.services import import_job_cancel
from apps.imports.services import import_job_resume
from apps.imports.services import import_job_run
from apps.imports.services import import_job_start
from apps.register.models import ProcessingActivity
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MIXED = (
    "Prénom;Nom;Courriel;Téléphone;Société\n"
    "Jean;Dupont;jean.dupont@example.com;06 12 34 56 78;Acme\n"
    "Opposé;Martin;oppose.martin@example.com;;Acme\n"
    "Jean;Dupont;JEAN.DUPONT@example.com;;Acme\n"
    "Claire;Petit;contact@acme.example.com;;Acme\n"
    "Marc;Roux;contact@acme.example.com;;Acme\n"
    "Sans;Adresse;;0123;Acme\n"
    "Lucie;Blanc;lucie.blanc@example;;Acme\n"
    "Paul;Noir;;07 98 76 54 32;Acme\n"
    "\n"
)


def _existing_contact(**fields):
    defaults = {"collected_at": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)}
    return Contact.objects.create(**(defaults | fields))


def test_mixed_file_counts_add_up(upload_root, write_file):
    suppression_add(reason="objected", emails=["oppose.martin@example.com"])

    job = import_file(write_file("mixed.csv", MIXED))

    assert job.row_count == 8
    assert job.counts == {
        "created": 4,
        "merged": 0,
        "duplicate": 1,
        "suppressed": 1,
        "rejected": 2,
    }
    assert sum(job.counts.values()) == job.row_count
    assert job.row_results.count() == 8


def test_suppressed_address_is_never_created(upload_root, write_file):
    suppression_add(reason="unsubscribed", emails=["oppose.martin@example.com"])

    job = import_file(write_file("mixed.csv", MIXED))

    result = job.row_results.get(row_number=3)
    assert result.outcome == "suppressed"
    assert result.contact_id is None
    assert not Contact.objects.filter(email="oppose.martin@example.com").exists()


def test_full_width_address_of_erased_person_is_suppressed(upload_root, write_file):
    """GIVEN an erased person's address on the suppression list, WHEN a vendor
    file writes it in full-width letters, THEN the row is suppressed."""
    suppression_add(reason="erased", emails=["eric.efface@exemple.fr"])
    content = "Prénom;Nom;E-mail\nEric;Efface;ｅｒｉｃ.ｅｆｆａｃｅ@exemple.fr\n"

    job = import_file(write_file("pleine-chasse.csv", content))

    assert job.counts["suppressed"] == 1
    assert not Contact.objects.exists()


def test_suppressed_phone_is_skipped(upload_root, write_file):
    suppression_add(reason="objected", phones=["+33798765432"])

    job = import_file(write_file("mixed.csv", MIXED))

    assert job.row_results.get(row_number=9).outcome == "suppressed"
    assert not Contact.objects.filter(phone="+33798765432").exists()


def test_generic_address_keeps_people_apart(upload_root, write_file):
    import_file(write_file("mixed.csv", MIXED))

    shared = Contact.objects.filter(email="contact@acme.example.com")
    assert sorted(shared.values_list("first_name", flat=True)) == ["Claire", "Marc"]


def test_rejection_reason_names_column(upload_root, write_file):
    job = import_file(write_file("mixed.csv", MIXED))

    invalid_email = job.row_results.get(row_number=8)
    no_identifier = job.row_results.get(row_number=7)
    assert invalid_email.outcome == "rejected"
    assert invalid_email.reason.startswith("Courriel:")
    assert "lucie" not in invalid_email.reason
    assert no_identifier.reason.startswith("Téléphone:")


def test_duplicate_reason_points_to_first_row(upload_root, write_file):
    job = import_file(write_file("mixed.csv", MIXED))

    assert job.row_results.get(row_number=4).reason == ("same e-mail address as row 2")


def test_existing_contact_is_merged_not_twinned(upload_root, write_file):
    existing = _existing_contact(email="jean.dupont@example.com", company="")

    job = import_file(write_file("mixed.csv", MIXED))

    existing.refresh_from_db()
    assert job.counts["merged"] == 1
    assert Contact.objects.filter(email="jean.dupont@example.com").count() == 1
    assert existing.company == "Acme"
    assert existing.phone == "+33612345678"
    assert existing.provenances.get().row_number == 2


def test_phone_and_name_match_merges(upload_root, write_file):
    existing = _existing_contact(
        phone="+33798765432", first_name="paul", last_name="NOIR"
    )

    job = import_file(write_file("mixed.csv", MIXED))

    assert job.row_results.get(row_number=9).contact_id == existing.pk
    assert job.row_results.get(row_number=9).outcome == "merged"


def test_phone_match_with_other_name_creates(upload_root, write_file):
    _existing_contact(phone="+33798765432", first_name="Standard", last_name="Acme")

    job = import_file(write_file("mixed.csv", MIXED))

    assert job.row_results.get(row_number=9).outcome == "created"


ACCENTED_NAMES = (
    "Prénom;Nom;Téléphone\n"
    "Gaëlle;Crémieux;06 31 42 77 18\n"
    "Gaelle;Cremieux;06 31 42 77 18\n"
    "GAËLLE;CRÉMIEUX;06.31.42.77.18\n"
)


def test_phone_rows_fold_accents(upload_root, write_file):
    """GIVEN three rows with one phone, the name with, without and in capital
    accents, THEN one contact is created and the two others are duplicates."""
    job = import_file(write_file("accents.csv", ACCENTED_NAMES))

    assert (job.counts["created"], job.counts["duplicate"]) == (1, 2)
    assert Contact.objects.count() == 1


def test_phone_match_ignores_accents_of_existing_name(upload_root, write_file):
    existing = _existing_contact(
        phone="+33631427718", first_name="Gaëlle", last_name="Crémieux"
    )

    job = import_file(write_file("accents.csv", ACCENTED_NAMES))

    assert job.counts["merged"] == 1
    assert job.row_results.get(row_number=2).contact_id == existing.pk
    assert Contact.objects.count() == 1


# A restricted person's return under another address: with the same names,
# then with the first and last names swapped as some vendors write them.
RESTRICTED_RETURNS = [
    "Inès;Laurent;ines@nouveau.example.com;06 10 00 00 04\n",
    "LAURENT;Ines;ines@nouveau.example.com;06 10 00 00 04\n",
]


@pytest.mark.parametrize("set_based", [True, False])
@pytest.mark.parametrize("row", RESTRICTED_RETURNS)
def test_restricted_person_returning_is_held(
    row, set_based, upload_root, write_file, monkeypatch
):
    """GIVEN a restricted contact (Art. 18),
    WHEN a list brings its phone and name with another e-mail address,
    THEN the row is suppressed as restricted instead of creating a contact."""
    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)
    restricted = _existing_contact(
        email="ines.laurent@example.com",
        phone="+33610000004",
        first_name="Inès",
        last_name="Laurent",
        status=Contact.Status.RESTRICTED,
    )
    content = "Prénom;Nom;Email;Téléphone\n" + row

    job = import_file(write_file("retour.csv", content))

    result = job.row_results.get()
    assert result.outcome == "suppressed"
    assert "restricted" in result.reason
    assert list(Contact.objects.values_list("pk", flat=True)) == [restricted.pk]


@pytest.mark.parametrize("set_based", [True, False])
def test_generic_address_row_merges_by_phone_and_name(
    set_based, upload_root, write_file, monkeypatch
):
    """GIVEN a contact with a personal address, WHEN a list brings the same
    name and phone with the company's generic address, THEN the row merges."""
    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)
    existing = _existing_contact(
        email="jean.dupont@kappa-exemple.fr",
        phone="+33610000007",
        first_name="Jean",
        last_name="Dupont",
    )
    content = (
        "Prénom;Nom;Email;Téléphone\n"
        "Jean;Dupont;contact@kappa-exemple.fr;06 10 00 00 07\n"
    )

    job = import_file(write_file("generique.csv", content))

    assert job.counts["merged"] == 1
    assert list(Contact.objects.values_list("pk", flat=True)) == [existing.pk]


def test_swapped_names_of_active_contact_stay_apart(upload_root, write_file):
    """Two active people behind one switchboard whose names mirror each other
    stay two contacts: only a restricted contact matches swapped names."""
    _existing_contact(
        email="",
        phone="+33610000005",
        first_name="Martin",
        last_name="Thomas",
    )

    job = import_file(
        write_file(
            "standard.csv", "Prénom;Nom;Téléphone\nThomas;Martin;06 10 00 00 05\n"
        )
    )

    assert job.counts["created"] == 1


@pytest.mark.parametrize(
    "address", ["odile.refus+promo@example.com", "ODILE.REFUS+b2b@Example.com"]
)
def test_objector_under_a_sub_address_is_suppressed(address, upload_root, write_file):
    """GIVEN an address on the suppression list,
    WHEN a list brings it with a "+tag" sub-address,
    THEN the row is suppressed: the mail would reach the same person."""
    suppression_add(reason="objected", emails=["odile.refus@example.com"])

    job = import_file(write_file("tag.csv", f"Email;Nom\n{address};Refus\n"))

    assert job.row_results.get().outcome == "suppressed"
    assert not Contact.objects.exists()


def test_sub_address_of_someone_not_listed_is_created(upload_root, write_file):
    suppression_add(reason="objected", emails=["autre@example.com"])

    job = import_file(write_file("tag.csv", "Email;Nom\nanne+x@example.com;A\n"))

    assert job.counts["created"] == 1


def test_objected_contact_is_suppressed(upload_root, write_file):
    _existing_contact(email="jean.dupont@example.com", status=Contact.Status.OBJECTED)

    job = import_file(write_file("mixed.csv", MIXED))

    assert job.row_results.get(row_number=2).outcome == "suppressed"
    assert not Provenance.objects.filter(contact__email="jean.dupont@example.com")


@pytest.mark.parametrize("set_based", [True, False])
def test_restricted_contact_takes_no_new_list(
    set_based, upload_root, write_file, monkeypatch
):
    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)
    _existing_contact(email="jean.dupont@example.com", status=Contact.Status.RESTRICTED)

    job = import_file(write_file("mixed.csv", MIXED))

    result = job.row_results.get(row_number=2)
    assert result.outcome == "suppressed"
    assert "restricted" in result.reason
    assert not Provenance.objects.filter(contact__email="jean.dupont@example.com")


def test_reimport_creates_nothing_new(upload_root, write_file):
    path = write_file("mixed.csv", MIXED)
    first = import_file(path)
    contacts = Contact.objects.count()
    provenances = Provenance.objects.count()

    second = import_file(path)

    assert second.counts["created"] == 0
    assert second.counts["merged"] == first.counts["created"]
    assert Contact.objects.count() == contacts
    assert Provenance.objects.count() == provenances
    assert ContactList.objects.get().row_count == first.row_count + second.row_count


def test_provenance_records_list_and_row(upload_root, write_file):
    job = import_file(write_file("mixed.csv", MIXED), list_name="Salon 2025")

    provenance = Provenance.objects.get(contact__email="jean.dupont@example.com")
    assert provenance.contact_list.name == "Salon 2025"
    assert provenance.row_number == 2
    assert provenance.import_job_id == job.pk


def test_contacts_get_batch_terms(upload_root, write_file):
    import_file(
        write_file("mixed.csv", MIXED),
        lawful_basis="consent",
        consent_claim="opt_in",
        audience="b2b",
    )

    contact = Contact.objects.get(email="jean.dupont@example.com")
    assert contact.lawful_basis == "consent"
    assert contact.audience == "b2b"
    assert contact.email_hash


def test_rental_without_licence_end_is_rejected(upload_root, write_file):
    with pytest.raises(ImportInputError, match="licence"):
        import_file(write_file("mixed.csv", MIXED), acquisition="rental")


def test_b2c_without_opt_in_is_rejected(upload_root, write_file):
    with pytest.raises(ImportInputError, match="opt-in"):
        import_file(write_file("mixed.csv", MIXED), audience="b2c")


def test_completed_import_is_audited_without_personal_data(upload_root, write_file):
    job = import_file(write_file("mixed.csv", MIXED))

    event = AuditEvent.objects.get(action="imports.job.completed")
    assert event.target_id == str(job.pk)
    assert event.count == 8
    assert "example.com" not in str(event.details)


def test_failed_merge_leaves_nothing_and_resumes(upload_root, write_file, monkeypatch):
    """GIVEN a merge that loses the database halfway
    WHEN the job is resumed
    THEN it ends with every row counted once and no twin contact."""
    original = merge.RangeMerge.finish

    def failing_finish(self):
        original(self)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(merge.RangeMerge, "finish", failing_finish)
    failed = import_file(write_file("mixed.csv", MIXED))
    assert failed.status == ImportJob.Status.FAILED
    assert Contact.objects.count() == 0
    assert failed.row_results.count() == 0

    monkeypatch.setattr(merge.RangeMerge, "finish", original)
    import_job_resume(job=failed, enqueue=False)
    done = import_job_run(job_id=failed.pk)

    assert done.status == ImportJob.Status.DONE
    assert done.counts["created"] == 5
    assert Contact.objects.count() == 5
    assert StagingRow.objects.filter(job=done).count() == 0


def test_failed_job_rolls_back(upload_root, write_file, monkeypatch):
    def failing_merge(self, first_row, last_row):
        raise OperationalError("database is down")

    monkeypatch.setattr(merge.RangeMerge, "merge", failing_merge)
    failed = import_file(write_file("mixed.csv", MIXED))

    cancelled = import_job_cancel(job=failed)

    assert cancelled.status == ImportJob.Status.CANCELLED
    assert not cancelled.source_file
    assert StagingRow.objects.filter(job=failed).count() == 0
    assert Contact.objects.count() == 0


def test_running_job_is_not_run_twice(upload_root, write_file):
    job = import_file(write_file("mixed.csv", MIXED))

    again = import_job_run(job_id=job.pk)

    assert again.status == ImportJob.Status.DONE
    assert Contact.objects.count() == 5


def test_simple_path_matches_postgres_path(upload_root, write_file, monkeypatch):
    """The row-by-row path (used on SQLite) gives the same outcomes."""
    suppression_add(reason="objected", emails=["oppose.martin@example.com"])
    _existing_contact(phone="+33798765432", first_name="Paul", last_name="Noir")
    path = write_file("mixed.csv", MIXED)
    sql_job = import_file(path, list_name="SQL")
    sql_outcomes = list(sql_job.row_results.values_list("row_number", "outcome"))
    Contact.objects.exclude(phone="+33798765432").delete()

    monkeypatch.setattr(pipeline, "set_based", lambda: False)
    simple_job = import_file(path, list_name="Simple")

    assert list(simple_job.row_results.values_list("row_number", "outcome")) == (
        sql_outcomes
    )
    assert simple_job.counts == sql_job.counts


def test_merge_reports_progress(upload_root, write_file, monkeypatch):
    reports = []
    monkeypatch.setattr(pipeline, "COPY_CHUNK_ROWS", 3)
    monkeypatch.setattr(
        runner, "progress_write", lambda job_id, progress: reports.append(progress)
    )

    job = import_file(write_file("mixed.csv", MIXED))

    assert job.progress == 100
    assert len(reports) == 3
    assert reports == sorted(reports)
    assert reports[0] > 49
    assert reports[-1] == 99


def test_bulk_staging_path_stores_rows(upload_root, write_file):
    """The bulk_create staging used on SQLite stores rows like COPY does."""
    job = import_file(write_file("mixed.csv", MIXED))
    row = (2, "", "", "e:x@example.com", "x@example.com", "", "hash", "", "")
    row += ("Jean", "Dupont", "", "", "", "", "", "", "", None, "")

    written = pipeline._bulk_chunk(job.pk, iter([row]))

    staged = StagingRow.objects.get(job=job)
    assert written == (1, 2, 2)
    assert (staged.row_number, staged.email) == (2, "x@example.com")
    assert staged.first_name == "Jean"


def test_future_collection_date_falls_back(upload_root, write_file):
    """GIVEN rows collected after the list's acquisition date or in the future
    WHEN the file is imported
    THEN those dates are left out with a reason naming the column, and the
    contacts keep the acquisition date as their collection date."""
    content = (
        "Courriel;Date de collecte\n"
        "futur@example.com;2030-01-01\n"
        "apres.achat@example.com;15/03/2025\n"
        "avant.achat@example.com;01/02/2025\n"
    )

    job = import_file(
        write_file("dates.csv", content), acquired_on=datetime.date(2025, 3, 1)
    )

    assert job.counts["created"] == 3
    acquired_on = datetime.date(2025, 3, 1)
    future = Contact.objects.get(email="futur@example.com")
    assert timezone.localtime(future.collected_at).date() == acquired_on
    late = Contact.objects.get(email="apres.achat@example.com")
    assert timezone.localtime(late.collected_at).date() == acquired_on
    kept = Contact.objects.get(email="avant.achat@example.com")
    assert kept.collected_at.date() == datetime.date(2025, 2, 1)
    reason = job.row_results.get(row_number=2).reason
    assert "Date de collecte" in reason
    assert "01/01/2030" in reason
    assert job.row_results.get(row_number=4).reason == ""


@pytest.mark.parametrize(
    "status", [ProcessingActivity.Status.DRAFT, ProcessingActivity.Status.RETIRED]
)
def test_activity_not_in_force_is_rejected(status, upload_root, write_file):
    activity = ProcessingActivity.objects.create(
        reference="TRT-905", name="Registre des violations", status=status
    )

    with pytest.raises(ImportInputError, match="TRT-905"):
        import_file(write_file("liste.csv", MIXED), processing_activity=activity)

    assert not ImportJob.objects.exists()


def test_activity_retired_before_start_is_rejected(upload_root, write_file):
    activity = ProcessingActivity.objects.create(
        reference="TRT-906",
        name="Prospection",
        status=ProcessingActivity.Status.IN_FORCE,
        lawful_basis="legitimate_interests",
        concerns_recipients_profession=True,
    )
    job = import_file_created(
        write_file("liste.csv", MIXED), processing_activity=activity
    )
    activity.status = ProcessingActivity.Status.RETIRED
    activity.save()

    with pytest.raises(ImportInputError, match="TRT-906"):
        import_job_start(job=job, enqueue=False, professional_use_confirmed=True)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING


def _contacts_row_estimate() -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'contacts_contact'::regclass"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("threshold, analysed", [(1, True), (1000, False)])
def test_large_import_refreshes_statistics(
    upload_root, write_file, monkeypatch, threshold, analysed
):
    monkeypatch.setattr(services, "ANALYZE_AFTER_CREATED", threshold)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
    before = _contacts_row_estimate()

    job = import_file(write_file("mixed.csv", MIXED))

    assert job.created_count == 5
    assert (_contacts_row_estimate() != before) is analysed


SUPPRESSED_BUT_INVALID = (
    "Email;Nom;Téléphone;Date de collecte\n"
    "efface.seul@example.org;Ancien;;2020-01-01\n"
    "Efface.Seul@Example.org;Decale;;2026-01-10;en trop\n"
    "pas-une-adresse;Invalide;06 98 76 54 32;\n"
    "autre@example.org;Ordinaire;;\n"
).encode()


@pytest.mark.parametrize("set_based", [True, False])
def test_suppressed_row_wins_over_rejection(
    set_based, upload_root, write_file, monkeypatch
):
    from apps.imports.selectors import job_rejected_export

    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)
    suppression_add(
        reason="erased", emails=["efface.seul@example.org"], phones=["+33698765432"]
    )

    job = import_file(write_file("efface.csv", SUPPRESSED_BUT_INVALID))

    assert job.counts["suppressed"] == 3
    assert job.counts["rejected"] == 0
    assert job.counts["created"] == 1
    _headers, rows = job_rejected_export(job)
    assert list(rows) == []


def test_preview_hides_suppressed_rejected_rows(upload_root, write_file):
    from apps.imports.selectors import job_preview

    suppression_add(
        reason="erased", emails=["efface.seul@example.org"], phones=["+33698765432"]
    )
    job = import_file_created(write_file("efface.csv", SUPPRESSED_BUT_INVALID))

    preview = job_preview(job)

    assert [row.suppressed for row in preview] == [True, True, True, False]


@pytest.mark.parametrize("set_based", [True, False])
def test_suppressed_phone_beside_mobile_is_suppressed(
    set_based, upload_root, write_file, monkeypatch
):
    """GIVEN an erased person's landline on the suppression list, WHEN a row
    gives it in the phone column beside a new mobile, THEN the row is
    suppressed, although the mobile is the number the import keeps."""
    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)
    suppression_add(reason="erased", phones=["+33180307435"])
    content = (
        "Prénom;Nom;E-mail;Téléphone;Portable\n"
        "Inès;Dupont;ines.autre@example.com;01 80 30 74 35;06 11 22 33 45\n"
        "Luc;Morel;luc.morel@example.com;01 80 30 74 36;06 11 22 33 46\n"
    )

    job = import_file(write_file("fixe-et-portable.csv", content))

    result = job.row_results.get(row_number=2)
    assert job.counts["suppressed"] == 1
    assert job.counts["created"] == 1
    assert result.outcome == "suppressed"
    assert result.reason == (
        "another e-mail address or phone number of the row is on the suppression list"
    )
    assert not Contact.objects.filter(email="ines.autre@example.com").exists()


@pytest.mark.parametrize("set_based", [True, False])
def test_suppressed_address_in_unmapped_email_column(
    set_based, upload_root, write_file, monkeypatch
):
    """GIVEN a person who objected, WHEN a file gives their address only in a
    second e-mail column that the mapping leaves out, THEN the row is
    suppressed and no contact is created or merged."""
    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)
    suppression_add(reason="objected", emails=["paul.durand@example.com"])
    content = (
        "Prénom;Nom;E-mail;E-mail 2\n"
        "Paul;Durand;paul.durand.pro@acme.example;Paul.Durand@example.com\n"
        "Luc;Morel;luc.morel@example.com;\n"
    )
    path = write_file("deux-adresses.csv", content)
    job = import_file_created(path)
    assert job.mapping == {"0": "first_name", "1": "last_name", "2": "email"}

    job = import_file(path)

    assert job.counts["suppressed"] == 1
    assert job.counts["created"] == 1
    assert not Contact.objects.filter(last_name="Durand").exists()


@pytest.mark.parametrize(
    ("header", "cell"),
    [
        ("Tél. fixe", "06 99 88 77 66 / 01 80 30 74 35"),
        ("Tél. fixe", '"06 99 88 77 66\n01 80 30 74 35"'),
        ("Tél. fixe", "06 99 88 77 66 ou 01 80 30 74 35"),
        ("E-mail 2", "paul.durand+promo@example.com"),
        ("E-mail 2", "\u2066paul.durand@example.com\u2069"),
        ("E-mail 2", '"q1@example.org; paul . durand @ example.com"'),
    ],
)
def test_listed_identifier_in_other_forms_suppressed(
    upload_root, write_file, header, cell
):
    """A listed phone among several numbers of a cell, a listed address with
    a sub-address, between direction isolates, or spaced beside another one,
    in a column that the mapping leaves out, suppresses the row."""
    suppression_add(
        reason="erased", emails=["paul.durand@example.com"], phones=["+33180307435"]
    )
    content = (
        f"Prénom;Nom;E-mail;Portable;{header}\n"
        f"Paul;Durand;paul.nouveau@acme.example;06 11 22 33 45;{cell}\n"
        "Luc;Morel;luc.morel@example.com;06 11 22 33 46;\n"
    )

    job = import_file(write_file("formes.csv", content))

    assert job.counts["suppressed"] == 1
    assert job.counts["created"] == 1
    assert not Contact.objects.filter(last_name="Durand").exists()


@pytest.mark.parametrize(
    "header", ["E-mail référent", "Mail assistante", "Email commercial"]
)
def test_someone_elses_listed_address_not_suppressing(upload_root, write_file, header):
    """GIVEN a listed case worker's address, WHEN a file gives it in an
    unmapped column that names someone else, THEN the people of the file are
    imported: the address is not theirs."""
    suppression_add(reason="objected", emails=["referent@agence.example"])
    content = (
        f"Prénom;Nom;E-mail;{header}\n"
        "Anne;Dupuis;anne.dupuis@example.com;referent@agence.example\n"
        "Luc;Morel;luc.morel@example.com;referent@agence.example\n"
    )
    mapping = {"0": "first_name", "1": "last_name", "2": "email", "3": ""}

    job = import_file(write_file("referent.csv", content), mapping=mapping)

    assert job.counts["created"] == 2
    assert job.counts["suppressed"] == 0


def test_listed_phone_among_numbers_of_mapped_cell(upload_root, write_file):
    suppression_add(reason="erased", phones=["+33180307435"])
    content = (
        "Prénom;Nom;E-mail;Téléphone\n"
        "Paul;Durand;paul.nouveau@acme.example;06 99 88 77 66 / 01 80 30 74 35\n"
    )

    job = import_file(write_file("deux-numeros.csv", content))

    assert job.counts["suppressed"] == 1
    assert not Contact.objects.exists()


def test_repeated_header_adding_email_column_checked(upload_root, write_file):
    """GIVEN a second export whose header adds "E-mail 2" and "Ville", WHEN a
    row below it gives a listed address in "E-mail 2", THEN the row is
    suppressed and the header's reason names both added columns."""
    suppression_add(reason="erased", emails=["paul.durand@example.com"])
    content = (
        "Email;Prénom;Nom\n"
        "anne.dupuis@example.com;Anne;Dupuis\n"
        "Email;Prénom;E-mail 2;Nom;Ville\n"
        "paul.nouveau@acme.example;Paul;paul.durand@example.com;Durand;Lyon\n"
        "luc.morel@example.com;Luc;;Morel;Lyon\n"
    )

    job = import_file(write_file("entete-plus.csv", content))

    assert job.counts == {
        "created": 2,
        "merged": 0,
        "duplicate": 0,
        "suppressed": 1,
        "rejected": 1,
    }
    assert job.row_results.get(row_number=3).reason == (
        "this row repeats the header row with more columns; the rows below are "
        "read in its order, without its columns “E-mail 2”, “Ville”"
    )


@pytest.mark.parametrize(
    "cell",
    [
        "paul.durand@example.com\u200b",
        "paul . durand @ example.com",
        "nouvelle@acme.example / paul.durand@example.com",
    ],
)
def test_suppressed_address_written_oddly(upload_root, write_file, cell):
    """An objector's address with an invisible character, with spaces, or
    after another address is suppressed, not rejected with its cells."""
    from apps.imports.selectors import job_rejected_export

    suppression_add(reason="objected", emails=["paul.durand@example.com"])
    content = f"Email;Nom\n{cell};Durand\nautre.personne@example.com;Autre\n"

    job = import_file(write_file("liste.csv", content.encode()))

    assert job.counts["suppressed"] == 1
    assert job.counts["rejected"] == 0
    _headers, rows = job_rejected_export(job)
    assert list(rows) == []


@pytest.mark.parametrize(
    "cell",
    [
        "mailto:marie.nouvelle@example.com",
        "MAILTO:Marie.Nouvelle@example.com?subject=Bonjour",
        "marie.nouvelle@example.com.",
        "marie.nouvelle@example.com, autre@example.com",
    ],
)
def test_suppressed_address_in_rejected_form(upload_root, write_file, cell):
    from apps.imports.selectors import job_preview
    from apps.imports.selectors import job_rejected_export

    suppression_add(reason="objected", emails=["marie.nouvelle@example.com"])
    content = f"Email;Nom\n{cell};Nouvelle\nautre.personne@example.com;Autre\n"
    path = write_file("liste.csv", content.encode())

    preview = job_preview(import_file_created(path, list_name="Aperçu"))
    job = import_file(path)

    assert preview[0].suppressed
    assert job.counts["suppressed"] == 1
    _headers, rows = job_rejected_export(job)
    assert list(rows) == []


@pytest.mark.parametrize(
    "cells",
    [
        "pas-une-adresse;Nouvelle;marie.nouvelle@example.com",
        "autre@example.com, marie.nouvelle@example.com;Nouvelle;",
        '"autre@example.com; Marie <marie.nouvelle@example.com>";Nouvelle;',
    ],
)
def test_rejected_download_hides_suppressed_person(upload_root, write_file, cells):
    from apps.imports.selectors import MASKED_CELL
    from apps.imports.selectors import job_rejected_export

    content = (
        "Email;Nom;Adresse perso\n"
        f"{cells}\n"
        "encore-invalide;Autre;autre.personne@example.com\n"
    )
    job = import_file(write_file("liste.csv", content.encode()))
    suppression_add(reason="erased", emails=["marie.nouvelle@example.com"])

    _headers, rows = job_rejected_export(job)
    rows = list(rows)

    assert job.counts["rejected"] == 2
    assert MASKED_CELL in rows[0][2:]
    assert not any("marie" in str(cell).lower() for cell in rows[0])
    assert rows[1][2:] == ["encore-invalide", "Autre", "autre.personne@example.com"]


@pytest.mark.parametrize(
    ("cells", "phone"),
    [
        ("pas-une-adresse;Tél. 06 12 34 56 78;France", "+33612345678"),
        ("pas-une-adresse;06 11 22 33 44 / 06 12 34 56 79;France", "+33612345679"),
        ("pas-une-adresse;0470 12 34 56;Belgique", "+32470123456"),
    ],
)
def test_rejected_download_hides_suppressed_phone(
    upload_root, write_file, cells, phone
):
    from apps.imports.selectors import MASKED_CELL
    from apps.imports.selectors import job_rejected_export

    content = f"Email;Notes;Pays\n{cells}\nencore-invalide;Rien;France\n"
    job = import_file(
        write_file("liste.csv", content.encode()),
        mapping={"0": "email", "1": "", "2": "country"},
    )
    suppression_add(reason="objected", phones=[phone])

    _headers, rows = job_rejected_export(job)
    rows = list(rows)

    assert rows[0][2:] == [MASKED_CELL, MASKED_CELL, MASKED_CELL]
    assert rows[1][2:] == ["encore-invalide", "Rien", "France"]
