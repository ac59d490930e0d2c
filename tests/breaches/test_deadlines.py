"""Deadline alerts: each threshold once, across runs, workers and missed runs."""

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.breaches import deadlines
from apps.breaches.deadlines import check_deadlines
from apps.breaches.models import Breach
from apps.breaches.models import BreachAlert
from apps.breaches.models import BreachEvent
from apps.breaches.services import breach_notify_authority
from apps.breaches.services import breach_update
from apps.core.models import AuditEvent

from .factories import BreachFactory

pytestmark = pytest.mark.postgres

ALERT_EMAILS = ["alerts@example.test", "dpo@example.test"]


@pytest.fixture(autouse=True)
def alert_emails(settings, organisation):
    settings.DPO_ALERT_EMAILS = ALERT_EMAILS
    return ALERT_EMAILS


def _alerts(breach) -> dict[str, BreachAlert]:
    return {
        alert.threshold: alert for alert in BreachAlert.objects.filter(breach=breach)
    }


def test_first_threshold_sent_once(db):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=30))

    first = check_deadlines()
    second = check_deadlines()

    assert first["alerts_sent"] == 1
    assert second["alerts_sent"] == 0
    assert len(mail.outbox) == 1
    assert list(_alerts(breach)) == ["48h"]
    assert breach.reference in mail.outbox[0].subject


def test_recipients_are_setting_and_organisation_dpo(db, organisation):
    organisation.dpo_email = "dana.dpo@example.test"
    organisation.save()
    BreachFactory(aware_at=timezone.now() - timedelta(hours=30))

    check_deadlines()

    assert sorted(mail.outbox[0].to) == sorted([*ALERT_EMAILS, "dana.dpo@example.test"])


def test_recipients_deduplicated(db):
    # The organisation's DPO e-mail is also in DPO_ALERT_EMAILS.
    BreachFactory(aware_at=timezone.now() - timedelta(hours=30))

    check_deadlines()

    assert sorted(mail.outbox[0].to) == sorted(ALERT_EMAILS)


def test_each_threshold_sent_once_over_lifetime(db):
    aware_at = timezone.now() - timedelta(hours=1)
    breach = BreachFactory(aware_at=aware_at)
    # Every 30 minutes from awareness to 2 hours past the deadline.
    runs = [aware_at + timedelta(minutes=30 * step) for step in range(74 * 2 + 1)]

    totals = [check_deadlines(now=now)["alerts_sent"] for now in runs]

    alerts = _alerts(breach)
    assert sum(totals) == 4
    assert len(mail.outbox) == 4
    assert sorted(alerts) == ["24h", "48h", "6h", "passed"]
    assert not any(alert.superseded for alert in alerts.values())
    assert "deadline has passed" in mail.outbox[-1].subject


def test_threshold_sent_at_its_time(db):
    aware_at = timezone.now() - timedelta(hours=1)
    breach = BreachFactory(aware_at=aware_at)

    before = check_deadlines(now=aware_at + timedelta(hours=23, minutes=59))
    at = check_deadlines(now=aware_at + timedelta(hours=24))

    assert before["alerts_sent"] == 0
    assert at["alerts_sent"] == 1
    assert list(_alerts(breach)) == ["48h"]


def test_missed_run_sends_most_urgent_only(db):
    now = timezone.now()
    breach = BreachFactory(aware_at=now - timedelta(hours=70))

    counts = check_deadlines(now=now)

    alerts = _alerts(breach)
    assert counts["alerts_sent"] == 1
    assert counts["alerts_superseded"] == 2
    assert len(mail.outbox) == 1
    assert "2 h 00 min left" in mail.outbox[0].subject
    assert alerts["6h"].sent is True
    assert alerts["48h"].superseded is True
    assert alerts["24h"].superseded is True
    assert alerts["48h"].sent is False


