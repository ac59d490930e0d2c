import logging
import uuid

import pytest
from django.db import IntegrityError
from django.db import transaction

from apps.core.logging import StripQueryString
from apps.core.models import FormSubmission

TOKEN = uuid.UUID("12345678-1234-5678-1234-567812345678")


def _record(msg, args):
    return logging.LogRecord("django.server", logging.INFO, "", 0, msg, args, None)


def test_query_string_removed_from_request_line():
    record = _record(
        '"%s" %s %s', ("GET /contacts/?q=jean%40example.com HTTP/1.1", "200", "512")
    )

    StripQueryString().filter(record)

    assert "jean" not in record.getMessage()
    assert "/contacts/?…" in record.getMessage()


def test_message_without_query_string_unchanged():
    record = _record('"%s" %s %s', ("GET /contacts/ HTTP/1.1", "200", "512"))

    StripQueryString().filter(record)

    assert record.getMessage() == '"GET /contacts/ HTTP/1.1" 200 512'


@pytest.mark.django_db
def test_database_detail_removed_from_traceback(caplog):
    from apps.core.logging import StripDatabaseDetail

    logger = logging.getLogger("tests.detail")
    try:
        with transaction.atomic():
            FormSubmission.objects.create(token=TOKEN)
            FormSubmission.objects.create(token=TOKEN)
    except IntegrityError as error:
        logger.exception("save failed: %s", error)
    record = caplog.records[-1]

    StripDatabaseDetail().filter(record)
    text = logging.Formatter().format(record)

    assert str(TOKEN) not in text
    assert "DETAIL: [removed: it may quote personal data]" in text
    assert "IntegrityError" in text
