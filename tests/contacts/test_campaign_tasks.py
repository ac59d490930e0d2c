import csv
import io
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from apps.contacts import campaigns
from apps.contacts import personal_data
from apps.contacts.campaigns import campaign_export_create
from apps.contacts.campaigns import campaign_export_path
from apps.contacts.campaigns import campaign_export_request
from apps.contacts.campaigns import campaign_export_run
from apps.contacts.campaigns import campaign_exports_fail_stalled
from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.contacts.tasks import write_campaign_export
from apps.core.models import AuditEvent
from config.celery import app
from tests.contacts.factories import ContactFactory
from tests.contacts.factories import ContactListFactory
from tests.contacts.factories import ProvenanceFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("media_root", "campaign_root"),
]

OPTIONS = {"file_format": "csv", "records_notice": False, "records_message_date": False}


@pytest.fixture
def contact_list(db):
    contact_list = ContactListFactory()
    for last_name in ("Quintard", "Autre"):
        contact = ContactFactory(last_name=last_name)
        ProvenanceFactory(contact=contact, contact_list=contact_list)
    return contact_list


def _request(contact_list, **filters):
    return campaign_export_request(
        filters={"contact_list": contact_list, **filters}, actor=None, **OPTIONS
    )


@pytest.mark.django_db
def test_request_queues_without_file(contact_list):
    export = _request(contact_list)

    assert export.status == CampaignExport.Status.QUEUED
    assert not campaign_export_path(export).exists()
    assert export.row_count == 0


@pytest.mark.django_db
def test_run_writes_queued_export(contact_list):
    export = _request(contact_list, q="quintard")

    assert export.search_text == "quintard"
    written = campaign_export_run(export_id=export.pk)

    written.refresh_from_db()
    assert written.status == CampaignExport.Status.DONE
    assert written.row_count == 1
    assert written.search_text == ""
    assert written.finished_at is not None
    assert campaign_export_path(written).exists()
    assert written.filters["search_used"] is True


@pytest.mark.django_db
def test_run_leaves_finished_export_alone(contact_list):
    export = _request(contact_list)
    campaign_export_run(export_id=export.pk)

    assert campaign_export_run(export_id=export.pk) is None
    assert write_campaign_export(export.pk) == "skipped"


@pytest.mark.django_db
def test_failed_write_keeps_no_file(contact_list, monkeypatch, caplog):
    export = _request(contact_list, q="quintard")

    def fail(writer, export, contacts):
        writer.append(["half", "written"])
        raise OSError("disk full")

    monkeypatch.setattr(campaigns, "_write_chunks", fail)
    result = campaign_export_run(export_id=export.pk)

    assert result.status == CampaignExport.Status.FAILED
    assert "OSError" in result.error
    assert "Export the segment again" in result.error
    assert result.search_text == ""
    assert not campaign_export_path(result).exists()
    assert not CampaignExportContact.objects.filter(export=result).exists()
    assert f"campaign export {export.pk} failed: OSError" in caplog.text
    assert "quintard" not in caplog.text.lower()


@pytest.mark.django_db
def test_queued_export_has_no_download(contact_list, sales_user, client_for):
    export = _request(contact_list)
    client = client_for(sales_user)

    page = client.get(reverse("contacts:campaign-detail", args=[export.pk]))
    download = client.get(reverse("contacts:campaign-download", args=[export.pk]))

    assert 'http-equiv="refresh"' in page.text
    assert reverse("contacts:campaign-download", args=[export.pk]) not in page.text
    assert download.status_code == 404


@pytest.mark.django_db
def test_view_queues_then_task_writes(
    contact_list, sales_user, client_for, django_capture_on_commit_callbacks
):
    client = client_for(sales_user)
    url = reverse("contacts:campaign-create") + f"?contact_list={contact_list.pk}"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"file_format": "csv"})
    export = CampaignExport.objects.get()
    assert response.status_code == 302
    assert export.status == CampaignExport.Status.QUEUED

    for callback in callbacks:
        callback()
    export.refresh_from_db()
    page = client.get(reverse("contacts:campaign-detail", args=[export.pk]))

    assert export.status == CampaignExport.Status.DONE
    assert 'http-equiv="refresh"' not in page.text
    assert reverse("contacts:campaign-download", args=[export.pk]) in page.text


