import datetime
from zoneinfo import ZoneInfo

import pytest

from apps.subject_requests.dates import due_date
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import RequestError
from apps.subject_requests.services import request_extend

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("received_on", "expected"),
    [
        (datetime.date(2027, 1, 31), datetime.date(2027, 2, 28)),
        (datetime.date(2028, 1, 31), datetime.date(2028, 2, 29)),
        (datetime.date(2028, 1, 30), datetime.date(2028, 2, 29)),
        (datetime.date(2027, 3, 31), datetime.date(2027, 4, 30)),
        (datetime.date(2027, 12, 15), datetime.date(2028, 1, 15)),
        (datetime.date(2028, 2, 29), datetime.date(2028, 3, 29)),
    ],
)
def test_due_date_one_month(received_on, expected):
    assert due_date(received_on) == expected


def test_due_date_extension_capped():
    received_on = datetime.date(2027, 11, 30)

    assert due_date(received_on, extension_months=2) == datetime.date(2028, 2, 29)
    with pytest.raises(ValueError, match="extension_months=3"):
        due_date(received_on, extension_months=3)


@pytest.mark.postgres
def test_receipt_counts_in_paris_time(make_request):
    # 23:30 UTC on 31 January is already 1 February in Paris.
    received_at = datetime.datetime(2026, 1, 31, 23, 30, tzinfo=datetime.UTC)

    request = make_request(received_at=received_at)

    assert request.received_on == datetime.date(2026, 2, 1)
    assert request.due_on == datetime.date(2026, 3, 1)


@pytest.mark.postgres
def test_receipt_on_31_january_due_end_february(make_request):
    received_at = datetime.datetime(2026, 1, 31, 10, 0, tzinfo=PARIS)

    request = make_request(received_at=received_at)

    assert request.due_on == datetime.date(2026, 2, 28)
    assert request.initial_due_on == datetime.date(2026, 2, 28)


@pytest.mark.postgres
def test_extension_capped_at_three_months(make_request, dpo):
    received_at = datetime.datetime(2026, 1, 31, 10, 0, tzinfo=PARIS)
    request = make_request(received_at=received_at)
    within_first_month = datetime.datetime(2026, 2, 20, 12, 0, tzinfo=PARIS)

    request_extend(
        request=request,
        months=1,
        reason="Many lists",
        informed_on=within_first_month.date(),
        informed_by="email",
        actor=dpo,
        now=within_first_month,
    )
    assert request.due_on == datetime.date(2026, 3, 31)
    request_extend(
        request=request,
        months=1,
        reason="Archives",
        informed_on=within_first_month.date(),
        informed_by="letter",
        actor=dpo,
        now=within_first_month,
    )
    assert request.due_on == datetime.date(2026, 4, 30)

    with pytest.raises(RequestError, match="of the 2 months allowed"):
        request_extend(
            request=request,
            months=1,
            reason="More",
            informed_on=within_first_month.date(),
            informed_by="email",
            actor=dpo,
            now=within_first_month,
        )
    request.refresh_from_db()
    assert request.due_on == datetime.date(2026, 4, 30)
    assert request.extension_months == 2


@pytest.mark.postgres
def test_extension_after_first_month_rejected(make_request, dpo):
    received_at = datetime.datetime(2026, 1, 31, 10, 0, tzinfo=PARIS)
    request = make_request(received_at=received_at)
    too_late = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=PARIS)

    with pytest.raises(RequestError, match="first month ended on 28 February 2026"):
        request_extend(
            request=request,
            months=1,
            reason="Late",
            informed_on=too_late.date(),
            informed_by="email",
            actor=dpo,
            now=too_late,
        )


@pytest.mark.postgres
def test_extension_recorded_late_accepted(make_request, dpo):
    """GIVEN a person informed of the extension within the first month,
    WHEN the DPO records it after that month, THEN it is accepted."""
    received_at = datetime.datetime(2026, 1, 31, 10, 0, tzinfo=PARIS)
    request = make_request(received_at=received_at)
    recorded_late = datetime.datetime(2026, 3, 3, 9, 0, tzinfo=PARIS)

    request_extend(
        request=request,
        months=1,
        reason="Many lists",
        informed_on=datetime.date(2026, 2, 27),
        informed_by="email",
        actor=dpo,
        now=recorded_late,
    )

    assert request.due_on == datetime.date(2026, 3, 31)


@pytest.mark.postgres
def test_extension_needs_reason(make_request, dpo):
    request = make_request()

    with pytest.raises(RequestError, match="reason for the extension"):
        request_extend(
            request=request,
            months=1,
            reason="  ",
            informed_on=request.received_on,
            informed_by="email",
            actor=dpo,
        )


def _extend_informed(request, dpo, *, informed_on, informed_by="email", now=None):
    return request_extend(
        request=request,
        months=1,
        reason="Many lists",
        informed_on=informed_on,
        informed_by=informed_by,
        actor=dpo,
        now=now,
    )


@pytest.mark.postgres
def test_extension_records_notice(make_request, dpo):
    request = make_request(
        received_at=datetime.datetime(2026, 1, 31, 10, 0, tzinfo=PARIS)
    )
    now = datetime.datetime(2026, 2, 20, 12, 0, tzinfo=PARIS)

    _extend_informed(
        request,
        dpo,
        informed_on=datetime.date(2026, 2, 19),
        informed_by="letter",
        now=now,
    )

    request.refresh_from_db()
    event = request.events.get(action="extended")
    assert request.extension_informed_on == datetime.date(2026, 2, 19)
    assert request.extension_informed_by == "letter"
    assert event.details["informed_on"] == "2026-02-19"
    assert event.details["informed_by"] == "letter"


NOTICE_ERRORS = [
    (datetime.date(2026, 1, 30), "before the request was received"),
    (datetime.date(2026, 2, 21), "is in the future"),
]


@pytest.mark.postgres
@pytest.mark.parametrize(("informed_on", "message"), NOTICE_ERRORS)
def test_extension_notice_date_checked(make_request, dpo, informed_on, message):
    request = make_request(
        received_at=datetime.datetime(2026, 1, 31, 10, 0, tzinfo=PARIS)
    )
    now = datetime.datetime(2026, 2, 20, 12, 0, tzinfo=PARIS)

    with pytest.raises(RequestError, match=message):
        _extend_informed(request, dpo, informed_on=informed_on, now=now)

    request.refresh_from_db()
    assert request.extension_months == 0


@pytest.mark.postgres
def test_extension_notice_channel_checked(make_request, dpo):
    request = make_request()

    with pytest.raises(RequestError, match="'pigeon'"):
        _extend_informed(
            request, dpo, informed_on=request.received_on, informed_by="pigeon"
        )


@pytest.mark.postgres
def test_database_rejects_due_before_receipt(make_request):
    from django.db import IntegrityError
    from django.db import transaction

    request = make_request()

    with pytest.raises(IntegrityError), transaction.atomic():
        SubjectRequest.objects.filter(pk=request.pk).update(
            initial_due_on=request.received_on, due_on=request.received_on
        )
