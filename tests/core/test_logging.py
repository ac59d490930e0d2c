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
    from apps.core.logging import StripPersonalData

    logger = logging.getLogger("tests.detail")
    try:
        with transaction.atomic():
            FormSubmission.objects.create(token=TOKEN)
            FormSubmission.objects.create(token=TOKEN)
    except IntegrityError as error:
        logger.exception("save failed: %s", error)
    record = caplog.records[-1]

    StripPersonalData().filter(record)
    text = logging.Formatter().format(record)

    assert str(TOKEN) not in text
    assert "DETAIL: [removed: it may quote personal data]" in text
    assert "IntegrityError" in text


def test_addresses_and_phones_removed_from_traceback(caplog):
    from apps.core.logging import StripPersonalData

    logger = logging.getLogger("tests.detail")
    try:
        raise ValueError("noemie.inventee@exemple-fictif.fr, 06 12 34 56 78 refused")
    except ValueError:
        logger.exception("export %s failed on 2026-12-05", 12)
    record = caplog.records[-1]

    StripPersonalData().filter(record)
    text = logging.Formatter().format(record)

    assert "noemie" not in text
    assert "06 12 34 56 78" not in text
    assert "[e-mail address removed]" in text
    assert "export 12 failed on 2026-12-05" in text


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("task failed: %(exc)s", ({"exc": "jean.invente@exemple-invente.fr"},)),
        ("values %s", (["jean.invente@exemple-invente.fr"],)),
        ("call %s", ("+33 (0)6 12 34 56 78",)),
        ("call %s", ("0612345678.",)),
    ],
)
def test_personal_data_removed_from_arguments(message, args):
    from apps.core.logging import StripPersonalData

    record = logging.LogRecord("tests", logging.INFO, __file__, 1, message, args, None)

    StripPersonalData().filter(record)
    text = record.getMessage()

    assert "jean.invente" not in text
    assert "12 34 56 78" not in text
    assert "0612345678" not in text


def test_exception_as_message_scrubbed():
    from apps.core.logging import StripPersonalData

    error = ValueError("jean.invente@exemple-invente.fr cannot be used")
    record = logging.LogRecord("tests", logging.ERROR, __file__, 1, error, None, None)

    StripPersonalData().filter(record)

    assert "jean.invente" not in record.getMessage()


def test_unsubscribe_token_left_out_of_request_line():
    from apps.core.logging import StripQueryString

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (
            "POST /contacts/unsubscribe/WzEsIjVmZDM0:1xa0ed:yNlA877s/ HTTP/1.1",
            "200",
            "5",
        ),
        None,
    )

    StripQueryString().filter(record)

    assert record.args[0] == "POST /contacts/unsubscribe/…/ HTTP/1.1"
