"""Logging filters that keep personal data out of technical logs."""

import logging
import re

QUERY_STRING = re.compile(r"\?\S*")


class StripQueryString(logging.Filter):
    """Remove query strings from request lines before they are logged.

    Searches put names and e-mail addresses in the URL (``/contacts/?q=...``);
    the development server's access log would otherwise keep them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                QUERY_STRING.sub("?…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = QUERY_STRING.sub("?…", record.msg)
        return True


# PostgreSQL's DETAIL line of a failed constraint quotes the row or key values:
# "Failing row contains (2, objection, Hugo Bernard, hugo@...)".
DATABASE_DETAIL = re.compile(r"^(DETAIL:).*$", re.MULTILINE)
DETAIL_REMOVED = r"\1 [removed: it may quote personal data]"


def database_detail_removed(text: str) -> str:
    """Return ``text`` without the values that a database error's DETAIL quotes."""
    return DATABASE_DETAIL.sub(DETAIL_REMOVED, text)


class StripDatabaseDetail(logging.Filter):
    """Remove the DETAIL of database errors from messages and tracebacks.

    psycopg puts the server's DETAIL line in the exception's text, so a failed
    insert on a table of people would log a whole row of personal data.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = database_detail_removed(record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                database_detail_removed(str(arg))
                if isinstance(arg, str | BaseException)
                else arg
                for arg in record.args
            )
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = database_detail_removed(text)
        return True
