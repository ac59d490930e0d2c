import json
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils import translation

from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.contacts.suppression import is_suppressed
from apps.contacts.suppression import suppression_add
from apps.core.identifiers import identifier_hash
from apps.core.models import AuditEvent
from apps.subject_requests.models import ErasureProof
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import RequestError
from apps.subject_requests.services import request_close
from apps.subject_requests.services import request_erase
from apps.subject_requests.services import request_link_contacts
from apps.subject_requests.services import request_search
from apps.subject_requests.services import request_set_aside_contacts
from tests.contacts.factories import ContactFactory
from tests.subject_requests.conftest import PERSON

pytestmark = pytest.mark.postgres

NEEDLES = [
    PERSON["email"],
    PERSON["phone"],
    "0612345678",
    "06 12 34 56 78",
    PERSON["last_name"],
    f"{PERSON['first_name']} {PERSON['last_name']}",
]


def _database_traces(*, allowed_request_id: int) -> list[tuple[str, str]]:
    """Scan every row of every table, as text, for the person's identifiers.

    The erasure request itself keeps the requester's identity as proof, so
    its own row is the one allowed hit.
    """
    patterns = [f"%{needle}%" for needle in NEEDLES]
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            query = f"SELECT t::text FROM {quoted} t WHERE t::text ILIKE ANY(%s)"
            params = [patterns]
            if table == SubjectRequest._meta.db_table:
                query += " AND t.id <> %s"
                params.append(allowed_request_id)
            cursor.execute(query, params)
            hits.extend((table, row) for (row,) in cursor.fetchall())
    return hits


def _detail(request) -> str:
    return reverse("subject_requests:request-detail", args=[request.pk])


def _media_traces(root: Path) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore").lower()
        if any(needle.lower() in text for needle in NEEDLES):
            hits.append(str(path.relative_to(root)))
    return hits


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def campaign_root(settings, tmp_path):
    settings.CAMPAIGN_EXPORT_ROOT = tmp_path / "private" / "campaigns"
    return settings.CAMPAIGN_EXPORT_ROOT


@pytest.fixture
def campaign_file(campaign_root, person, bystander):
    """A kept campaign export file with the person and a bystander in it."""
    export = CampaignExport.objects.create(file_path="campaigns/export-1.csv")
    path = campaign_root / export.file_path
    path.parent.mkdir(parents=True)
    path.write_text(
        "\ufeffcontact id;first name;last name;e-mail;phone\n"
        f"{person.pk};{person.first_name};{person.last_name};{person.email};"
        f"{person.phone}\n"
        f"{bystander.pk};{bystander.first_name};{bystander.last_name};"
        f"{bystander.email};\n",
        encoding="utf-8",
    )
    for contact in (person, bystander):
        CampaignExportContact.objects.create(export=export, contact_id=contact.pk)
    return path


@pytest.fixture
def erasure_request(make_request, dpo, person):
    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    return request


def test_erasure_leaves_no_trace(
    erasure_request, dpo, person, bystander, campaign_file, media_root, campaign_root
):
    """GIVEN a person from two lists with consents and a kept campaign file
    WHEN the DPO erases them
    THEN no table and no file under MEDIA_ROOT or the campaign folder contains
    their e-mail, phone or name, and only the request itself keeps the
    requester's identity."""
    assert _database_traces(allowed_request_id=erasure_request.pk)
    assert _media_traces(campaign_root)

    request_erase(request=erasure_request, actor=dpo)

    assert _database_traces(allowed_request_id=erasure_request.pk) == []
    assert _media_traces(media_root) == []
    assert _media_traces(campaign_root) == []
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert Contact.objects.filter(pk=bystander.pk).exists()
    lines = campaign_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("contact id;")
    assert lines[1:] == [
        f"{bystander.pk};{bystander.first_name};{bystander.last_name};"
        f"{bystander.email};"
    ]


def test_erasure_proof_counts_without_data(erasure_request, dpo, person):
    proof = request_erase(request=erasure_request, actor=dpo)

    assert proof.record_counts["contact"] == 1
    assert proof.record_counts["provenance"] == 2
    assert proof.record_counts["consent_record"] == 2
    assert proof.record_counts["subject_request_link"] == 1
    assert proof.suppression_kinds == ["email", "phone"]
    assert proof.erased_by == dpo
    stored = json.dumps(
        [proof.record_counts, proof.suppression_kinds, proof.erased_by_label]
    )
    assert all(needle.lower() not in stored.lower() for needle in NEEDLES)


