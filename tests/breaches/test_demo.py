"""The demo data: one open breach whose clock alerts, one closed."""

from io import StringIO

import pytest
from django.core import mail

from apps.breaches.deadlines import check_deadlines
from apps.breaches.demo import seed_demo
from apps.breaches.models import Breach

from .factories import ActivityFactory

pytestmark = pytest.mark.postgres


def test_seed_twice_creates_two_breaches(db):
    activity = ActivityFactory(reference="TRT-001")

    seed_demo(password="demo", stdout=StringIO())
    seed_demo(password="demo", stdout=StringIO())

    open_breach = Breach.objects.get(status=Breach.Status.OPEN)
    closed_breach = Breach.objects.get(status=Breach.Status.CLOSED)
    assert list(open_breach.activities.all()) == [activity]
    assert closed_breach.notified_at is not None
    assert Breach.objects.count() == 2


def test_demo_clock_sends_first_alert(db, settings, organisation):
    settings.DPO_ALERT_EMAILS = []
    seed_demo(password="demo", stdout=StringIO())

    counts = check_deadlines()

    assert counts["alerts_sent"] == 1
    assert mail.outbox[0].to == ["dpo@example.test"]
