"""The access package covers every source the search finds, and only the person."""

import csv
import datetime
import hashlib
import io
import json
import zipfile

import openpyxl
import pytest
from django.utils import timezone

from apps.contacts.models import Contact
from apps.contacts.suppression import suppression_add
from apps.core.identifiers import identifier_hash
from apps.core.models import AuditEvent
from apps.imports.models import ImportJob
from apps.imports.models import RowResult
from apps.imports.models import StagingRow
from apps.imports.services import import_job_run
from apps.imports.services import import_job_start
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import request_build_package
from apps.subject_requests.services import request_close
from apps.subject_requests.services import request_link_contacts
from apps.subject_requests.services import request_object
from apps.subject_requests.services import request_search
from tests.imports.conftest import import_file_created
from tests.imports.conftest import sheet_corrupted
from tests.subject_requests.conftest import PERSON

pytestmark = pytest.mark.postgres

OTHER_PERSON = ("Bastien", "Autre", "bastien.autre@example.com", "+33698765432")
COLLEAGUE_EMAIL = "hugo.collegue@example.org"

VENDOR_FILE = (
    "Prénom;Nom;Email;Téléphone;Société\n"
    "Maëlle;Quintard-Exemple;maelle.quintard@example.com;06 12 34 56 78;"
    "Quincaillerie Exemple\n"
    "Bastien;Autre;bastien.autre@example.com;06 98 76 54 32;Autre Exemple\n"
    f"Hugo;Collègue;{COLLEAGUE_EMAIL};06 12 34 56 78;Quincaillerie Exemple\n"
)


@pytest.fixture
def upload_root(settings, tmp_path):
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "uploads"
    return settings.IMPORT_UPLOAD_ROOT


@pytest.fixture
def vendor_upload(upload_root, tmp_path, activity):
    """A pending import of a vendor file with the person, a bystander and a
    colleague who shares the person's phone."""
    path = tmp_path / "salon.csv"
    path.write_text(VENDOR_FILE, encoding="utf-8")
    return import_file_created(
        path,
        list_name="Salon 2026",
        vendor_name="Fichiers Exemple SARL",
        processing_activity=activity,
    )


def _upload(tmp_path, activity, *, list_name: str, text: str):
    """Upload ``text`` as a pending CSV import of ``list_name`` from the vendor."""
    path = tmp_path / f"{list_name}.csv"
    path.write_text(text, encoding="utf-8")
    return import_file_created(
        path,
        list_name=list_name,
        vendor_name="Fichiers Exemple SARL",
        processing_activity=activity,
    )


def _content(request, dpo, **options) -> tuple[dict, zipfile.ZipFile]:
    data = request_build_package(request=request, actor=dpo, language="en", **options)
    archive = zipfile.ZipFile(io.BytesIO(data))
    return json.loads(archive.read("data.json")), archive


def _whole_package(archive: zipfile.ZipFile) -> str:
    return " ".join(
        archive.read(name).decode("utf-8", errors="ignore")
        for name in archive.namelist()
        if not name.endswith(".pdf")
    )


def _csv(archive, name) -> list[dict]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_package_lists_earlier_requests(make_request, dpo, person):
    """GIVEN an earlier objection by the person, closed, and another person's
    request
    WHEN the person's access package is built
    THEN it lists the objection with its dates, status, what the person gave
    and the notes on it, and nothing of the other request."""
    earlier = make_request(
        kind="objection",
        received_at=timezone.now() - datetime.timedelta(days=20),
        requester_address="12 rue des Exemples\n75011 Paris",
        notes="Rappelée le lendemain ; identité confirmée par courrier.",
    )
    request_object(request=earlier, actor=dpo)
    request_close(request=earlier, actor=dpo)
    make_request(
        requester_name="Bastien Autre",
        requester_email=OTHER_PERSON[2],
        requester_phone="",
    )
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    assert [item["reference"] for item in content["earlier_requests"]] == [
        earlier.reference
    ]
    item = content["earlier_requests"][0]
    assert item["kind"] == "objection"
    assert item["status"] == "closed"
    assert item["received_on"] == earlier.received_on.isoformat()
    assert item["closed_at"]
    assert item["requester_address"] == "12 rue des Exemples\n75011 Paris"
    assert item["notes"] == earlier.notes
    [line] = _csv(archive, "requests.csv")
    assert line["requester_email"] == PERSON["email"]
    assert line["requester_address"] == "12 rue des Exemples\n75011 Paris"
    assert line["notes"] == earlier.notes
    assert "Bastien" not in _whole_package(archive)
    assert request.reference not in json.dumps(content["earlier_requests"])


