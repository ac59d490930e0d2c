"""The 72-hour deadline is counted in real hours on UTC instants."""

from datetime import UTC
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from apps.breaches.models import Breach
from apps.breaches.services import BreachError
from apps.breaches.services import breach_create

PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.postgres


def _data(aware_at: datetime) -> dict:
    return {
        "title": "Stolen badge reader export",
        "description": "An export of visitor badges was copied.",
        "detected_at": aware_at,
        "aware_at": aware_at,
        "affects_confidentiality": True,
    }


@pytest.mark.parametrize(
    ("local_awareness", "expected_utc", "expected_local"),
    [
        # Spring change: Sunday 29 March 2026 02:00 CET becomes 03:00 CEST.
        (
            datetime(2026, 3, 28, 1, 30, tzinfo=PARIS),
            datetime(2026, 3, 31, 0, 30, tzinfo=UTC),
            "2026-03-31 02:30",
        ),
        # Autumn change: Sunday 25 October 2026 03:00 CEST becomes 02:00 CET.
        (
            datetime(2026, 10, 24, 2, 30, tzinfo=PARIS),
            datetime(2026, 10, 27, 0, 30, tzinfo=UTC),
            "2026-10-27 01:30",
        ),
    ],
)
def test_deadline_across_dst_change(db, local_awareness, expected_utc, expected_local):
    breach = breach_create(data=_data(local_awareness))

    stored = Breach.objects.get(pk=breach.pk)

    assert stored.deadline_at == expected_utc
    assert stored.deadline_at - stored.aware_at == expected_utc - local_awareness
    assert (stored.deadline_at - stored.aware_at).total_seconds() == 72 * 3600
    assert f"{stored.deadline_at.astimezone(PARIS):%Y-%m-%d %H:%M}" == expected_local


def test_aware_at_stored_in_utc(db):
    breach = breach_create(data=_data(datetime(2026, 3, 28, 1, 30, tzinfo=PARIS)))

    stored = Breach.objects.get(pk=breach.pk)

    assert stored.aware_at.utcoffset().total_seconds() == 0
    assert stored.aware_at == datetime(2026, 3, 28, 0, 30, tzinfo=UTC)


def test_service_rejects_naive_awareness(db):
    data = _data(datetime(2026, 3, 28, 1, 30, tzinfo=PARIS))
    data["aware_at"] = data["aware_at"].replace(tzinfo=None)

    with pytest.raises(BreachError, match="aware_at=2026-03-28T01:30:00 has no time"):
        breach_create(data=data)


def _form_data(aware_at: str) -> dict:
    return {
        "title": "Misdirected prospect file",
        "description": "A prospect file was sent to a wrong address.",
        "detected_at": aware_at,
        "aware_at": aware_at,
        "affects_confidentiality": "on",
        "risk_level": Breach.RiskLevel.RISK,
        "notification_decision": Breach.NotificationDecision.PENDING,
    }


def test_form_reads_local_time_stores_utc(client_for, dpo):
    client = client_for(dpo)

    response = client.post(
        reverse("breaches:breach-create"), _form_data("2026-03-28T01:30")
    )

    breach = Breach.objects.get()
    assert response.status_code == 302
    assert breach.aware_at == datetime(2026, 3, 28, 0, 30, tzinfo=UTC)
    assert breach.deadline_at == datetime(2026, 3, 31, 0, 30, tzinfo=UTC)


def test_form_rejects_skipped_local_time(client_for, dpo):
    client = client_for(dpo)

    # 02:30 on 29 March 2026 does not exist in Europe/Paris: clocks jump to 03:00.
    response = client.post(
        reverse("breaches:breach-create"), _form_data("2026-03-29T02:30")
    )

    assert response.status_code == 200
    assert "aware_at" in response.context["form"].errors
    message = str(response.context["form"].errors["aware_at"])
    assert "29/03/2026 02:30" in message
    assert "clocks went forward" in message
    assert not Breach.objects.exists()


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-(71 * 3600 + 59 * 60), "overdue by 71 h 59 min"),
        (-72 * 3600, "overdue by 3 d 0 h 00 min"),
        (-(937 * 3600 + 55 * 60), "overdue by 39 d 1 h 55 min"),
        (5 * 3600 + 7 * 60, "5 h 07 min left"),
    ],
)
def test_time_left_in_days_from_72_hours(seconds, expected):
    from apps.breaches.clock import time_left_text

    assert time_left_text(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (8 * 3600, "notified 8 h 00 min late"),
        (30 * 24 * 3600 + 90 * 60, "notified 30 d 1 h 30 min late"),
    ],
)
def test_notified_late_in_days_from_72_hours(seconds, expected):
    from apps.breaches.clock import notified_late_text

    assert notified_late_text(seconds) == expected


def test_form_rejects_description_over_limit(client_for, dpo):
    data = _form_data("2026-03-28T01:30") | {"description": "x" * 10_001}

    response = client_for(dpo).post(
        reverse("breaches:breach-create"), data, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert "at most 10000 characters" in str(
        response.context["form"].errors["description"]
    )
    assert not Breach.objects.exists()


def test_form_rejects_year_one(client_for, dpo):
    response = client_for(dpo).post(
        reverse("breaches:breach-create"),
        _form_data("0001-01-01T00:00"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "1900 or later" in str(response.context["form"].errors["aware_at"])