@pytest.mark.redis
def test_worker_on_redis_writes_export(celery_worker_redis, contact_list):
    export = campaign_export_request(
        filters={"contact_list": contact_list}, actor=None, **OPTIONS
    )
    # A fresh connection, because the producer pool that ``delay`` uses keeps
    # the broker of the first task sent in the session.
    with app.connection_for_write() as connection:
        write_campaign_export.apply_async((export.pk,), connection=connection)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        export.refresh_from_db()
        if not export.is_pending:
            break
        time.sleep(0.2)

    assert export.status == CampaignExport.Status.DONE, export.error
    assert export.row_count == 2
    assert campaign_export_path(export).exists()


@pytest.mark.django_db
def test_stalled_export_is_failed(contact_list):
    export = _request(contact_list, q="quintard")
    CampaignExport.objects.filter(pk=export.pk).update(
        status=CampaignExport.Status.RUNNING,
        started_at=export.created_at - campaigns.STALLED_AFTER - timedelta(minutes=1),
    )
    path = campaign_export_path(export)
    path.parent.mkdir(parents=True)
    path.write_text("partial", encoding="utf-8")
    fresh = _request(contact_list)

    failed = campaign_exports_fail_stalled()

    export.refresh_from_db()
    fresh.refresh_from_db()
    assert failed == 1
    assert export.status == CampaignExport.Status.FAILED
    assert "within 2 hours" in export.error
    assert export.search_text == ""
    assert not path.exists()
    assert fresh.status == CampaignExport.Status.QUEUED


