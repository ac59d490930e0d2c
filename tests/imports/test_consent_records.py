"""A batch held on consent records each imported person's e-mail consent."""

import datetime

import pytest
from django.utils import timezone

from apps.contacts.erasure import contacts_erase
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.services import contact_contactability
from apps.contacts.services import contacts_contactable
from apps.contacts.suppression import suppression_add
from apps.imports import pipeline
from tests.imports.conftest import RECENT_ACQUISITION
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_checked

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CONSENT_TERMS = {
    "audience": "b2c",
    "lawful_basis": "consent",
    "consent_claim": "opt_in",
}
# Row 2 is created, 3 is suppressed, 4 duplicates row 2, 5 is rejected,
# 6 merges into an existing contact and 7 matches a contact who objected.
FILE = (
    "Prénom;Nom;Courriel;Date de collecte\n"
    "Jean;Dupont;jean.dupont@example.com;\n"
    "Opposé;Martin;oppose.martin@example.com;\n"
    "Jean;Dupont;JEAN.DUPONT@example.com;\n"
    "Lucie;Blanc;lucie.blanc@example;\n"
    "Zoé;Petit;zoe.petit@example.com;{collected}\n"
    "Marc;Roux;marc.roux@example.com;\n"
)
COLLECTED = RECENT_ACQUISITION - datetime.timedelta(days=10)


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _existing(email: str, **fields) -> Contact:
    return Contact.objects.create(
        email=email, collected_at=_noon(RECENT_ACQUISITION), **fields
    )


@pytest.fixture
def mixed_file(write_file):
    """Write FILE with its contacts and suppression entry; return its path."""
    suppression_add(reason="objected", emails=["oppose.martin@example.com"])
    _existing("zoe.petit@example.com")
    _existing("marc.roux@example.com", status=Contact.Status.OBJECTED)
    return write_file("consent.csv", FILE.format(collected=f"{COLLECTED:%d/%m/%Y}"))


def _records() -> dict[str, list[ConsentRecord]]:
    records: dict[str, list[ConsentRecord]] = {}
    for record in ConsentRecord.objects.select_related("contact").order_by("pk"):
        records.setdefault(record.contact.email, []).append(record)
    return records


@pytest.mark.parametrize("set_based", [True, False])
def test_created_and_merged_contacts_get_consent(
    set_based, mixed_file, upload_root, monkeypatch
):
    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)

    job = import_file(mixed_file, list_name="Jeu concours", **CONSENT_TERMS)

    records = _records()
    assert job.counts == {
        "created": 1,
        "merged": 1,
        "duplicate": 1,
        "suppressed": 2,
        "rejected": 1,
    }
    assert sorted(records) == ["jean.dupont@example.com", "zoe.petit@example.com"]
    created = records["jean.dupont@example.com"]
    assert len(created) == 1
    assert created[0].channel == ConsentRecord.Channel.EMAIL
    assert created[0].state == ConsentRecord.State.GRANTED
    assert created[0].recorded_at == _noon(RECENT_ACQUISITION)
    assert created[0].evidence == (
        "Opt-in consent stated by the vendor “Fichiers Exemple SARL” for the list "
        f"“Jeu concours”, import job #{job.pk}, row 2."
    )
    merged = records["zoe.petit@example.com"]
    assert len(merged) == 1
    assert merged[0].recorded_at == _noon(COLLECTED)
    assert merged[0].evidence.endswith(f"import job #{job.pk}, row 6.")


def test_imported_consumer_is_contactable(upload_root, write_file):
    path = write_file("consent.csv", "Courriel\njean.dupont@example.com\n")

    import_file(path, **CONSENT_TERMS)

    contact = Contact.objects.get()
    verdict = contact_contactability(contact)
    assert verdict.contactable, verdict.reasons
    assert list(contacts_contactable(Contact.objects.all())) == [contact]


def test_legitimate_interests_records_no_consent(mixed_file, upload_root):
    job = import_file(mixed_file)

    assert job.counts["created"] == 1
    assert not ConsentRecord.objects.exists()


def test_dry_run_records_no_consent(mixed_file, upload_root):
    job = import_file_checked(mixed_file, **CONSENT_TERMS)

    assert job.dry_run_summary["counts"]["created"] == 1
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize("set_based", [True, False])
def test_contact_matched_twice_gets_one_record(
    set_based, upload_root, write_file, monkeypatch
):
    """GIVEN a contact imported from one list, and a file whose rows 2 and 5
    match it by e-mail and by phone and name, in different ranges
    WHEN the file is imported into another list
    THEN the contact gets one consent record from that job, naming row 2."""
    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)
    monkeypatch.setattr(pipeline, "COPY_CHUNK_ROWS", 2)
    content = (
        "Prénom;Nom;Courriel;Téléphone\n"
        "Jean;Dupont;jean.dupont@example.com;\n"
        "Zoé;Petit;zoe.petit@example.com;\n"
        "Marc;Roux;marc.roux@example.com;\n"
        "Jean;Dupont;;06 12 34 56 78\n"
    )
    _existing(
        "jean.dupont@example.com",
        phone="+33612345678",
        first_name="Jean",
        last_name="Dupont",
    )
    path = write_file("consent.csv", content)
    first = import_file(path, **CONSENT_TERMS)

    second = import_file(path, list_name="Autre liste", **CONSENT_TERMS)

    assert second.counts["merged"] == 4
    jean = _records()["jean.dupont@example.com"]
    evidence = [record.evidence for record in jean]
    assert len(jean) == 2
    assert evidence[0].endswith(f"import job #{first.pk}, row 2.")
    assert evidence[1].endswith(f"import job #{second.pk}, row 2.")


@pytest.mark.parametrize("set_based", [True, False])
def test_same_list_again_adds_no_record(
    set_based, upload_root, write_file, monkeypatch
):
    monkeypatch.setattr(pipeline, "set_based", lambda: set_based)
    path = write_file("consent.csv", "Courriel\njean.dupont@example.com\n")
    import_file(path, **CONSENT_TERMS)

    again = import_file(path, **CONSENT_TERMS)

    assert again.counts["merged"] == 1
    assert ConsentRecord.objects.count() == 1


def test_consent_time_never_ahead_of_import(upload_root, write_file, monkeypatch):
    ahead = timezone.now() + datetime.timedelta(hours=6)
    monkeypatch.setattr(pipeline, "job_collected_default", lambda job: ahead)
    path = write_file("consent.csv", "Courriel\njean.dupont@example.com\n")

    import_file(path, **CONSENT_TERMS)

    assert ConsentRecord.objects.get().recorded_at <= timezone.now()


def test_erasure_deletes_imported_consent(upload_root, write_file):
    path = write_file("consent.csv", "Courriel\njean.dupont@example.com\n")
    import_file(path, **CONSENT_TERMS)
    contact = Contact.objects.get()

    contacts_erase(contact_ids=[contact.pk])

    assert not ConsentRecord.objects.exists()
