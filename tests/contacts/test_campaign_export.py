import csv
import io
import stat
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.contacts import personal_data
from apps.contacts.campaigns import NothingToExport
from apps.contacts.campaigns import campaign_export_create
from apps.contacts.campaigns import campaign_export_path
from apps.contacts.models import CampaignExport
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.suppression import suppression_add
from apps.core.models import AuditEvent
from tests.contacts.factories import ConsentFactory
from tests.contacts.factories import ContactFactory
from tests.contacts.factories import ContactListFactory
from tests.contacts.factories import ProvenanceFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.usefixtures("media_root", "campaign_root"),
]


@pytest.fixture
def segment():
    """A list with contactable, suppressed, restricted and B2C contacts."""
    contact_list = ContactListFactory()
    contacts = {
        "ok": ContactFactory(company='=HYPERLINK("http://x.example.com")'),
        "ok_noticed": ContactFactory(),
        "suppressed": ContactFactory(),
        "restricted": ContactFactory(status=Contact.Status.RESTRICTED),
        "b2c": ContactFactory(audience="b2c", lawful_basis="consent"),
    }
    for contact in contacts.values():
        ProvenanceFactory(contact=contact, contact_list=contact_list)
    Contact.objects.filter(pk=contacts["ok_noticed"].pk).update(
        art14_notice_sent_at=timezone.now()
    )
    # The address comes back with other case and spaces: still suppressed.
    suppression_add(reason="objected", emails=[contacts["suppressed"].email])
    return contact_list, contacts


def _csv_rows(export):
    text = campaign_export_path(export).read_text(encoding="utf-8-sig")
    delimiter = ";" if export.language == "fr" else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _export(contact_list, user=None, **options):
    values = {
        "file_format": "csv",
        "records_notice": False,
        "records_message_date": False,
    }
    values.update(options)
    return campaign_export_create(
        filters={"contact_list": contact_list}, actor=user, **values
    )


def test_export_holds_only_contactable(segment, sales_user):
    contact_list, contacts = segment

    export = _export(contact_list, sales_user)

    ids = {int(row[0]) for row in _csv_rows(export)[1:]}
    assert ids == {contacts["ok"].pk, contacts["ok_noticed"].pk}
    assert export.row_count == 2
    assert export.excluded_count == 3


def test_export_file_named_in_local_time(segment, settings):
    settings.TIME_ZONE = "Europe/Paris"
    contact_list, _contacts = segment

    before = timezone.localtime(timezone.now(), ZoneInfo("Europe/Paris"))
    export = _export(contact_list)
    after = timezone.localtime(timezone.now(), ZoneInfo("Europe/Paris"))

    stamps = {f"campaign-{moment:%Y%m%d-%H%M}" for moment in (before, after)}
    assert export.file_path[: len("campaign-20261205-2003")] in stamps


def test_export_neutralises_formulas(segment):
    contact_list, contacts = segment

    export = _export(contact_list)

    row = next(r for r in _csv_rows(export) if r[0] == str(contacts["ok"].pk))
    assert row[4].startswith("'=HYPERLINK")


@pytest.mark.parametrize(
    "company",
    [
        '=HYPERLINK("http://x.example.com")',
        "+33 SUM(A1)",
        "-1+2",
        "@SUM(A1)",
        "#N/A",
    ],
)
def test_export_xlsx_writes_formula_text_as_text(company):
    contact_list = ContactListFactory()
    contact = ContactFactory(company=company)
    ProvenanceFactory(contact=contact, contact_list=contact_list)

    export = _export(contact_list, file_format="xlsx")

    sheet = load_workbook(campaign_export_path(export)).active
    cell = sheet.cell(row=2, column=5)
    assert sheet.cell(row=2, column=1).value == contact.pk
    assert cell.value == company
    assert cell.data_type == "s"


def test_export_xlsx_quote_prefixes_formula_text(segment):
    contact_list, contacts = segment

    export = _export(contact_list, file_format="xlsx")

    sheet = load_workbook(campaign_export_path(export)).active
    cells = {row[0].value: row[4] for row in sheet.iter_rows(min_row=2)}
    assert cells[contacts["ok"].pk].quotePrefix is True
    assert not cells[contacts["ok_noticed"].pk].quotePrefix


