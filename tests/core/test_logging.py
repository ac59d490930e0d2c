import logging

from apps.core.logging import StripQueryString


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