def test_erasure_adds_suppression_hashes(erasure_request, dpo):
    request_erase(request=erasure_request, actor=dpo)

    assert is_suppressed(email=PERSON["email"])
    assert is_suppressed(phone=PERSON["phone"])
    assert not is_suppressed(email="bastien.autre@example.com")


def test_erasure_writes_audit_event(erasure_request, dpo):
    proof = request_erase(request=erasure_request, actor=dpo)

    event = AuditEvent.objects.get(action="subject_requests.person.erased")
    assert event.target_id == str(erasure_request.pk)
    assert event.details["proof_id"] == proof.pk
    assert event.count == proof.total


def test_erasure_needs_verified_identity(make_request, person):
    request = make_request(kind=SubjectRequest.Kind.ERASURE)

    with pytest.raises(RequestError, match="identity .* is not verified"):
        request_erase(request=request)
    assert Contact.objects.filter(pk=person.pk).exists()


def test_erasure_with_nothing_to_find_is_rejected(make_request, dpo, person):
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE,
        verified_by=dpo,
        requester_email="",
        requester_phone="",
        requester_address="1 rue Exemple, 69000 Lyon",
    )

    with pytest.raises(RequestError, match="names no e-mail or phone"):
        request_erase(request=request, actor=dpo)

    assert not ErasureProof.objects.exists()
    assert Contact.objects.filter(pk=person.pk).exists()


def test_erasure_needs_erasure_request(make_request, dpo, person):
    request = make_request(kind=SubjectRequest.Kind.ACCESS, verified_by=dpo)

    with pytest.raises(RequestError, match="erasure needs an erasure request"):
        request_erase(request=request, actor=dpo)
    assert ErasureProof.objects.count() == 0


def test_erase_subject_command(make_request, dpo, person, bystander, capsys):
    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)

    call_command(
        "erase_subject",
        "--email",
        "Maelle.Quintard@Example.com",
        "--phone",
        "06 12 34 56 78",
        "--request",
        str(request.pk),
    )

    summary = json.loads(capsys.readouterr().out)
    assert summary["record_counts"]["contact"] == 1
    assert summary["record_counts"]["provenance"] == 2
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert Contact.objects.filter(pk=bystander.pk).exists()
    assert ErasureProof.objects.get().erased_by_label == "manage.py erase_subject"


def test_erase_subject_command_spares_switchboard(make_request, dpo, person, capsys):
    colleague = ContactFactory(
        first_name="Chantal", last_name="Standard", email="", phone=PERSON["phone"]
    )
    nameless = ContactFactory(
        first_name="", last_name="", email="", phone=PERSON["phone"]
    )
    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)

    call_command(
        "erase_subject",
        "--phone",
        "06 12 34 56 78",
        "--request",
        str(request.pk),
    )

    summary = json.loads(capsys.readouterr().out)
    assert summary["record_counts"]["contact"] == 1
    assert Contact.objects.filter(pk=colleague.pk).exists()
    assert Contact.objects.filter(pk=nameless.pk).exists()


def test_erase_subject_unknown_request(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Subject request 999999 was not found"):
        call_command("erase_subject", "--email", PERSON["email"], "--request", "999999")


VENDOR_FILE = (
    "Prénom;Nom;Email;Téléphone;Société\n"
    "Maëlle;Quintard-Exemple;maelle.quintard@example.com;06 12 34 56 78;"
    "Quincaillerie Exemple\n"
    "Bastien;Autre;bastien.autre@example.com;;Autre Exemple\n"
)


def _import(path, list_name, capsys) -> dict:
    call_command(
        "import_contacts",
        str(path),
        "--vendor",
        "Fichiers Exemple SARL",
        "--list",
        list_name,
        "--acquired-on",
        "2026-11-02",
        "--activity",
        "PROSP-01",
    )
    return json.loads(capsys.readouterr().out)


def test_reimport_skips_erased_person(
    media_root, activity, make_request, dpo, tmp_path, capsys
):
    """GIVEN a person imported from a vendor file and then erased
    WHEN the same vendor file is imported again
    THEN the importer skips the person as suppressed and keeps the others."""
    path = tmp_path / "vendor.csv"
    path.write_text(VENDOR_FILE, encoding="utf-8")
    first = _import(path, "Salon 2026", capsys)
    assert first["counts"]["created"] == 2
    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)
    call_command(
        "erase_subject", "--email", PERSON["email"], "--request", str(request.pk)
    )
    capsys.readouterr()

    second = _import(path, "Salon 2026 again", capsys)

    assert second["counts"]["suppressed"] == 1
    assert not Contact.objects.filter(email=PERSON["email"]).exists()
    assert Contact.objects.filter(email="bastien.autre@example.com").exists()


