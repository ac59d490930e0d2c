import datetime
import threading
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils import translation
from django.utils.formats import date_format

from apps.core.models import Organisation
from apps.subject_requests.dates import due_date
from apps.subject_requests.dates import local_date
from apps.subject_requests.dates import today_local
from apps.subject_requests.deadlines import check_deadlines
from apps.subject_requests.deadlines import reminder_kind
from apps.subject_requests.models import ReminderSent
from apps.subject_requests.tasks import check_request_deadlines
from config.celery import app
from tests.subject_requests.conftest import access_answered_close

pytestmark = pytest.mark.postgres

DPO_BOX = "dpo-alerts@example.com"


@pytest.fixture(autouse=True)
def alert_emails(settings):
    settings.DPO_ALERT_EMAILS = [DPO_BOX]


def _received_days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (30, None),
        (8, None),
        (7, "due_in_7_days"),
        (3, "due_in_7_days"),
        (2, "due_in_2_days"),
        (0, "due_in_2_days"),
        (-1, "overdue"),
    ],
)
def test_reminder_kind(days_left, expected):
    assert reminder_kind(days_left) == expected


def test_reminder_sent_once(make_request, dpo):
    request = make_request(received_at=_received_days_ago(27), handler=dpo)

    first = check_deadlines()
    second = check_deadlines()

    assert first["reminders_sent"] == 1
    assert second["reminders_sent"] == 0
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([DPO_BOX, dpo.email])
    assert request.reference in mail.outbox[0].subject
    assert ReminderSent.objects.filter(request=request).count() == 1


def test_reminder_local_due_date(make_request):
    request = make_request(received_at=_received_days_ago(27))

    with translation.override("fr"):
        check_deadlines()
        expected = date_format(request.due_on, "DATE_FORMAT")

    days = (request.due_on - today_local()).days
    message = mail.outbox[0]
    assert f"doit être traitée le {expected}" in message.subject
    assert request.due_on.isoformat() not in message.subject + message.body
    assert f"dans {days} jours" in message.body


def test_reminder_on_last_day_says_today(make_request):
    received_at = next(
        _received_days_ago(days)
        for days in range(27, 33)
        if due_date(local_date(_received_days_ago(days))) == today_local()
    )
    request = make_request(received_at=received_at)

    with translation.override("fr"):
        check_deadlines()

    body = mail.outbox[0].body
    assert request.reference in body
    assert "aujourd’hui" in body or "aujourd'hui" in body
    assert "dans 0 jour" not in body


def test_reminder_leaves_out_personal_data(make_request):
    make_request(received_at=_received_days_ago(27))

    check_deadlines()

    message = mail.outbox[0]
    assert "maelle" not in (message.subject + message.body).lower()


def test_overdue_flagged_once(make_request):
    request = make_request(received_at=_received_days_ago(40))

    first = check_deadlines()
    second = check_deadlines()

    request.refresh_from_db()
    assert request.overdue_flagged_at is not None
    assert first["newly_overdue"] == 1
    assert second["newly_overdue"] == 0
    assert second["overdue"] == 1
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Overdue"]


def test_overdue_mail_counts_days_late(make_request):
    make_request(received_at=_received_days_ago(40))

    check_deadlines()

    body = mail.outbox[0].body
    assert " days ago." in body
    assert ", -" not in body


def test_closed_request_not_reminded(make_request, dpo):
    request = make_request(received_at=_received_days_ago(40), verified_by=dpo)
    access_answered_close(request, dpo)

    summary = check_deadlines()

    assert summary["checked"] == 0
    assert mail.outbox == []


def test_no_recipient_keeps_reminder_pending(make_request, settings):
    settings.DPO_ALERT_EMAILS = []
    request = make_request(received_at=_received_days_ago(27))

    summary = check_deadlines()

    assert summary["reminders_without_recipient"] == 1
    assert not ReminderSent.objects.filter(request=request).exists()


def test_extension_resets_reminders(make_request, dpo):
    from apps.subject_requests.services import request_extend

    request = make_request(received_at=_received_days_ago(27))
    check_deadlines()
    request_extend(
        request=request,
        months=1,
        reason="Many lists",
        informed_on=timezone.localdate(),
        informed_by="email",
        actor=dpo,
    )

    summary = check_deadlines()

    assert summary["reminders_sent"] == 0
    assert len(mail.outbox) == 1


def test_check_deadlines_command_prints_json(make_request, capsys):
    make_request(received_at=_received_days_ago(27))

    call_command("check_deadlines")

    output = capsys.readouterr().out
    assert '"reminders_sent": 1' in output


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_once(make_request):
    """GIVEN a request due in a few days
    WHEN two workers run the deadline job at the same moment
    THEN the reminder is claimed by one of them and sent once."""
    make_request(received_at=_received_days_ago(27))
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(check_deadlines())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result["reminders_sent"] for result in results) == 1
    assert len(mail.outbox) == 1


def _wait_for(condition, *, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@app.task(name="tests.subject_requests.mark_queue_drained")
def mark_queue_drained(name):
    organisation = Organisation.current()
    organisation.name = name
    organisation.save()
    # The solo worker runs every task in its one thread; closing that thread's
    # connection here lets pytest drop the test database afterwards.
    connection.close()


@pytest.mark.redis
def test_celery_task_twice_sends_once(celery_worker_redis, make_request):
    request = make_request(received_at=_received_days_ago(27))
    Organisation.current()

    check_request_deadlines.delay()
    check_request_deadlines.delay()
    # The solo worker runs tasks in order, so once this marker has run both
    # deadline tasks have finished.
    mark_queue_drained.delay("drained")

    assert _wait_for(lambda: Organisation.current().name == "drained")
    assert ReminderSent.objects.filter(request=request).count() == 1
    assert len(mail.outbox) == 1


def test_failed_mail_retried_next_run(make_request, monkeypatch):
    import smtplib

    from apps.subject_requests import deadlines

    request = make_request(received_at=_received_days_ago(27))

    def disconnect(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection closed")

    with monkeypatch.context() as patch:
        patch.setattr(deadlines, "send_mail", disconnect)
        failed = check_deadlines()
    retried = check_deadlines()

    assert failed["reminders_failed"] == 1
    assert retried["reminders_sent"] == 1
    assert ReminderSent.objects.filter(request=request).count() == 1
    assert len(mail.outbox) == 1
