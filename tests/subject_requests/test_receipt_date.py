"""Checks on a request's receipt time: GDPR start, clock changes, future."""

import datetime

import pytest
from django.urls import reverse

from apps.subject_requests.dates import GDPR_APPLIES_FROM
from apps.subject_requests.models import SubjectRequest

pytestmark = pytest.mark.postgres


def _post(client, received_at: str, language: str = "en"):
    return client.post(
        reverse("subject_requests:request-create"),
        {
            "kind": "access",
            "channel": "letter",
            "requester_name": "Alix Exemple",
            "requester_email": "alix@example.com",
            "received_at": received_at,
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_gdpr_start_is_25_may_2018():
    assert datetime.date(2018, 5, 25) == GDPR_APPLIES_FROM


def test_receipt_in_1900_rejected(client_for, dpo):
    response = _post(client_for(dpo), "1900-01-01T00:00")

    assert response.status_code == 200
    errors = response.context["form"].errors["received_at"]
    assert len(errors) == 1
    assert "1 January 1900, 00:00" in errors[0]
    assert "25 May 2018" in errors[0]
    assert "GDPR" in errors[0]
    assert "Enter when the request arrived" in errors[0]
    assert not SubjectRequest.objects.exists()


def test_receipt_before_gdpr_rejected_in_french(client_for, dpo):
    response = _post(client_for(dpo), "1900-01-01T00:00", language="fr")

    errors = response.context["form"].errors["received_at"]
    assert "1er janvier 1900" in errors[0]
    assert "25 mai 2018" in errors[0]
    assert "RGPD" in errors[0]
    assert not SubjectRequest.objects.exists()


def test_receipt_minute_before_gdpr_rejected(client_for, dpo):
    response = _post(client_for(dpo), "2018-05-24T23:59")

    assert "received_at" in response.context["form"].errors
    assert not SubjectRequest.objects.exists()


def test_receipt_on_gdpr_start_accepted(client_for, dpo):
    # Midnight in Paris is still 24 May in UTC: the day counts in Paris time.
    response = _post(client_for(dpo), "2018-05-25T00:00")

    assert response.status_code == 302
    created = SubjectRequest.objects.get()
    assert created.received_on == datetime.date(2018, 5, 25)
    assert created.due_on == datetime.date(2018, 6, 25)


def test_receipt_at_skipped_time_rejected(client_for, dpo):
    # Clocks in Paris went from 02:00 to 03:00 on 29 March 2026.
    response = _post(client_for(dpo), "2026-03-29T02:30")

    assert response.status_code == 200
    errors = response.context["form"].errors["received_at"]
    assert "Europe/Paris" in errors[0]
    assert not SubjectRequest.objects.exists()


def test_receipt_at_repeated_time_reads_first(client_for, dpo):
    # Clocks in Paris went back from 03:00 to 02:00 on 25 October 2026.
    response = _post(client_for(dpo), "2026-10-25T02:30")

    created = SubjectRequest.objects.get()
    assert response.status_code == 302
    assert created.received_at == datetime.datetime(
        2026, 10, 25, 0, 30, tzinfo=datetime.UTC
    )


def test_receipt_in_future_still_rejected(client_for, dpo):
    response = _post(client_for(dpo), "2999-01-01T10:00")

    assert response.status_code == 200
    assert b"is in the future" in response.content
    assert not SubjectRequest.objects.exists()


def test_service_rejects_receipt_before_gdpr(db):
    from apps.subject_requests.services import RequestError
    from apps.subject_requests.services import request_create

    received_at = datetime.datetime(1900, 1, 1, 12, tzinfo=datetime.UTC)

    with pytest.raises(RequestError, match="before .* when the GDPR began to apply"):
        request_create(
            kind="access",
            channel="letter",
            requester_name="Alix Exemple",
            requester_email="alix@example.com",
            received_at=received_at,
        )

    assert not SubjectRequest.objects.exists()
