import csv
import io
import json
import zipfile

import pytest
from django.core.management import call_command

from apps.core.models import AuditEvent
from apps.core.models import Organisation
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
        "answer.html",
        "answer.pdf",
        "consents.csv",
        "contacts.csv",
        "data.json",
        "sources.csv",
    ]
    assert archive.read("answer.pdf").startswith(b"%PDF")


def test_package_json_has_every_item(access_request, dpo, person, organisation):
    archive = _open(request_build_package(request=access_request, actor=dpo))
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


def test_package_html_names_vendor_and_rights(access_request, dpo, organisation):
    archive = _open(request_build_package(request=access_request, actor=dpo))
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
    assert names == ["consents.csv", "contacts.csv", "data.json", "sources.csv"]
    assert AuditEvent.objects.filter(
        action="subject_requests.portability_package.built"
    ).exists()


def test_package_needs_verified_identity(make_request, person):
    request = make_request()

    with pytest.raises(RequestError, match="not verified"):
        request_build_package(request=request, actor=None)


def test_package_audit_has_ids_only(access_request, dpo, person):
    request_build_package(request=access_request, actor=dpo)

    event = AuditEvent.objects.get(action="subject_requests.access_package.built")
    assert event.details == {"contact_ids": [person.pk]}
    assert event.count == 1


def test_access_package_command(access_request, tmp_path, capsys):
    output = tmp_path / "answer.zip"

    call_command(
        "access_package", "--request", str(access_request.pk), "--output", str(output)
    )

    summary = json.loads(capsys.readouterr().out)
    assert summary["bytes"] == output.stat().st_size
    assert "answer.pdf" in _open(output.read_bytes()).namelist()


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

    archive = _open(request_build_package(request=access_request, actor=dpo))

    categories = json.loads(archive.read("data.json"))["contacts"][0]["categories"]
    assert "Identity (first and last name)" in categories
    assert "Contact details (e-mail, phone)" in categories