def test_package_skips_request_sharing_only_phone(make_request, dpo, person):
    make_request(
        requester_name="Hugo Collègue",
        requester_email=COLLEAGUE_EMAIL,
        requester_phone=PERSON["phone"],
    )
    phone_only = make_request(requester_email="", requester_phone=PERSON["phone"])
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    references = [item["reference"] for item in content["earlier_requests"]]
    assert references == [phone_only.reference]
    assert COLLEAGUE_EMAIL not in _whole_package(archive)


def test_package_skips_colleague_request_on_generic_address(make_request, dpo, person):
    shared = "contact@quincaillerie-exemple.fr"
    make_request(
        requester_name="Hugo Collègue",
        requester_email=shared,
        requester_address="3 avenue du Collègue, 69001 Lyon",
    )
    own = make_request(requester_email=shared, requester_phone="")
    request = make_request(requester_email=shared, verified_by=dpo)

    content, archive = _content(request, dpo)

    references = [item["reference"] for item in content["earlier_requests"]]
    assert references == [own.reference]
    assert "Collègue" not in _whole_package(archive)


def test_package_hides_reason_of_listed_phone(make_request, dpo):
    """A colleague's objection put the shared switchboard on the list: the
    person's package lists the number without the reason or the date."""
    suppression_add(reason="objected", phones=["+33145000000"])
    request = make_request(requester_phone="01 45 00 00 00", verified_by=dpo)

    content, _archive = _content(request, dpo)

    entry = next(
        item for item in content["suppression_list"] if item["kind"] == "phone"
    )
    assert entry["identifier"] == "+33145000000"
    assert entry["reason"] == ""
    assert entry["listed_at"] == ""


def test_package_hides_reason_of_shared_address(make_request, dpo):
    """A colleague's erasure put the shared contact@ address on the list: the
    person's package lists the address without the reason or the date."""
    shared = "contact@quincaillerie-exemple.fr"
    suppression_add(reason="erased", emails=[shared])
    request = make_request(requester_email=shared, requester_phone="", verified_by=dpo)

    content, archive = _content(request, dpo)

    entry = content["suppression_list"][0]
    assert entry["identifier"] == shared
    assert entry["reason"] == ""
    assert entry["listed_at"] == ""
    assert "erased" not in _csv(archive, "suppression.csv")[0].values()


def test_package_lists_suppression_entries(make_request, dpo, person):
    suppression_add(reason="objected", emails=[PERSON["email"]])
    suppression_add(reason="unsubscribed", emails=[OTHER_PERSON[2]])
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    assert len(content["suppression_list"]) == 1
    entry = content["suppression_list"][0]
    assert entry["identifier"] == PERSON["email"]
    assert entry["kind"] == "email"
    assert entry["reason"] == "objected"
    assert entry["listed_at"]
    whole = _whole_package(archive)
    assert identifier_hash(PERSON["email"]) not in whole
    assert OTHER_PERSON[2] not in whole
    assert _csv(archive, "suppression.csv")[0]["reason"] == "objected"


def test_package_lists_vendor_file_row(make_request, dpo, person, vendor_upload):
    """GIVEN an uploaded vendor file that contains the person on row 2
    WHEN the package is built
    THEN it names the list, vendor, date and row, with that row's values, and
    contains no value of the other rows."""
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    rows = [row for row in content["import_rows"] if row["row_number"] == 2]
    assert len(rows) == 1
    row = rows[0]
    assert row["import_id"] == vendor_upload.pk
    assert row["list"] == "Salon 2026"
    assert row["vendor"] == "Fichiers Exemple SARL"
    assert row["acquired_on"] == vendor_upload.acquired_on.isoformat()
    assert row["file_kept"] is True
    assert row["values"]["Email"] == PERSON["email"]
    assert row["values"]["Société"] == "Quincaillerie Exemple"
    whole = _whole_package(archive)
    assert OTHER_PERSON[2] not in whole
    assert "Autre Exemple" not in whole
    imports = _csv(archive, "imports.csv")
    assert json.loads(imports[0]["values"])["Nom"] == PERSON["last_name"]


