"""The retention task on a real Celery worker with Redis as broker."""

import time

import pytest

from apps.contacts.models import Contact
from apps.core.models import AuditEvent
from apps.retention.models import RetentionRun
from apps.retention.tasks import apply_retention
from apps.retention.tasks import preview_retention
from config.celery import app as celery_app
from tests.retention.factories import ContactFactory

pytestmark = pytest.mark.postgres


def _wait_until(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the worker did not finish the task in time")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_applies_retention_and_previews(
    celery_worker_redis, contact_rule, expired_at, recent_today
):
    due = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    recent = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=recent_today
    )

    # An explicit connection reaches Redis even when an earlier eager test left
    # the app's producer pool on the in-memory broker of the test settings.
    with celery_app.connection_for_write() as broker:
        apply_retention.apply_async(connection=broker)

    _wait_until(
        lambda: RetentionRun.objects.filter(dry_run=True, status="succeeded").exists()
    )
    run = RetentionRun.objects.get(dry_run=False)
    assert run.status == "succeeded"
    assert run.trigger == "schedule"
    assert not Contact.objects.filter(pk=due.pk).exists()
    assert Contact.objects.filter(pk=recent.pk).exists()
    assert AuditEvent.objects.filter(action="retention.run.finished").count() == 1


@pytest.mark.django_db
def test_task_leaves_finished_run_alone(contact_rule):
    run = RetentionRun.objects.create(
        trigger="page", dry_run=True, status="succeeded", as_of="2026-12-04"
    )

    result = preview_retention.run(run_id=run.pk)

    run.refresh_from_db()
    assert result["status"] == "succeeded"
    assert run.steps == []


@pytest.mark.django_db
def test_task_repeated_for_done_run_does_nothing(contact_rule):
    run = RetentionRun.objects.create(
        trigger="page", status="succeeded", as_of="2026-12-04"
    )

    result = apply_retention.run(run_id=run.pk)

    assert result == {"run_id": run.pk, "status": "succeeded"}
    assert RetentionRun.objects.count() == 1


@pytest.mark.django_db
def test_task_reports_missing_run():
    result = apply_retention.run(run_id=999_999)

    assert result == {"run_id": 999_999, "status": "missing"}
