"""The clock task run by a real Celery worker on Redis."""

import time
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.core import mail
from django.utils import timezone

from apps.breaches.models import BreachAlert
from apps.breaches.tasks import check_breach_deadlines
from config.celery import app

from .factories import BreachFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _wait_for(condition, *, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_task_path_matches_beat_schedule():
    scheduled = app.conf.beat_schedule["check-breach-deadlines"]["task"]

    assert check_breach_deadlines.name == scheduled


def test_worker_runs_clock_task(celery_worker_redis, settings, organisation):
    settings.DPO_ALERT_EMAILS = ["alerts@example.test"]
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=30))

    finished = []

    def count_run(sender=None, task_id=None, **kwargs):
        if sender is not None and sender.name == check_breach_deadlines.name:
            finished.append(task_id)

    task_postrun.connect(count_run, weak=False)
    try:
        check_breach_deadlines.delay()
        check_breach_deadlines.delay()
        assert _wait_for(lambda: len(finished) == 2)
    finally:
        task_postrun.disconnect(count_run)

    assert BreachAlert.objects.filter(breach=breach).count() == 1
    assert len(mail.outbox) == 1