def test_erase_subject_accepts_reference(make_request, dpo, person, capsys):
    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)

    call_command(
        "erase_subject", "--email", PERSON["email"], "--request", request.reference
    )

    summary = json.loads(capsys.readouterr().out)
    assert summary["request"] == request.pk
    assert summary["reference"] == request.reference
    assert not Contact.objects.filter(pk=person.pk).exists()


def test_erase_subject_unknown_reference(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Subject request DSR-99999 was not found"):
        call_command(
            "erase_subject", "--email", PERSON["email"], "--request", "DSR-99999"
        )


def test_erase_subject_invalid_reference(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="“REQ-7” is invalid"):
        call_command("erase_subject", "--email", PERSON["email"], "--request", "REQ-7")


def test_erase_subject_skips_linking(make_request, dpo, person, capsys):
    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)

    call_command(
        "erase_subject", "--email", PERSON["email"], "--request", request.reference
    )

    actions = list(request.events.values_list("action", flat=True))
    erased = request.events.get(action="erased")
    assert "contacts_linked" not in actions
    assert erased.details["contact_ids"] == [person.pk]
    assert erased.details["counts"]["contact"] == 1


def test_erasure_statements(erasure_request, dpo, person, settings, tmp_path):
    """Erasure sends eleven statements when no upload is kept and the person
    has no other open request.

    They are the write lock with the linked contacts, then the claim, which
    clears the stored search's matches unless a proof exists. Six reads
    follow: the contacts without an e-mail that the phones find, the person's
    other open requests, the contacts holding the person's e-mail and the
    identifiers that rectifications of any of them replaced, the identifiers
    the erasure suppresses, and those already listed. One
    statement then deletes the contacts with every row that refers to them or
    contains their identifiers, and adds the suppression entries. Then come the
    proof, and the timeline and audit events together."""
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "uploads"
    with CaptureQueriesContext(connection) as captured:
        proof = request_erase(request=erasure_request, actor=dpo)

    statements = [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert len(statements) == 11
    assert proof.suppression_added == 2
    assert is_suppressed(email=PERSON["email"])
    event = erasure_request.events.get(action="erased")
    assert event.details["proof_id"] == proof.pk
    assert event.occurred_at is not None


def test_second_erasure_suppresses_nothing(erasure_request, make_request, dpo):
    first = request_erase(request=erasure_request, actor=dpo)
    again = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)

    second = request_erase(request=again, actor=dpo)

    assert first.suppression_added == 2
    assert second.suppression_added == 0
    assert second.record_counts == {}


def test_colleague_sharing_the_phone_stays(erasure_request, dpo, person):
    """GIVEN colleagues who share the person's switchboard number, one with an
    e-mail and one without, and a record of the person with the phone only
    WHEN the person is erased
    THEN the colleagues stay and the person's phone-only record goes.
    """
    colleague = ContactFactory(
        first_name="Hugo", email="hugo.partage@example.com", phone=PERSON["phone"]
    )
    colleague_without_email = ContactFactory(
        first_name="Chantal", last_name="Standard", email="", phone=PERSON["phone"]
    )
    nameless = ContactFactory(
        first_name="", last_name="", email="", phone=PERSON["phone"]
    )
    phone_only = ContactFactory(
        first_name=PERSON["first_name"].upper(),
        last_name=PERSON["last_name"],
        email="",
        phone=PERSON["phone"],
    )

    proof = request_erase(request=erasure_request, actor=dpo)

    assert proof.record_counts["contact"] == 2
    assert Contact.objects.filter(pk=colleague.pk).exists()
    assert Contact.objects.filter(pk=colleague_without_email.pk).exists()
    assert Contact.objects.filter(pk=nameless.pk).exists()
    assert not Contact.objects.filter(pk=phone_only.pk).exists()


def test_erased_contacts_are_suppressed(make_request, dpo, person):
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE,
        verified_by=dpo,
        requester_email="autre.adresse@example.com",
        requester_phone="",
    )

    proof = request_erase(request=request, actor=dpo, extra_contact_ids=[person.pk])

    assert proof.record_counts["contact"] == 1
    assert proof.suppression_added == 3
    assert is_suppressed(email=PERSON["email"])
    assert is_suppressed(phone=PERSON["phone"])
    assert is_suppressed(email="autre.adresse@example.com")


