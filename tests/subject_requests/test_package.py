import csv
import datetime
import hashlib
import io
import json
import stat
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django.utils import translation

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.core.models import AuditEvent
from apps.core.models import Organisation
from apps.register.models import Transfer
from apps.subject_requests.services import RequestError
from apps.subject_requests.services import request_build_package
from apps.subject_requests.services import request_link_contacts

pytestmark = pytest.mark.postgres


@pytest.fixture
def organisation(db):
    organisation = Organisation.current()
    organisation.name = "Exemplaire Industries SAS"
    organisation.address = "12 rue de l'Exemple, 69002 Lyon"
    organisation.dpo_name = "Bruno Fictif"
    organisation.dpo_email = "dpo@exemplaire.example"
    organisation.save()
    return organisation


@pytest.fixture
def access_request(make_request, dpo, person):
    request = make_request(verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    return request


def _open(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _csv_rows(archive, name) -> list[dict]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_package_files(access_request, dpo, organisation):
    archive = _open(request_build_package(request=access_request, actor=dpo))

    assert sorted(archive.namelist()) == [
        "LISEZMOI.txt",
        "answer.html",
        "answer.pdf",
        "consents.csv",
        "contacts.csv",
        "data.json",
        "imports.csv",
        "requests.csv",
        "sources.csv",
        "suppression.csv",
    ]
    assert archive.read("answer.pdf").startswith(b"%PDF")


def test_guide_explains_every_column(access_request, dpo, organisation):
    archive = _open(request_build_package(request=access_request, actor=dpo))
    guide = archive.read("LISEZMOI.txt").decode()
    sections = {
        block.split(" :", 1)[0]: block for block in guide.split("\n\n") if block
    }

    for name in archive.namelist():
        if name.endswith(".csv"):
            header = archive.read(name).decode("utf-8-sig").splitlines()[0]
            for column in header.split(","):
                assert f"\n  {column} : " in sections[name], (name, column)
    assert "Guide des fichiers de ce paquet" in guide
    assert "\n  objected : Opposé" in guide


def test_package_guide_in_english(access_request, dpo, organisation):
    archive = _open(
        request_build_package(request=access_request, actor=dpo, language="en")
    )

    assert "README.txt" in archive.namelist()


def test_package_json_has_every_item(access_request, dpo, person, organisation):
    archive = _open(
        request_build_package(request=access_request, actor=dpo, language="en")
    )
    content = json.loads(archive.read("data.json"))

    item = content["contacts"][0]
    assert item["data"]["email"] == person.email
    assert item["data"]["last_name"] == person.last_name
    assert item["processing"]["purposes"].startswith("Offering our services")
    assert item["processing"]["lawful_basis"] == "legitimate_interests"
    assert item["processing"]["legitimate_interest"].startswith("Developing")
    assert item["processing"]["recipients"] == [
        "Sales team",
        "E-mail routing provider (outside the EU)",
    ]
    assert item["processing"]["retention"] == [
        "Prospect contacts: 3 years from collection or last contact from the "
        "person, whichever is later, then delete"
    ]
    assert item["categories"] == ["Professional contact details"]
    assert {source["vendor"] for source in item["sources"]} == {"Fichiers Exemple SARL"}
    assert {source["list"] for source in item["sources"]} == {
        "Salon 2026",
        "Acheteurs Rhône",
    }
    assert len(item["consents"]) == 2
    assert content["controller"]["name"] == "Exemplaire Industries SAS"
    assert content["controller"]["dpo_email"] == "dpo@exemplaire.example"
    assert content["complaint"]["website"] == "https://www.cnil.fr/fr/plaintes"
    assert any("Art. 21" in right for right in content["rights"])
    assert any("CNIL" in right for right in content["rights"])


def test_package_finds_contacts_by_requester_email(make_request, dpo, person):
    request = make_request(verified_by=dpo)

    archive = _open(request_build_package(request=request, actor=dpo, language="en"))
    content = json.loads(archive.read("data.json"))

    assert [item["id"] for item in content["contacts"]] == [person.pk]


def test_package_html_names_vendor_and_rights(access_request, dpo, organisation):
    archive = _open(
        request_build_package(request=access_request, actor=dpo, language="en")
    )
    html = archive.read("answer.html").decode()

    assert "Fichiers Exemple SARL" in html
    assert "Salon 2026" in html
    assert "Offering our services" in html
    assert "3 years from collection" in html
    assert "Sales team" in html
    assert "Professional contact details" in html
    assert "CNIL" in html
    assert "maelle.quintard@example.com" in html
    assert "<th>job title</th>" in html


def test_package_csv_rows(access_request, dpo, person):
    archive = _open(request_build_package(request=access_request, actor=dpo))

    contacts = list(
        csv.DictReader(io.StringIO(archive.read("contacts.csv").decode("utf-8-sig")))
    )
    sources = list(
        csv.DictReader(io.StringIO(archive.read("sources.csv").decode("utf-8-sig")))
    )
    assert contacts[0]["email"] == person.email
    assert [row["vendor"] for row in sources] == ["Fichiers Exemple SARL"] * 2


def test_portability_has_json_and_csv_only(access_request, dpo):
    data = request_build_package(request=access_request, actor=dpo, portability=True)

    names = sorted(_open(data).namelist())
    assert names == [
        "LISEZMOI.txt",
        "consents.csv",
        "contacts.csv",
        "data.json",
        "imports.csv",
        "requests.csv",
        "sources.csv",
        "suppression.csv",
    ]
    assert AuditEvent.objects.filter(
        action="subject_requests.portability_package.built"
    ).exists()


def test_package_needs_verified_identity(make_request, person):
    request = make_request()

    with pytest.raises(RequestError, match="not verified"):
        request_build_package(request=request, actor=None)


def test_package_audit_has_ids_only(access_request, dpo, person):
    data = request_build_package(request=access_request, actor=dpo)

    event = AuditEvent.objects.get(action="subject_requests.access_package.built")
    assert event.details == {
        "contact_ids": [person.pk],
        "request_references": [],
        "suppression_entries": 0,
        "import_rows": 0,
        "sha256": hashlib.sha256(data).hexdigest(),
        "language": "fr",
    }
    assert event.count == 1


def test_access_package_command(access_request, tmp_path, capsys):
    output = tmp_path / "answer.zip"

    call_command(
        "access_package", "--request", str(access_request.pk), "--output", str(output)
    )

    summary = json.loads(capsys.readouterr().out)
    assert summary["bytes"] == output.stat().st_size
    assert "answer.pdf" in _open(output.read_bytes()).namelist()
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_access_package_command_missing_folder(access_request, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "access_package",
            "--request",
            str(access_request.pk),
            "--output",
            str(tmp_path / "missing" / "answer.zip"),
        )


def test_categories_from_fields_without_register(access_request, dpo, activity):
    activity.data_categories.all().delete()

    archive = _open(
        request_build_package(request=access_request, actor=dpo, language="en")
    )

    categories = json.loads(archive.read("data.json"))["contacts"][0]["categories"]
    assert "Identity (first and last name)" in categories
    assert "Contact details (e-mail, phone)" in categories


@pytest.mark.parametrize("form", ["reference", "lower", "id"])
def test_access_package_command_reference(access_request, tmp_path, capsys, form):
    value = {
        "reference": access_request.reference,
        "lower": access_request.reference.lower(),
        "id": str(access_request.pk),
    }[form]
    output = tmp_path / "answer.zip"

    call_command("access_package", "--request", value, "--output", str(output))

    summary = json.loads(capsys.readouterr().out)
    assert summary["reference"] == access_request.reference
    assert output.exists()


def test_access_package_command_unknown_reference(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="DSR-99999 was not found"):
        call_command(
            "access_package",
            "--request",
            "DSR-99999",
            "--output",
            str(tmp_path / "answer.zip"),
        )


@pytest.fixture
def dated_person(person, activity):
    """The person with fixed dates, an audience, a status and a transfer."""
    Contact.objects.filter(pk=person.pk).update(
        audience="b2b",
        status=Contact.Status.UNSUBSCRIBED,
        collected_at=datetime.datetime(2024, 3, 15, 11, 0, tzinfo=datetime.UTC),
    )
    ConsentRecord.objects.filter(contact=person).update(
        state=ConsentRecord.State.WITHDRAWN,
        recorded_at=datetime.datetime(2026, 12, 4, 16, 4, tzinfo=datetime.UTC),
    )
    Transfer.objects.create(
        activity=activity,
        recipient="Routage Exemple Inc.",
        country="United States",
        safeguard=Transfer.Safeguard.SCC,
    )
    return person


def _html(request, dpo, **options) -> str:
    data = request_build_package(request=request, actor=dpo, **options)
    return _open(data).read("answer.html").decode()


def test_package_html_french_by_default(access_request, dpo, dated_person):
    html = _html(access_request, dpo)

    assert "<th>prénom</th>" in html
    assert "<th>first_name</th>" not in html
    assert "B2B (professionnels)" in html
    assert "désinscrit" in html
    assert "15 mars 2024 12:00" in html
    assert "2024-03-15T" not in html
    assert "e-mail : retiré (4 décembre 2026 17:04)" in html
    assert "withdrawn" not in html


def test_package_html_in_english(access_request, dpo, dated_person):
    html = _html(access_request, dpo, language="en")

    assert "<th>first name</th>" in html
    assert "B2B (professionals)" in html
    assert "unsubscribed" in html
    assert "15 March 2024" in html
    assert "e-mail: withdrawn" in html


def test_package_lists_transfers(access_request, dpo, dated_person):
    data = request_build_package(request=access_request, actor=dpo, language="en")
    archive = _open(data)
    html = archive.read("answer.html").decode()
    content = json.loads(archive.read("data.json"))

    transfers = content["contacts"][0]["processing"]["transfers"]
    assert transfers[0]["country"] == "United States"
    assert transfers[0]["recipient"] == "Routage Exemple Inc."
    assert transfers[0]["safeguard"] == "scc"
    assert "<td>United States</td>" in html
    assert "<td>Routage Exemple Inc.</td>" in html
    assert "Standard contractual clauses (Art. 46)" in html


def test_package_transfers_in_french(access_request, dpo, dated_person):
    html = _html(access_request, dpo)

    assert "Clauses contractuelles types (art. 46)" in html


def test_package_without_transfer(access_request, dpo, person):
    html = _html(access_request, dpo, language="en")

    assert "No transfer outside the EU is recorded in the register." in html


def test_package_states_automated_decisions(access_request, dpo, person):
    archive = _open(
        request_build_package(request=access_request, actor=dpo, language="en")
    )
    html = archive.read("answer.html").decode()
    content = json.loads(archive.read("data.json"))

    statement = content["contacts"][0]["processing"]["automated_decisions"]
    assert "No decision based solely on automated processing" in statement
    assert "Offering our services to purchasing managers." in statement
    assert "profiling" in html


def test_package_json_keeps_iso_dates(access_request, dpo, dated_person):
    archive = _open(request_build_package(request=access_request, actor=dpo))
    content = json.loads(archive.read("data.json"))
    contacts = _csv_rows(archive, "contacts.csv")

    item = content["contacts"][0]
    assert item["data"]["collected_at"] == "2024-03-15T11:00:00+00:00"
    assert item["data"]["audience"] == "b2b"
    assert item["consents"][0]["state"] == "withdrawn"
    assert contacts[0]["collected_at"] == "2024-03-15T11:00:00+00:00"


def test_package_pdf_in_french(access_request, dpo, dated_person):
    from apps.subject_requests import package

    with translation.override("fr"):
        content = package.package_content(
            request=access_request, contacts=access_request.contacts.all()
        )
        story = package._pdf_story(
            package._readable(content), package.getSampleStyleSheet()
        )
    text = " ".join(getattr(flowable, "text", "") for flowable in story)

    assert "prénom" in text
    assert "15 mars 2024" in text
    assert "United States" in text
    assert "Clauses contractuelles types" in text
    assert "first_name" not in text


def _pdf_text(request) -> str:
    from apps.subject_requests import package

    content = package.package_content(request=request, contacts=request.contacts.all())
    styles = package.getSampleStyleSheet()
    story = package._pdf_story(package._readable(content), styles)
    return " ".join(getattr(flowable, "text", "") for flowable in story)


def test_package_pdf_names_dpo_and_collection(
    access_request, organisation, vendor_lists
):
    organisation.dpo_phone = "+33 4 00 00 00 02"
    organisation.save()
    _, first, _ = vendor_lists
    first.acquisition = ContactList.Acquisition.RENTAL
    first.licence_ends_on = datetime.date(2027, 3, 1)
    first.save()

    with translation.override("en"):
        text = _pdf_text(access_request)

    assert "+33 4 00 00 00 02" in text
    assert "How the vendor collected your data: Trade-fair badges" in text
    assert "list Salon 2026 rented from Fichiers Exemple SARL" in text
    assert "list Acheteurs Rhône bought from Fichiers Exemple SARL" in text


def test_package_rejects_unknown_language(access_request, dpo):
    with pytest.raises(RequestError, match="Package language de is not available"):
        request_build_package(request=access_request, actor=dpo, language="de")


def test_access_package_command_language(access_request, tmp_path, dated_person):
    output = tmp_path / "answer.zip"

    call_command(
        "access_package",
        "--request",
        access_request.reference,
        "--output",
        str(output),
        "--language",
        "en",
    )

    html = _open(output.read_bytes()).read("answer.html").decode()
    assert "<th>first name</th>" in html


def test_access_package_command_bad_language(access_request, tmp_path):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "access_package",
            "--request",
            access_request.reference,
            "--output",
            str(tmp_path / "answer.zip"),
            "--language",
            "de",
        )


@pytest.mark.parametrize(("language", "label"), [("", "prénom"), ("en", "first name")])
def test_package_download_language(client_for, dpo, access_request, language, label):
    url = reverse("subject_requests:request-access-package", args=[access_request.pk])

    response = client_for(dpo).post(url, {"language": language})

    html = _open(response.content).read("answer.html").decode()
    assert response.status_code == 200
    assert f"<th>{label}</th>" in html


def test_package_html_french_colons(access_request, dpo, organisation):
    data = request_build_package(request=access_request, actor=dpo, language="fr")

    html = _open(data).read("answer.html").decode()

    assert "Délégué à la protection des données : Bruno Fictif" in html
    assert "données: " not in html


def test_package_names_campaign_files(access_request, dpo, person, organisation):
    from pypdf import PdfReader

    from apps.contacts.models import CampaignExport
    from apps.contacts.models import CampaignExportContact

    export = CampaignExport.objects.create(
        status=CampaignExport.Status.DONE, file_format="csv", filters={}
    )
    CampaignExportContact.objects.create(export=export, contact_id=person.pk)

    archive = _open(
        request_build_package(request=access_request, actor=dpo, language="en")
    )

    data = json.loads(archive.read("data.json"))
    html = archive.read("answer.html").decode()
    pdf = PdfReader(io.BytesIO(archive.read("answer.pdf")))
    pdf_text = " ".join(page.extract_text() for page in pdf.pages)
    (contact,) = data["contacts"]
    assert [item["id"] for item in contact["campaign_exports"]] == [export.pk]
    assert f"campaign file #{export.pk}" in html
    assert f"campaign file #{export.pk}" in pdf_text


def test_package_names_breach_communications(access_request, dpo, person, organisation):
    from pypdf import PdfReader

    from apps.breaches.services import breach_record_communication
    from tests.breaches.factories import BreachFactory

    breach = BreachFactory()
    breach_record_communication(
        breach=breach,
        communicated_at=timezone.now(),
        method="Letter",
        activity_ids=[person.processing_activity_id],
    )

    archive = _open(
        request_build_package(request=access_request, actor=dpo, language="en")
    )

    data = json.loads(archive.read("data.json"))
    html = archive.read("answer.html").decode()
    pdf = PdfReader(io.BytesIO(archive.read("answer.pdf")))
    pdf_text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    (contact,) = data["contacts"]
    assert [item["breach"] for item in contact["breach_communications"]] == [
        breach.reference
    ]
    assert f"personal data breach {breach.reference} (Letter)" in html
    assert f"personal data breach {breach.reference} (Letter)" in pdf_text


def test_package_pdf_prints_european_names(access_request, dpo, organisation):
    from pypdf import PdfReader

    organisation.name = "Łódź Wąsowicz Sp. z o.o. 🚀"
    organisation.save()

    archive = _open(
        request_build_package(request=access_request, actor=dpo, language="en")
    )

    pdf = PdfReader(io.BytesIO(archive.read("answer.pdf")))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Łódź Wąsowicz Sp. z o.o. [U+1F680]" in text