def test_export_rows_carry_unsubscribe_and_source(segment):
    contact_list, contacts = segment

    export = _export(contact_list)

    rows = {row[0]: row for row in _csv_rows(export)[1:]}
    fresh = rows[str(contacts["ok"].pk)]
    noticed = rows[str(contacts["ok_noticed"].pk)]
    assert fresh[7].startswith(settings.SITE_URL + "/contacts/unsubscribe/")
    assert contact_list.vendor.name in fresh[8]
    assert contact_list.name in fresh[8]
    assert fresh[7] in fresh[8]
    assert noticed[8] == ""


def test_new_source_after_notice_renews_statement(segment):
    contact_list, contacts = segment
    noticed = contacts["ok_noticed"]
    noticed.refresh_from_db()
    later_list = ContactListFactory()
    ProvenanceFactory(contact=noticed, contact_list=later_list)

    export = _export(contact_list, records_notice=True)

    rows = {row[0]: row for row in _csv_rows(export)[1:]}
    assert later_list.vendor.name in rows[str(noticed.pk)][8]
    noticed_before = noticed.art14_notice_sent_at
    noticed.refresh_from_db()
    assert noticed.art14_notice_sent_at > noticed_before


def test_consent_statement_offers_withdrawal(segment):
    contact_list, contacts = segment
    ConsentFactory(contact=contacts["b2c"])

    export = _export(contact_list)

    rows = {row[0]: row for row in _csv_rows(export)[1:]}
    statement = rows[str(contacts["b2c"].pk)][8]
    assert "withdraw your consent" in statement
    assert "You can object" not in statement


def test_export_records_notice_when_asked(segment):
    contact_list, contacts = segment

    _export(contact_list, records_notice=True, records_message_date=True)

    exported = Contact.objects.get(pk=contacts["ok"].pk)
    left_out = Contact.objects.get(pk=contacts["restricted"].pk)
    assert exported.art14_notice_sent_at is not None
    assert exported.last_messaged_at is not None
    assert left_out.art14_notice_sent_at is None


def test_export_without_recording_changes_nothing(segment):
    contact_list, contacts = segment

    _export(contact_list)

    exported = Contact.objects.get(pk=contacts["ok"].pk)
    assert exported.art14_notice_sent_at is None
    assert exported.last_messaged_at is None


def test_export_writes_audit_event(segment, sales_user):
    contact_list, contacts = segment

    export = _export(contact_list, sales_user)

    event = AuditEvent.objects.get(action="contacts.campaign.exported")
    assert event.actor == sales_user
    assert event.count == 2
    assert event.target_id == str(export.pk)
    assert contacts["ok"].email not in str(event.details)


def test_export_without_contactable_rejected(media_root):
    rental = ContactListFactory(
        acquisition=ContactList.Acquisition.RENTAL, licence_ends_on="2026-01-01"
    )
    ProvenanceFactory(contact_list=rental)
    ProvenanceFactory(
        contact_list=rental, contact=ContactFactory(status=Contact.Status.RESTRICTED)
    )

    with pytest.raises(NothingToExport) as raised:
        _export(rental)

    message = str(raised.value)
    assert "no file was written" in message
    assert "The licence of every list it came from has ended (2 of 2)" in message
    assert "Processing is restricted (GDPR Art. 18) (1 of 2)" in message
    assert not CampaignExport.objects.exists()
    assert not AuditEvent.objects.filter(action="contacts.campaign.exported").exists()
    assert not list(Path(media_root).rglob("*.csv"))


def test_export_of_empty_segment_rejected():
    with pytest.raises(NothingToExport, match="No contact matches this segment"):
        _export(ContactListFactory())

    assert not CampaignExport.objects.exists()