def test_missed_run_then_deadline_sends_passed(db):
    aware_at = timezone.now() - timedelta(hours=70)
    breach = BreachFactory(aware_at=aware_at)

    check_deadlines(now=aware_at + timedelta(hours=70))
    counts = check_deadlines(now=aware_at + timedelta(hours=80))

    assert counts["alerts_sent"] == 1
    assert len(mail.outbox) == 2
    assert "passed" in _alerts(breach)


def test_notified_breach_gets_no_alert(db):
    aware_at = timezone.now() - timedelta(hours=30)
    BreachFactory(
        aware_at=aware_at,
        notified_at=aware_at + timedelta(hours=2),
        status=Breach.Status.NOTIFIED,
    )

    counts = check_deadlines()

    assert counts["breaches_checked"] == 0
    assert mail.outbox == []
    assert not BreachAlert.objects.exists()


def test_breach_not_requiring_notification_gets_no_alert(db):
    BreachFactory(
        aware_at=timezone.now() - timedelta(hours=80),
        risk_level=Breach.RiskLevel.NONE,
        notification_decision=Breach.NotificationDecision.NOT_REQUIRED,
        no_notification_reason="Encrypted backup tape, key not lost.",
    )

    check_deadlines()

    assert mail.outbox == []
    assert not BreachAlert.objects.exists()


def test_passed_deadline_marks_late_once(db):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=73))

    first = check_deadlines()
    second = check_deadlines()

    breach.refresh_from_db()
    assert first["marked_late"] == 1
    assert second["marked_late"] == 0
    assert second["breaches_checked"] == 0
    assert breach.late_at is not None
    assert BreachEvent.objects.filter(breach=breach, kind="late").count() == 1


def test_alert_and_lateness_audited(db):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=73))

    check_deadlines()

    events = AuditEvent.objects.filter(target_id=str(breach.pk))
    alerted = events.get(action="breaches.deadline.alerted")
    assert alerted.details["threshold"] == "passed"
    assert alerted.details["superseded"] == ["48h", "24h", "6h"]
    assert events.filter(action="breaches.deadline.passed").count() == 1


def test_later_awareness_restarts_clock(db):
    """GIVEN a breach marked late, with every alert recorded
    WHEN its awareness time is corrected to one hour ago
    THEN it is no longer late and each alert is sent again at its time.
    """
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=80))
    check_deadlines()
    aware_at = timezone.now() - timedelta(hours=1)

    breach_update(
        breach=breach,
        data={"detected_at": aware_at, "aware_at": aware_at},
        aware_at_change_reason="The first alert came from a test system.",
    )
    breach.refresh_from_db()
    now_counts = check_deadlines()
    later_counts = check_deadlines(now=aware_at + timedelta(hours=25))

    assert breach.late_at is None
    assert now_counts["alerts_sent"] == 0
    assert later_counts["alerts_sent"] == 1
    assert set(_alerts(breach)) == {"48h"}


def test_later_awareness_sends_skipped_alert(db):
    """GIVEN a late breach whose 48 h, 24 h and 6 h alerts were superseded
    WHEN its awareness time moves to 70 hours ago
    THEN the next run sends the 6 h alert, which was never sent.
    """
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=80))
    check_deadlines()
    aware_at = timezone.now() - timedelta(hours=70)

    breach_update(
        breach=breach,
        data={"detected_at": aware_at, "aware_at": aware_at},
        aware_at_change_reason="The awareness time was typed a day early.",
    )
    mail.outbox.clear()
    counts = check_deadlines()

    alerts = _alerts(breach)
    assert counts["alerts_sent"] == 1
    assert alerts["6h"].sent is True
    assert alerts["6h"].superseded is False
    assert "passed" not in alerts
    assert len(mail.outbox) == 1


def test_no_recipient_records_alert_without_mail(db, settings, organisation):
    settings.DPO_ALERT_EMAILS = []
    organisation.dpo_email = ""
    organisation.save()
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=30))

    counts = check_deadlines()

    assert counts["alerts_without_recipient"] == 1
    assert mail.outbox == []
    assert _alerts(breach)["48h"].sent is False