def test_package_withholds_row_of_shared_phone(
    make_request, dpo, person, vendor_upload
):
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    shared = [row for row in content["import_rows"] if row["row_number"] == 4]
    assert len(shared) == 1
    assert shared[0]["values_withheld"] is True
    assert shared[0]["values"] == {}
    html = archive.read("answer.html").decode()
    assert "next to another person&#x27;s e-mail address" in html
    assert COLLEAGUE_EMAIL not in _whole_package(archive)
    assert "Hugo" not in _whole_package(archive)


def test_package_withholds_row_naming_person_as_referent(
    make_request, dpo, person, upload_root, tmp_path, activity
):
    """GIVEN a vendor file whose row for Bastien names the person as referent
    WHEN the person's access package is built
    THEN the row is listed without Bastien's values.
    """
    _upload(
        tmp_path,
        activity,
        list_name="Usagers",
        text=(
            "Prénom;Nom;Email;Téléphone;Email référent\n"
            f"Bastien;Autre;{OTHER_PERSON[2]};06 98 76 54 32;{PERSON['email']}\n"
        ),
    )
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    rows = [row for row in content["import_rows"] if row["list"] == "Usagers"]
    assert len(rows) == 1
    assert rows[0]["values_withheld"] is True
    assert rows[0]["values"] == {}
    whole = _whole_package(archive)
    assert OTHER_PERSON[2] not in whole
    assert "Bastien" not in whole


def test_package_leaves_out_colleague_on_switchboard(make_request, dpo, person):
    """GIVEN a colleague without an e-mail who shares the person's phone
    WHEN the person's access package is built
    THEN it lists the person's contact only.
    """
    Contact.objects.create(
        first_name="Chantal",
        last_name="Standard",
        phone=PERSON["phone"],
        collected_at=timezone.now(),
    )
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    assert [contact["id"] for contact in content["contacts"]] == [person.pk]
    assert "Chantal" not in _whole_package(archive)


def test_package_withholds_colleague_row_on_switchboard(
    make_request, dpo, person, upload_root, tmp_path, activity
):
    _upload(
        tmp_path,
        activity,
        list_name="Standard",
        text=(
            "Prénom;Nom;Email;Téléphone\n"
            "Chantal;Standard;;06 12 34 56 78\n"
            f"{PERSON['first_name']};{PERSON['last_name']};;06 12 34 56 78\n"
        ),
    )
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    rows = {
        row["row_number"]: row
        for row in content["import_rows"]
        if row["list"] == "Standard"
    }
    assert rows[2]["values_withheld"] is True
    assert rows[3]["values_withheld"] is False
    assert rows[3]["values"]["Nom"] == PERSON["last_name"]
    assert "Chantal" not in _whole_package(archive)


def test_package_withholds_referent_row_without_other_email(
    make_request, dpo, person, upload_root, tmp_path, activity
):
    """GIVEN a row for Jean with his own phone, no e-mail of his own, the person
    as referent, and a single full-name column
    WHEN the person's access package is built
    THEN the row is listed without Jean's values.
    """
    _upload(
        tmp_path,
        activity,
        list_name="Référents",
        text=(
            "Nom complet;Téléphone;Email référent\n"
            f"Jean Tiersen;01 99 88 77 66;{PERSON['email']}\n"
        ),
    )
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    rows = [row for row in content["import_rows"] if row["list"] == "Référents"]
    assert len(rows) == 1
    assert rows[0]["values_withheld"] is True
    assert "Tiersen" not in _whole_package(archive)


def test_package_leaves_out_colleague_request_by_phone(make_request, dpo, person):
    colleague_request = make_request(
        kind="erasure", requester_name="Lucie Seule", requester_email=""
    )
    own_request = make_request(kind="objection", requester_email="")
    request = make_request(verified_by=dpo)

    content, _archive = _content(request, dpo)

    references = [item["reference"] for item in content["earlier_requests"]]
    assert own_request.reference in references
    assert colleague_request.reference not in references