def test_export_view_rejects_empty_segment(sales_user, client_for):
    contact_list = ContactListFactory()
    ProvenanceFactory(
        contact_list=contact_list,
        contact=ContactFactory(status=Contact.Status.OBJECTED),
    )

    response = client_for(sales_user).post(
        reverse("contacts:campaign-create") + f"?contact_list={contact_list.pk}",
        {"file_format": "csv"},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 200
    assert "The person objected to prospecting (1 of 1)" in response.text
    assert not CampaignExport.objects.exists()


def test_export_posted_twice_writes_one_file(sales_user, client_for, segment):
    """GIVEN the export form of a segment, with the Art. 14 notice ticked
    WHEN it is posted twice from the same page (a double click)
    THEN one export is made and the second post goes to it.
    """
    contact_list, _contacts = segment
    client = client_for(sales_user)
    url = reverse("contacts:campaign-create") + f"?contact_list={contact_list.pk}"
    page = client.get(url)
    data = {
        "submission_token": page.context["form"]["submission_token"].value(),
        "file_format": "csv",
        "records_notice": "on",
    }

    first = client.post(url, data)
    second = client.post(url, data)

    export = CampaignExport.objects.get()
    detail = reverse("contacts:campaign-detail", args=[export.pk])
    assert first["Location"] == detail
    assert second["Location"] == detail
    assert page.content.decode().count('name="submission_token"') == 1


def test_export_view_writes_chosen_language(sales_user, client_for, segment):
    contact_list, _contacts = segment
    client = client_for(sales_user)

    response = client.post(
        reverse("contacts:campaign-create") + f"?contact_list={contact_list.pk}",
        {"file_format": "csv", "language": "en"},
        headers={"Accept-Language": "fr"},
    )

    export = CampaignExport.objects.get()
    assert response.status_code == 302
    assert export.language == "en"
    page = client.get(
        reverse("contacts:campaign-detail", args=[export.pk]),
        headers={"Accept-Language": "en"},
    )
    assert "Language of the file" in page.text
    assert "English" in page.text


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_erasure_removes_only_the_person_from_export_files(segment, file_format):
    contact_list, contacts = segment
    export = _export(contact_list, file_format=file_format)
    path = campaign_export_path(export)
    erased, remaining = contacts["ok"], contacts["ok_noticed"]

    counts = personal_data.erase(contact_ids=[erased.pk], emails=[], phones=[])

    export.refresh_from_db()
    assert counts["campaign_export_file_rewritten"] == 1
    assert counts["contact"] == 1
    assert export.file_deleted_at is None
    if file_format == "csv":
        ids = [row[0] for row in _csv_rows(export)[1:]]
    else:
        sheet = load_workbook(path, read_only=True).active
        ids = [str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == [str(remaining.pk)]


def test_sales_downloads_export(
    segment, sales_user, client_for, django_capture_on_commit_callbacks
):
    contact_list, _contacts = segment
    client = client_for(sales_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contacts:campaign-create") + f"?contact_list={contact_list.pk}",
            {"file_format": "csv"},
        )
    download = client.get(response.url.rstrip("/") + "/file/")

    assert response.status_code == 302
    assert download.status_code == 200
    assert b"unsubscribe" in b"".join(download.streaming_content)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_file_is_private(segment, media_root, campaign_root, file_format):
    contact_list, _contacts = segment

    export = _export(contact_list, file_format=file_format)

    path = campaign_export_path(export)
    assert path.is_file()
    assert path.parent == campaign_root
    assert not path.is_relative_to(media_root)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(campaign_root.stat().st_mode) == 0o700


def test_download_view_sends_private_file(segment, sales_user, client_for):
    contact_list, contacts = segment
    export = _export(contact_list, sales_user)

    download = client_for(sales_user).get(
        reverse("contacts:campaign-download", args=[export.pk])
    )

    content = b"".join(download.streaming_content)
    assert download.status_code == 200
    assert content == campaign_export_path(export).read_bytes()
    assert contacts["ok"].email.encode() in content


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_download_leaves_out_later_objection(
    segment, sales_user, client_for, file_format
):
    contact_list, contacts = segment
    export = _export(contact_list, sales_user, file_format=file_format)
    file_as_sent = campaign_export_path(export).read_bytes()
    suppression_add(reason="objected", emails=[contacts["ok"].email])
    client = client_for(sales_user)

    download = client.get(reverse("contacts:campaign-download", args=[export.pk]))
    page = client.get(
        reverse("contacts:campaign-detail", args=[export.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    ids = _file_ids(b"".join(download.streaming_content), export)
    assert ids == {contacts["ok_noticed"].pk}
    assert campaign_export_path(export).read_bytes() == file_as_sent
    assert not list(campaign_export_path(export).parent.glob("*.download"))
    assert "1 of its contacts may no longer be contacted" in page.content.decode()


def _file_ids(content: bytes, export) -> set[int]:
    if export.file_format == "csv":
        delimiter = ";" if export.language == "fr" else ","
        text = io.StringIO(content.decode("utf-8-sig"))
        return {int(row[0]) for row in list(csv.reader(text, delimiter=delimiter))[1:]}
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return {
        int(row[0]) for row in list(workbook.active.iter_rows(values_only=True))[1:]
    }


@pytest.mark.urls("tests.contacts.media_urls")
def test_media_urls_serve_no_campaign_file(segment, client, media_root):
    """GIVEN MEDIA_ROOT served without login, as config/urls.py does with DEBUG on
    WHEN an anonymous user requests a written export by the media URLs
    THEN no file is sent, although a file inside MEDIA_ROOT is."""
    contact_list, _contacts = segment
    export = _export(contact_list)
    name = campaign_export_path(export).name
    media_root.mkdir(parents=True, exist_ok=True)
    (media_root / "served.txt").write_text("served")

    control = client.get("/media/served.txt")
    old_url = client.get(f"/media/contacts/campaigns/{name}")
    flat_url = client.get(f"/media/{name}")
    parent_url = client.get(f"/media/../private/campaigns/{name}")

    assert control.status_code == 200
    assert old_url.status_code == 404
    assert flat_url.status_code == 404
    assert parent_url.status_code != 200


def test_dpo_cannot_export(segment, dpo, client_for):
    contact_list, _contacts = segment

    response = client_for(dpo).post(
        reverse("contacts:campaign-create") + f"?contact_list={contact_list.pk}",
        {"file_format": "csv"},
    )

    assert response.status_code == 403


def test_export_rejection_in_french(sales_user, client_for):
    contact_list = ContactListFactory()
    ProvenanceFactory(
        contact_list=contact_list,
        contact=ContactFactory(status=Contact.Status.UNSUBSCRIBED),
    )

    response = client_for(sales_user).post(
        reverse("contacts:campaign-create") + f"?contact_list={contact_list.pk}",
        {"file_format": "csv"},
        headers={"Accept-Language": "fr"},
    )

    assert "aucun fichier n&#x27;a donc été écrit" in response.text
    assert "(1 sur 1)" in response.text


@pytest.fixture
def audiences_segment():
    """One list with a contactable professional and a contactable consumer."""
    contact_list = ContactListFactory()
    professional = ContactFactory()
    consumer = ContactFactory(audience="b2c", lawful_basis="consent")
    ConsentFactory(contact=consumer)
    for contact in (professional, consumer):
        ProvenanceFactory(contact=contact, contact_list=contact_list)
    return contact_list, professional, consumer


def test_source_statement_matches_audience(audiences_segment):
    contact_list, professional, consumer = audiences_segment

    export = _export(contact_list)

    rows = {row[0]: row for row in _csv_rows(export)[1:]}
    assert set(rows) == {str(professional.pk), str(consumer.pk)}
    assert "your professional details" in rows[str(professional.pk)][8]
    assert "your contact details" in rows[str(consumer.pk)][8]
    assert "professional" not in rows[str(consumer.pk)][8]
    assert contact_list.vendor.name in rows[str(consumer.pk)][8]


def test_french_b2b_statement_unchanged(audiences_segment):
    contact_list, professional, _consumer = audiences_segment

    export = _export(contact_list, language="fr")

    rows = {row[0]: row for row in _csv_rows(export)[1:]}
    assert "vos coordonnées professionnelles" in rows[str(professional.pk)][8]


@pytest.mark.parametrize(("language", "delimiter"), [("fr", ";"), ("en", ",")])
def test_csv_delimiter_follows_language(segment, language, delimiter):
    contact_list, _contacts = segment

    export = _export(contact_list, language=language)

    header = campaign_export_path(export).read_text(encoding="utf-8-sig")
    assert header.splitlines()[0].count(delimiter) >= 5


def test_source_statement_links_activity_notice(audiences_segment, settings):
    settings.SITE_URL = "https://registre.example.com"
    contact_list, professional, _consumer = audiences_segment

    export = _export(contact_list)

    rows = {row[0]: row for row in _csv_rows(export)[1:]}
    activity = professional.processing_activity
    notice = reverse("register:notice", args=[activity.notice_token])
    statement = rows[str(professional.pk)][8]
    assert f"rights: https://registre.example.com{notice}" in statement
    assert f"/notice/{activity.pk}/" not in statement


def test_page_counts_rows_removed_by_erasure(segment, sales_user, client_for):
    from apps.contacts.personal_data import person_erase

    contact_list, contacts = segment
    export = _export(contact_list, sales_user)
    erased = contacts["ok"]
    person_erase(
        contact_ids=[erased.pk], emails=[erased.email], phones=[], reason="erased"
    )

    page = client_for(sales_user).get(
        reverse("contacts:campaign-detail", args=[export.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "The row of 1 person erased since the file was written" in page.text
    assert 'id="withdrawn-contacts"' not in page.text