def test_erase_subject_suppresses_contact_phone(make_request, dpo, person, capsys):
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE, verified_by=dpo, requester_phone=""
    )

    call_command(
        "erase_subject", "--email", PERSON["email"], "--request", request.reference
    )

    summary = json.loads(capsys.readouterr().out)
    assert summary["record_counts"]["contact"] == 1
    assert is_suppressed(phone=PERSON["phone"])


def test_erase_subject_by_phone_only(make_request, dpo, capsys):
    contact = ContactFactory(
        first_name=PERSON["first_name"],
        last_name=PERSON["last_name"],
        email="",
        phone="+33698765432",
    )
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE,
        verified_by=dpo,
        requester_email="",
        requester_phone="06 98 76 54 32",
    )

    call_command(
        "erase_subject", "--phone", "06 98 76 54 32", "--request", request.reference
    )

    summary = json.loads(capsys.readouterr().out)
    assert summary["record_counts"]["contact"] == 1
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert is_suppressed(phone="+33698765432")


def test_erase_subject_needs_an_identifier(make_request, dpo):
    from django.core.management.base import CommandError

    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)

    with pytest.raises(CommandError, match="--email, --phone or both"):
        call_command("erase_subject", "--request", request.reference)


def test_search_collapses_name_spaces(make_request, dpo, person):
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE,
        verified_by=dpo,
        requester_name=f"{PERSON['first_name']}   {PERSON['last_name']}",
        requester_email="autre.adresse@example.com",
        requester_phone="",
    )

    request_search(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.last_search["matches"]


def test_proof_lists_contact_phone_of_email_request(make_request, dpo, person):
    """GIVEN an erasure request that gives only an e-mail
    WHEN the contact with that e-mail also has a phone
    THEN the proof lists an e-mail and a phone entry, one each."""
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE, verified_by=dpo, requester_phone=""
    )

    proof = request_erase(request=request, actor=dpo)

    assert proof.suppression_added == 2
    assert proof.suppression_kinds == ["email", "phone"]
    assert proof.suppression_counts == {"email": 1, "phone": 1}
    assert SuppressionEntry.objects.filter(reason="erased").count() == 2


def test_proof_counts_already_listed_as_zero(make_request, dpo, person):
    suppression_add(reason="objected", emails=[PERSON["email"]])
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE, verified_by=dpo, requester_phone=""
    )

    proof = request_erase(request=request, actor=dpo)

    assert proof.suppression_added == 1
    assert proof.suppression_kinds == ["email", "phone"]
    assert proof.suppression_counts == {"email": 0, "phone": 1}


def test_proof_page_shows_each_kind(client_for, make_request, dpo, person):
    suppression_add(reason="objected", emails=[PERSON["email"]])
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE, verified_by=dpo, requester_phone=""
    )
    request_erase(request=request, actor=dpo)

    response = client_for(dpo).get(_detail(request), HTTP_ACCEPT_LANGUAGE="en")

    assert "e-mail (already listed), phone (1 new entry)" in response.text


def test_erase_subject_prints_counts_by_kind(make_request, dpo, person, capsys):
    request = make_request(
        kind=SubjectRequest.Kind.ERASURE, verified_by=dpo, requester_phone=""
    )

    call_command(
        "erase_subject", "--email", PERSON["email"], "--request", request.reference
    )

    summary = json.loads(capsys.readouterr().out)
    assert summary["suppression_kinds"] == ["email", "phone"]
    assert summary["suppression_counts"] == {"email": 1, "phone": 1}


def test_second_erasure_of_request_rejected(erasure_request, dpo):
    first = request_erase(request=erasure_request, actor=dpo)

    with pytest.raises(RequestError, match="was already erased") as caught:
        request_erase(request=erasure_request, actor=dpo)

    assert f"#{first.pk}" in str(caught.value)
    assert list(ErasureProof.objects.all()) == [first]
    assert erasure_request.events.filter(action="erased").count() == 1


def test_erase_subject_twice_rejected(make_request, dpo, person, capsys):
    from django.core.management.base import CommandError

    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)
    arguments = ["erase_subject", "--email", PERSON["email"]]
    call_command(*arguments, "--request", request.reference)
    capsys.readouterr()

    with pytest.raises(CommandError, match="was already erased"):
        call_command(*arguments, "--request", request.reference)

    assert ErasureProof.objects.count() == 1


def test_erasure_keeps_search_summary(erasure_request, dpo):
    searched_at = erasure_request.last_search["searched_at"]
    matched = len(erasure_request.last_search["matches"])

    request_erase(request=erasure_request, actor=dpo)

    erasure_request.refresh_from_db()
    search = erasure_request.last_search
    assert search["searched_at"] == searched_at
    assert search["criteria"] == ["email", "phone", "name"]
    assert search["matches"] == []
    assert search["erased_matches"] == matched