@pytest.mark.django_db
def test_export_analyses_unanalysed_tables(contact_list):
    from django.db import connection

    from apps.contacts.statistics import MODELS

    export = _request(contact_list)
    campaign_export_run(export_id=export.pk)

    tables = [model._meta.db_table for model in MODELS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = ANY(%s) "
            "AND last_analyze IS NULL AND last_autoanalyze IS NULL",
            [tables],
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_stopped_export_rolls_back(contact_list, monkeypatch):
    # Outside a transaction the task would run at once; run it by hand below.
    monkeypatch.setattr(write_campaign_export, "delay", lambda export_id: None)
    export = _request(contact_list)
    write_chunks = campaigns._write_chunks

    def fail_elsewhere():
        CampaignExport.objects.filter(pk=export.pk).update(
            status=CampaignExport.Status.FAILED, error="stopped"
        )
        connection.close()

    def stopped_meanwhile(writer, export, contacts):
        exported = write_chunks(writer, export, contacts)
        thread = threading.Thread(target=fail_elsewhere)
        thread.start()
        thread.join()
        return exported

    monkeypatch.setattr(campaigns, "_write_chunks", stopped_meanwhile)
    result = campaign_export_run(export_id=export.pk)

    assert result.status == CampaignExport.Status.FAILED
    assert result.error == "stopped"
    assert not campaign_export_path(result).exists()
    assert not CampaignExportContact.objects.filter(export=result).exists()


@pytest.mark.django_db(transaction=True)
def test_erasure_during_write_fails_export(contact_list, monkeypatch):
    monkeypatch.setattr(write_campaign_export, "delay", lambda export_id: None)
    export = _request(contact_list)
    write_chunks = campaigns._write_chunks

    def erase_elsewhere(contact_id):
        personal_data.erase(contact_ids=[contact_id], emails=[], phones=[])
        connection.close()

    def erased_meanwhile(writer, export, contacts):
        exported = write_chunks(writer, export, contacts)
        first = CampaignExportContact.objects.filter(export=export).first()
        thread = threading.Thread(target=erase_elsewhere, args=[first.contact_id])
        thread.start()
        thread.join()
        return exported

    monkeypatch.setattr(campaigns, "_write_chunks", erased_meanwhile)
    result = campaign_export_run(export_id=export.pk)

    assert result.status == CampaignExport.Status.FAILED
    assert "was erased while the file was written" in result.error
    assert not campaign_export_path(result).exists()


def _locks_awaited() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _statements(export) -> list[str]:
    text = campaign_export_path(export).read_text(encoding="utf-8-sig")
    delimiter = ";" if export.language == "fr" else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return [row[8] for row in rows[1:]]


def _notices_recorded(export) -> int:
    event = AuditEvent.objects.get(
        action="contacts.campaign.exported", target_id=str(export.pk)
    )
    return event.details["notices_recorded"]


@pytest.mark.django_db(transaction=True)
def test_notice_exports_of_same_contacts_serialise(contact_list, monkeypatch):
    """GIVEN an export that records the Art. 14 notice and is writing its file
    WHEN a second export that records it for the same contacts starts
    THEN the second waits for the first to commit and reads its notices.
    The second file carries no source statement, and the second export
    records no notice.
    """
    write_chunks = campaigns._write_chunks
    first_written = threading.Event()
    first_released = threading.Event()
    exports = {}
    errors = {}

    def paused_in_first(writer, export, contacts):
        exported = write_chunks(writer, export, contacts)
        if threading.current_thread().name == "first":
            first_written.set()
            first_released.wait(timeout=60)
        return exported

    def export_in_thread():
        name = threading.current_thread().name
        try:
            exports[name] = campaign_export_create(
                filters={"contact_list": contact_list},
                file_format="csv",
                records_notice=True,
                records_message_date=False,
                actor=None,
            )
        except Exception as error:
            errors[name] = error
        finally:
            connection.close()

    monkeypatch.setattr(campaigns, "_write_chunks", paused_in_first)
    first = threading.Thread(target=export_in_thread, name="first")
    second = threading.Thread(target=export_in_thread, name="second")
    first.start()
    assert first_written.wait(timeout=60)
    second.start()
    # Without the lock the second export runs to its end here.
    deadline = time.monotonic() + 60
    while second.is_alive() and not _locks_awaited() and time.monotonic() < deadline:
        time.sleep(0.05)
    first_released.set()
    first.join(timeout=60)
    second.join(timeout=60)

    assert errors == {}
    first_statements = _statements(exports["first"])
    assert len(first_statements) == 2
    assert all(first_statements)
    assert _statements(exports["second"]) == ["", ""]
    assert _notices_recorded(exports["first"]) == 2
    assert _notices_recorded(exports["second"]) == 0
    noticed_at = set(Contact.objects.values_list("art14_notice_sent_at", flat=True))
    assert noticed_at == {exports["first"].finished_at}


@pytest.mark.django_db
def test_file_in_requesters_language(contact_list):
    with translation.override("en"):
        export = _request(contact_list)
        english_headers = campaigns._headers()

    with translation.override("fr"):
        campaign_export_run(export_id=export.pk)

    text = campaign_export_path(export).read_text(encoding="utf-8-sig")
    assert export.language == "en"
    assert next(csv.reader(io.StringIO(text))) == english_headers


@pytest.mark.django_db
def test_segment_emptied_before_writing_fails(contact_list):
    export = _request(contact_list)
    Contact.objects.update(status=Contact.Status.OBJECTED)

    result = campaign_export_run(export_id=export.pk)

    assert result.status == CampaignExport.Status.FAILED
    assert "could receive the campaign any more" in result.error
    assert not campaign_export_path(result).exists()


@pytest.mark.django_db
def test_unreachable_queue_fails_export(
    contact_list, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    def unreachable(export_id):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390")

    monkeypatch.setattr(write_campaign_export, "delay", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        export = _request(contact_list)

    export.refresh_from_db()
    assert export.status == CampaignExport.Status.FAILED
    assert "task queue could not be reached" in export.error


@pytest.mark.django_db
def test_detail_names_segment_filters(contact_list, sales_user, client_for):
    export = _request(contact_list, q="quintard", audience="b2b")
    campaign_export_run(export_id=export.pk)

    page = client_for(sales_user).get(
        reverse("contacts:campaign-detail", args=[export.pk]),
        headers={"Accept-Language": "en"},
    )

    assert str(contact_list) in page.text
    assert "Search</span> used" in page.text
    assert "search_used" not in page.text
    assert "quintard" not in page.text