def test_package_finds_upload_the_search_found(
    make_request, dpo, person, vendor_upload
):
    request = make_request(verified_by=dpo)
    found = request_search(request=request, actor=dpo)
    uploads = [m for m in found["matches"] if m["kind"] == "import_source_file"]

    content, _archive = _content(request, dpo)

    assert [m["record_id"] for m in uploads] == [vendor_upload.pk]
    assert vendor_upload.pk in {row["import_id"] for row in content["import_rows"]}


def test_package_lists_staged_row_without_file(make_request, dpo, person, activity):
    job = ImportJob.objects.create(
        file_name="salon.csv",
        vendor_name="Fichiers Exemple SARL",
        list_name="Salon 2026",
        acquired_on=datetime.date(2026, 3, 1),
        processing_activity=activity,
    )
    StagingRow.objects.create(
        job=job,
        row_number=7,
        email=PERSON["email"],
        first_name=PERSON["first_name"],
        company="Quincaillerie Exemple",
    )
    StagingRow.objects.create(
        job=job, row_number=8, email=OTHER_PERSON[2], first_name=OTHER_PERSON[0]
    )
    request = make_request(verified_by=dpo)

    content, archive = _content(request, dpo)

    assert [row["row_number"] for row in content["import_rows"]] == [7]
    row = content["import_rows"][0]
    assert row["file_kept"] is False
    assert row["values"]["First name"] == PERSON["first_name"]
    assert row["values"]["Company"] == "Quincaillerie Exemple"
    assert OTHER_PERSON[2] not in _whole_package(archive)