def test_mail_failure_rolls_back_and_retries(db, monkeypatch):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=30))

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server refused the connection")

    monkeypatch.setattr(deadlines, "send_mail", refuse)
    failed = check_deadlines()
    monkeypatch.undo()
    retried = check_deadlines()

    assert failed["failed"] == 1
    assert retried["alerts_sent"] == 1
    assert list(_alerts(breach)) == ["48h"]
    assert len(mail.outbox) == 1


def test_two_workers_at_once_send_once(transactional_db):
    """GIVEN a breach with its 48-hour alert due
    WHEN two runs start together, each in its own thread and connection
    THEN the alert is recorded and e-mailed once.
    """
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=30))
    now = timezone.now()
    barrier = threading.Barrier(2)
    results = []
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(check_deadlines(now=now))
        except Exception as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(result["alerts_sent"] for result in results) == [0, 1]
    assert BreachAlert.objects.filter(breach=breach).count() == 1
    assert len(mail.outbox) == 1


def test_check_deadlines_command_reports_breaches(db):
    BreachFactory(aware_at=timezone.now() - timedelta(hours=30))
    output = StringIO()

    call_command("check_deadlines", stdout=output)

    summary = json.loads(output.getvalue())
    assert summary["breaches"]["alerts_sent"] == 1


def test_notified_during_run_gets_no_alert(db):
    """GIVEN a breach read by the clock job with its 48-hour alert due
    WHEN the notification is recorded before the job claims the alert
    THEN the job sends nothing for it.
    """
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=30))
    stale = Breach.objects.get(pk=breach.pk)
    breach_notify_authority(breach=breach, phase="initial", submitted_at=timezone.now())
    counts = deadlines.empty_counts()

    deadlines._process_breach(
        breach=stale, now=timezone.now(), recipients=ALERT_EMAILS, counts=counts
    )

    assert counts["skipped_notified"] == 1
    assert mail.outbox == []
    assert not BreachAlert.objects.exists()


def test_alert_mail_carries_no_title(db, settings):
    settings.SITE_URL = "http://127.0.0.1:8012"
    # Recorded before titles were checked, so the factory bypasses the check.
    breach = BreachFactory(
        aware_at=timezone.now() - timedelta(hours=30),
        title=(
            "Perte du portable de Jean Exemple "
            "(jean.exemple@example.com, 06 12 34 56 78)"
        ),
    )

    check_deadlines()

    message = mail.outbox[0]
    for text in (message.subject, message.body):
        assert "Jean Exemple" not in text
        assert "jean.exemple@example.com" not in text
        assert "06 12 34 56 78" not in text
        assert "Perte du portable" not in text
    assert f"Breach: {breach.reference}, status: open" in message.body
    assert "The deadline to notify the supervisory authority is" in message.body
    assert f"http://127.0.0.1:8012/breaches/{breach.pk}/" in message.body


def test_command_warns_without_site_url(db, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("SITE_URL", raising=False)
    errors = StringIO()

    call_command("check_deadlines", stdout=StringIO(), stderr=errors)

    assert "SITE_URL is not set" in errors.getvalue()
    assert settings.SITE_URL in errors.getvalue()


@pytest.mark.parametrize(
    ("site_url", "debug"),
    [("https://registre.example.com", False), ("", True)],
)
def test_command_quiet_with_site_url_or_debug(
    db, settings, monkeypatch, site_url, debug
):
    settings.DEBUG = debug
    if site_url:
        monkeypatch.setenv("SITE_URL", site_url)
    else:
        monkeypatch.delenv("SITE_URL", raising=False)
    errors = StringIO()

    call_command("check_deadlines", stdout=StringIO(), stderr=errors)

    assert errors.getvalue() == ""