def test_page_after_erasure(client_for, erasure_request, dpo):
    """GIVEN a request whose person was searched, linked and erased
    WHEN the DPO opens the request page
    THEN it shows the search that ran, no erase button and the erasure date."""
    request_erase(request=erasure_request, actor=dpo)

    response = client_for(dpo).get(_detail(erasure_request), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "No search yet." not in response.text
    assert 'class="search-summary">Searched ' in response.text
    assert "the erasure deleted the person's records" in response.text
    assert 'value="erase"' not in response.text
    assert "The person was erased on" in response.text


def test_page_before_erasure_offers_erase(client_for, erasure_request, dpo):
    response = client_for(dpo).get(_detail(erasure_request), HTTP_ACCEPT_LANGUAGE="en")

    assert 'value="erase"' in response.text
    assert "The person was erased on" not in response.text


def test_erase_twice_from_page_shows_reason(client_for, erasure_request, dpo):
    request_erase(request=erasure_request, actor=dpo)

    response = client_for(dpo).post(
        reverse("subject_requests:request-erase", args=[erasure_request.pk]),
        {"confirm": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    assert "was already erased" in response.text
    assert ErasureProof.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_erasures_write_one_proof(erasure_request, dpo, monkeypatch):
    """GIVEN an erasure of a request that has not committed yet
    WHEN a second erasure of the same request starts meanwhile
    THEN the second waits for the first, then is rejected, and one proof stays."""
    from apps.subject_requests.services import erasure

    inside, release = threading.Event(), threading.Event()
    original = erasure.person_erase

    def person_erase_paused(**kwargs):
        erased = original(**kwargs)
        inside.set()
        assert release.wait(timeout=30)
        return erased

    monkeypatch.setattr(erasure, "person_erase", person_erase_paused)
    errors = []

    def erase():
        try:
            with translation.override("en"):
                request_erase(
                    request=SubjectRequest.objects.get(pk=erasure_request.pk),
                    actor=dpo,
                )
        except RequestError as error:
            errors.append(str(error))
        finally:
            release.set()
            connection.close()

    first = threading.Thread(target=erase)
    first.start()
    assert inside.wait(timeout=30)
    second = threading.Thread(target=erase)
    second.start()
    second.join(timeout=1)
    assert second.is_alive()
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert len(errors) == 1
    assert "was already erased" in errors[0]
    assert ErasureProof.objects.filter(request=erasure_request).count() == 1


def test_close_before_erasure_rejected(erasure_request, dpo, person):
    with pytest.raises(RequestError, match="has not been carried out"):
        request_close(request=erasure_request, actor=dpo)

    erasure_request.refresh_from_db()
    assert erasure_request.status != SubjectRequest.Status.CLOSED
    assert Contact.objects.filter(pk=person.pk).exists()


def test_close_after_erasure_accepted(erasure_request, dpo):
    request_erase(request=erasure_request, actor=dpo)

    closed = request_close(request=erasure_request, actor=dpo)

    assert closed.status == SubjectRequest.Status.CLOSED


def test_record_pdf_gives_proof_and_timeline(client_for, erasure_request, dpo):
    import io

    from pypdf import PdfReader

    request_erase(request=erasure_request, actor=dpo)
    request_close(request=erasure_request, actor=dpo)

    response = client_for(dpo).get(
        reverse("subject_requests:request-record", args=[erasure_request.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert erasure_request.reference in text
    assert "Proof of erasure" in text
    assert "request closed" in text
    assert "answered on time" in text
    assert "Linked contacts" not in text
    assert AuditEvent.objects.filter(
        action="subject_requests.record.downloaded"
    ).exists()


def test_record_pdf_refused_to_sales(client_for, sales_user, erasure_request):
    response = client_for(sales_user).get(
        reverse("subject_requests:request-record", args=[erasure_request.pk])
    )

    assert response.status_code == 403


def test_record_pdf_prints_european_names(client_for, make_request, dpo):
    import io

    from pypdf import PdfReader

    request = make_request(requester_name="Łukasz Wąsowicz-Ştefănescu")

    response = client_for(dpo).get(
        reverse("subject_requests:request-record", args=[request.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Łukasz Wąsowicz-Ştefănescu" in text


def test_rectified_address_leaves_campaign_file(
    campaign_file, make_request, dpo, person, bystander
):
    from apps.subject_requests.services import request_rectify

    request = make_request(kind=SubjectRequest.Kind.RECTIFICATION, verified_by=dpo)
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    request_rectify(
        request=request,
        contact_id=person.pk,
        changes={"email": "adresse.corrigee@example.com"},
        actor=dpo,
    )

    content = campaign_file.read_text(encoding="utf-8-sig")
    assert person.email not in content
    assert bystander.email in content


@pytest.mark.parametrize(
    ("old_email", "suppressed"),
    [("ancienne.adresse@example.com", True), ("contact@example.com", False)],
)
def test_rectification_suppresses_replaced_address(
    make_request, dpo, person, old_email, suppressed
):
    """GIVEN a contact whose address the DPO corrects
    WHEN a later vendor list still gives the old address
    THEN that list cannot bring the person back under it, unless the old
    address was a generic one that colleagues share.
    """
    from apps.subject_requests.services import request_rectify

    Contact.objects.filter(pk=person.pk).update(email=old_email)
    person.refresh_from_db()
    request = make_request(kind=SubjectRequest.Kind.RECTIFICATION, verified_by=dpo)
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    request_rectify(
        request=request,
        contact_id=person.pk,
        changes={"email": "adresse.corrigee@example.com"},
        actor=dpo,
    )

    assert is_suppressed(email=old_email) is suppressed
    assert not is_suppressed(email="adresse.corrigee@example.com")
    if suppressed:
        entry = SuppressionEntry.objects.get()
        assert entry.reason == SuppressionEntry.Reason.RECTIFIED


def _phone_rectified(make_request, dpo, person, new_phone="06 99 88 77 66"):
    from apps.subject_requests.services import request_rectify

    request = make_request(kind=SubjectRequest.Kind.RECTIFICATION, verified_by=dpo)
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    request_rectify(
        request=request, contact_id=person.pk, changes={"phone": new_phone}, actor=dpo
    )
    return request


def test_rectified_phone_stays_off_list_until_objection(make_request, dpo, person):
    """GIVEN a contact whose phone a rectification replaced, WHEN the person
    later objects from their e-mail only, THEN the replaced phone goes on the
    suppression list with the current one, and the timeline shows no hash."""
    from apps.subject_requests.labels import event_details_text
    from apps.subject_requests.services import request_object

    rectification = _phone_rectified(make_request, dpo, person)
    assert not is_suppressed(phone=PERSON["phone"])
    objection = make_request(kind=SubjectRequest.Kind.OBJECTION, requester_phone="")
    request_search(request=objection, actor=dpo)
    request_link_contacts(request=objection, contact_ids=[person.pk], actor=dpo)

    request_object(request=objection, actor=dpo)

    rectified = rectification.events.get(action="rectified")
    assert is_suppressed(phone=PERSON["phone"])
    assert is_suppressed(phone="+33699887766")
    assert "replaced_hashes" not in event_details_text(rectified.details)


def test_erasure_by_email_suppresses_replaced_phone(make_request, dpo, person):
    """GIVEN a rectified phone, WHEN an erasure finds the contact by the
    request's e-mail without a link, THEN the replaced phone is suppressed."""
    _phone_rectified(make_request, dpo, person)
    erasure = make_request(
        kind=SubjectRequest.Kind.ERASURE, verified_by=dpo, requester_phone=""
    )

    request_erase(request=erasure, actor=dpo)

    assert not Contact.objects.filter(pk=person.pk).exists()
    assert is_suppressed(phone=PERSON["phone"])


def test_erasure_suppresses_phone_replaced_earlier(make_request, dpo, person):
    _phone_rectified(make_request, dpo, person)
    erasure = make_request(
        kind=SubjectRequest.Kind.ERASURE, verified_by=dpo, requester_phone=""
    )
    request_search(request=erasure, actor=dpo)
    request_link_contacts(request=erasure, contact_ids=[person.pk], actor=dpo)

    proof = request_erase(request=erasure, actor=dpo)

    entry = SuppressionEntry.objects.get(
        identifier_hash=identifier_hash(PERSON["phone"])
    )
    assert entry.reason == SuppressionEntry.Reason.ERASED
    assert entry.kind == SuppressionEntry.Kind.PHONE
    assert proof.suppression_counts == {"email": 1, "phone": 2}


def test_erase_subject_refuses_another_persons_address(make_request, dpo, bystander):
    """GIVEN an erasure request of one person,
    WHEN the command is given another person's address,
    THEN it stops with the address and the request, and erases nothing."""
    from django.core.management.base import CommandError

    request = make_request(kind=SubjectRequest.Kind.ERASURE, verified_by=dpo)

    with pytest.raises(CommandError) as raised:
        call_command(
            "erase_subject", "--email", bystander.email, "--request", str(request.pk)
        )

    assert f"--email {bystander.email} is neither the requester's" in str(raised.value)
    assert request.reference in str(raised.value)
    assert Contact.objects.filter(pk=bystander.pk).exists()
    assert ErasureProof.objects.count() == 0


def test_open_access_request_blocks_erasure(erasure_request, make_request, dpo, person):
    access = make_request(verified_by=dpo)

    with pytest.raises(RequestError, match=f"open request {access.reference}"):
        request_erase(request=erasure_request, actor=dpo)

    assert Contact.objects.filter(pk=person.pk).exists()
    assert not ErasureProof.objects.exists()


def test_closed_access_request_allows_erasure(
    erasure_request, make_request, dpo, person
):
    from tests.subject_requests.conftest import access_answered_close

    access = make_request(verified_by=dpo)
    request_link_contacts(request=access, contact_ids=[person.pk], actor=dpo)
    access_answered_close(access, dpo)

    request_erase(request=erasure_request, actor=dpo)

    assert not Contact.objects.filter(pk=person.pk).exists()


def test_erasure_noted_on_other_request(erasure_request, make_request, dpo, person):
    restriction = make_request(kind=SubjectRequest.Kind.RESTRICTION, verified_by=dpo)
    request_link_contacts(request=restriction, contact_ids=[person.pk], actor=dpo)

    request_erase(request=erasure_request, actor=dpo)

    event = restriction.events.get(action="contacts_erased")
    assert event.details["request_reference"] == erasure_request.reference
    assert event.details["contact_ids"] == [person.pk]


def test_open_access_by_phone_blocks_erasure(erasure_request, make_request, dpo):
    access = make_request(verified_by=dpo, requester_name="H. B.", requester_email="")

    with pytest.raises(RequestError, match=f"open request {access.reference}"):
        request_erase(request=erasure_request, actor=dpo)


def test_colleague_request_by_phone_allows_erasure(
    erasure_request, make_request, dpo, person
):
    make_request(verified_by=dpo, requester_email="collegue@example.com")

    request_erase(request=erasure_request, actor=dpo)

    assert not Contact.objects.filter(pk=person.pk).exists()


def test_restriction_closes_after_other_erasure(
    erasure_request, make_request, dpo, person
):
    """GIVEN a restriction request that found and restricted the person,
    WHEN another request erases them, THEN the restriction can be closed:
    nothing is held any more."""
    from apps.subject_requests.services import request_restrict

    restriction = make_request(kind=SubjectRequest.Kind.RESTRICTION, verified_by=dpo)
    request_search(request=restriction, actor=dpo)
    request_link_contacts(request=restriction, contact_ids=[person.pk], actor=dpo)
    request_restrict(request=restriction, actor=dpo)
    request_erase(request=erasure_request, actor=dpo)
    restriction.refresh_from_db()

    request_close(request=restriction, actor=dpo)

    assert restriction.status == SubjectRequest.Status.CLOSED


GENERIC_EMAIL = "contact@renaud-conseil.example.com"


def test_generic_address_keeps_colleague(make_request, dpo):
    colleague = ContactFactory(
        first_name="Sophie",
        last_name="Renaud",
        email=GENERIC_EMAIL,
        phone="+33611223344",
    )
    requester = ContactFactory(
        first_name="Jean", last_name="Renaud", email=GENERIC_EMAIL, phone=""
    )
    request = make_request(
        kind="erasure",
        verified_by=dpo,
        requester_name="Jean Renaud",
        requester_email=GENERIC_EMAIL,
        requester_phone="",
    )

    request_erase(request=request, actor=dpo)

    assert Contact.objects.filter(pk=colleague.pk).exists()
    assert not Contact.objects.filter(pk=requester.pk).exists()
    assert not is_suppressed(phone=colleague.phone)


def test_set_aside_homonym_kept(make_request, dpo):
    homonym = ContactFactory(
        first_name="Jean",
        last_name="Renaud",
        email=GENERIC_EMAIL,
        phone="+33611223344",
    )
    request = make_request(
        kind="erasure",
        verified_by=dpo,
        requester_name="Jean Renaud",
        requester_email=GENERIC_EMAIL,
        requester_phone="",
    )
    request_set_aside_contacts(request=request, contact_ids=[homonym.pk], actor=dpo)

    request_erase(request=request, actor=dpo)

    assert Contact.objects.filter(pk=homonym.pk).exists()
    assert not is_suppressed(phone=homonym.phone)
    assert is_suppressed(email=GENERIC_EMAIL)


def test_erasure_page_lists_only_erased(client_for, make_request, dpo):
    colleague = ContactFactory(
        first_name="Sophie", last_name="Renaud", email=GENERIC_EMAIL, phone=""
    )
    request = make_request(
        kind="erasure",
        verified_by=dpo,
        requester_name="Jean Renaud",
        requester_email=GENERIC_EMAIL,
        requester_phone="",
    )

    url = reverse("subject_requests:request-detail", args=[request.pk])
    html = client_for(dpo).get(url).content.decode()

    assert f"#{colleague.pk} " not in html.split('id="erasure-contacts"')[1][:400]


def test_erasure_page_warns_of_shared_address(client_for, make_request, dpo):
    """GIVEN a colleague at the requester's contact@ address, WHEN the DPO
    opens the erasure, THEN the page shows that one other contact keeps the
    address but loses it to the suppression list."""
    ContactFactory(first_name="Sophie", last_name="Renaud", email=GENERIC_EMAIL)
    ContactFactory(first_name="Jean", last_name="Renaud", email=GENERIC_EMAIL)
    request = make_request(
        kind="erasure",
        verified_by=dpo,
        requester_name="Jean Renaud",
        requester_email=GENERIC_EMAIL,
        requester_phone="",
    )

    url = reverse("subject_requests:request-detail", args=[request.pk])
    html = client_for(dpo).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    warning = html.split('id="erasure-shared">')[1].split("</p>")[0]
    assert warning.startswith("1 other contact shares the person's e-mail")
    assert "The erasure keeps that contact" in warning


def test_objection_page_warns_of_shared_phone(client_for, make_request, dpo, person):
    ContactFactory(
        first_name="Luc", last_name="Standard", email="", phone=PERSON["phone"]
    )
    request = make_request(kind=SubjectRequest.Kind.OBJECTION)
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    url = reverse("subject_requests:request-detail", args=[request.pk])
    html = client_for(dpo).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'id="objection-shared">1 other contact shares' in html


def test_erasure_page_no_warning_without_colleague(client_for, erasure_request, dpo):
    url = reverse("subject_requests:request-detail", args=[erasure_request.pk])
    html = client_for(dpo).get(url).content.decode()

    assert 'id="erasure-contacts"' in html
    assert 'id="erasure-shared"' not in html


SHARED_MAILBOX = "info@roux-exemple.fr"


def _shared_mailbox_erasure(make_request, dpo, activity):
    """Return Anne's contact at the shared info@ address and her erasure
    request from it, verified and linked."""
    anne = Contact.objects.create(
        first_name="Anne",
        last_name="Roux",
        email=SHARED_MAILBOX,
        processing_activity=activity,
        collected_at=timezone.now(),
    )
    erasure = make_request(
        kind=SubjectRequest.Kind.ERASURE,
        requester_name="Anne Roux",
        requester_email=SHARED_MAILBOX,
        requester_phone="",
        verified_by=dpo,
    )
    request_link_contacts(request=erasure, contact_ids=[anne.pk], actor=dpo)
    return anne, erasure


def test_colleague_request_from_generic_address_blocks_erasure(
    make_request, dpo, activity
):
    """GIVEN a colleague's open access request from the company's info@
    address, WHEN the person erases their contact at that address, THEN the
    erasure waits for that answer, whose files and identifiers it would
    change, and the message does not call the request the person's."""
    access = make_request(
        requester_name="Marc Leroy", requester_email=SHARED_MAILBOX, verified_by=dpo
    )
    anne, erasure = _shared_mailbox_erasure(make_request, dpo, activity)

    with pytest.raises(RequestError) as raised:
        request_erase(request=erasure, actor=dpo)

    assert f"The open request {access.reference}" in str(raised.value)
    assert "same shared address or phone" in str(raised.value)
    assert Contact.objects.filter(pk=anne.pk).exists()


def test_own_request_from_generic_address_blocks_erasure(make_request, dpo, activity):
    access = make_request(
        requester_name="Mme Anne Roux", requester_email=SHARED_MAILBOX, verified_by=dpo
    )
    _anne, erasure = _shared_mailbox_erasure(make_request, dpo, activity)

    with pytest.raises(
        RequestError, match=f"The person also has the open request {access.reference}"
    ):
        request_erase(request=erasure, actor=dpo)