def test_package_lists_row_result_of_deleted_file(make_request, dpo, person, activity):
    job = ImportJob.objects.create(
        file_name="salon.csv",
        vendor_name="Fichiers Exemple SARL",
        list_name="Salon 2026",
        acquired_on=datetime.date(2026, 3, 1),
        processing_activity=activity,
        file_deleted_at=timezone.now(),
    )
    RowResult.objects.create(
        job=job, row_number=5, outcome="merged", contact_id=person.pk
    )
    RowResult.objects.create(job=job, row_number=6, outcome="created", contact_id=None)
    request = make_request(verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    content, archive = _content(request, dpo)

    assert len(content["import_rows"]) == 1
    row = content["import_rows"][0]
    assert row["row_number"] == 5
    assert row["outcome"] == "merged"
    assert row["values"] == {}
    html = archive.read("answer.html").decode()
    assert "merged into an existing contact" in html
    assert "The file was deleted, so only the row&#x27;s number is kept." in html


def test_package_html_names_each_source(make_request, dpo, person, vendor_upload):
    suppression_add(reason="objected", emails=[PERSON["email"]])
    earlier = make_request(kind="objection", notes="Called back on Monday.")
    request = make_request(verified_by=dpo)

    _content_json, archive = _content(request, dpo)
    html = archive.read("answer.html").decode()

    assert "<h2>Your earlier requests</h2>" in html
    assert f"<td>{earlier.reference}</td>" in html
    assert "Notes: Called back on Monday." in html
    assert "<h2>Suppression list</h2>" in html
    assert "<td>objected</td>" in html
    assert "<h2>Vendor files and import rows</h2>" in html
    assert "List Salon 2026 from Fichiers Exemple SARL" in html
    assert (
        "Apart from this request, with the identity details you gave us, we hold "
        "no personal data about you." not in html
    )


def test_package_pdf_names_each_source(make_request, dpo, person, vendor_upload):
    from apps.subject_requests import package

    suppression_add(reason="objected", emails=[PERSON["email"]])
    make_request(kind="objection", requester_address="12 rue des Exemples")
    request = make_request(verified_by=dpo)

    content = package.package_content(request=request, contacts=request.contacts.all())
    story = package._pdf_story(
        package._readable(content), package.getSampleStyleSheet()
    )
    text = " ".join(getattr(flowable, "text", "") for flowable in story)

    assert "Your earlier requests" in text
    assert "objection (Art. 21)" in text
    assert "Requester's postal address: 12 rue des Exemples" in text
    assert f"{PERSON['email']} (e-mail): objected" in text
    assert "List Salon 2026 from Fichiers Exemple SARL" in text
    assert "row 2" in text
    assert COLLEAGUE_EMAIL not in text


def test_package_states_empty_sources(make_request, dpo):
    request = make_request(
        verified_by=dpo, requester_email="personne@example.org", requester_phone=""
    )

    content, archive = _content(request, dpo)
    html = archive.read("answer.html").decode()

    assert content["earlier_requests"] == []
    assert content["suppression_list"] == []
    assert content["import_rows"] == []
    assert (
        "Apart from this request, with the identity details you gave us, we hold "
        "no personal data about you." in html
    )
    assert "No other request from you is recorded." in html
    assert "None of your e-mail addresses or phone numbers is on it." in html


def test_package_audit_counts_each_source(make_request, dpo, person, vendor_upload):
    suppression_add(reason="objected", emails=[PERSON["email"]])
    earlier = make_request(kind="objection")
    request = make_request(verified_by=dpo)

    _content(request, dpo)

    event = AuditEvent.objects.get(action="subject_requests.access_package.built")
    assert event.details["request_references"] == [earlier.reference]
    assert event.details["suppression_entries"] == 1
    assert event.details["import_rows"] == 2
    assert PERSON["email"] not in json.dumps(event.details)
    timeline = request.events.get(action="access_package_built")
    assert timeline.details["import_rows"] == 2


def test_portability_keeps_other_sources(make_request, dpo, person, vendor_upload):
    request = make_request(kind=SubjectRequest.Kind.PORTABILITY, verified_by=dpo)

    content, archive = _content(request, dpo, portability=True)

    assert content["import_rows"]
    assert "imports.csv" in archive.namelist()
    assert "answer.html" not in archive.namelist()


def test_package_gives_outcome_of_suppressed_row(
    make_request, dpo, upload_root, vendor_upload
):
    """GIVEN a person on the suppression list whose row a later import skipped
    WHEN their access package is built
    THEN the row shows that it was suppressed, though no contact refers to it."""
    suppression_add(reason="objected", emails=[PERSON["email"]])
    import_job_start(job=vendor_upload, enqueue=False)
    import_job_run(job_id=vendor_upload.pk)
    request = make_request(verified_by=dpo)

    content, _archive = _content(request, dpo)

    rows = [row for row in content["import_rows"] if row["row_number"] == 2]
    assert [row["outcome"] for row in rows] == ["suppressed"]


def _workbook_damaged_late(rows: list[list]) -> bytes:
    """Return an XLSX of ``rows`` whose sheet data is damaged near its end."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return sheet_corrupted(buffer.getvalue(), at=0.8)


def test_package_lists_rows_before_damage(
    make_request, dpo, person, upload_root, tmp_path, activity
):
    rows = [["Prénom", "Nom", "Email"]]
    rows.append([PERSON["first_name"], PERSON["last_name"], PERSON["email"]])
    rows += [["Léa", f"Nom {n}", f"lea{n}@example.com"] for n in range(3000)]
    path = tmp_path / "salon.xlsx"
    path.write_bytes(_workbook_damaged_late(rows))
    job = import_file_created(
        path, list_name="Salon 2026", processing_activity=activity
    )
    request = make_request(verified_by=dpo)

    content, _archive = _content(request, dpo)

    listed = [row for row in content["import_rows"] if row["import_id"] == job.pk]
    assert [row["row_number"] for row in listed] == [2]
    assert listed[0]["values"]["Email"] == PERSON["email"]


def test_package_hash_recorded_for_proof(make_request, dpo, person):
    request = make_request(verified_by=dpo)

    data = request_build_package(request=request, actor=dpo)

    digest = hashlib.sha256(data).hexdigest()
    event = AuditEvent.objects.get(action="subject_requests.access_package.built")
    assert event.details["sha256"] == digest
    assert request.events.get(action="access_package_built").details["sha256"] == (
        digest
    )


def test_package_skips_colleague_requests_for_surname_only(make_request, dpo, person):
    """A request signed with a surname alone from a shared mailbox does not
    receive the colleagues' requests that share that surname."""
    shared = "contact@dupont-exemple.fr"
    make_request(
        requester_name="M. Marc DUPONT",
        requester_email=shared,
        requester_address="12 rue du Port",
    )
    make_request(requester_name="Paul Dupont", requester_email=shared)
    request = make_request(
        requester_name="Dupont", requester_email=shared, verified_by=dpo
    )

    content, archive = _content(request, dpo)

    assert content["earlier_requests"] == []
    assert "12 rue du Port" not in _whole_package(archive)
