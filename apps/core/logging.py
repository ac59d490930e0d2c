"""Logging filters that keep personal data out of technical logs."""

import logging
import re
from collections.abc import Mapping

QUERY_STRING = re.compile(r"\?\S*")
# The signed token of an unsubscribe link: it never expires, and anyone with it
# can unsubscribe the person.
UNSUBSCRIBE_TOKEN = re.compile(r"(/unsubscribe/)[^/\s?]+")


def request_line_scrubbed(text: str) -> str:
    """Return a request line without its query string and unsubscribe token."""
    text = UNSUBSCRIBE_TOKEN.sub(r"\1…", text)
    return QUERY_STRING.sub("?…", text)


class StripQueryString(logging.Filter):
    """Remove query strings and link tokens from request lines before they are logged.

    Searches put names and e-mail addresses in the URL (``/contacts/?q=...``),
    and unsubscribe links carry a token; the access log would otherwise keep
    them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                request_line_scrubbed(arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = request_line_scrubbed(record.msg)
        return True


# PostgreSQL's DETAIL line of a failed constraint quotes the row or key values:
# "Failing row contains (2, objection, Hugo Bernard, hugo@...)".
DATABASE_DETAIL = re.compile(r"^(DETAIL:).*$", re.MULTILINE)
DETAIL_REMOVED = r"\1 [removed: it may quote personal data]"


# An exception's text may quote the value that caused it, such as openpyxl's
# "<value> cannot be used in worksheets".
EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A national (0...) or international (+..., 00...) number of 9 digits or
# more, with optional single separators. Dates and ids start otherwise.
PHONE_NUMBER = re.compile(r"(?<![\w.])(?:\+|0)\d(?:[ .-]?(?:\(0\))?[ .-]?\d){7,}(?!\w)")


def personal_data_removed(text: str) -> str:
    """Return ``text`` without a database error's DETAIL, e-mail addresses and
    phone numbers.

    NOTE: names cannot be distinguished from other words, so a name quoted in
    an exception's text stays.
    """
    text = DATABASE_DETAIL.sub(DETAIL_REMOVED, text)
    text = EMAIL_ADDRESS.sub("[e-mail address removed]", text)
    return PHONE_NUMBER.sub("[phone number removed]", text)


def _argument_scrubbed(argument):
    """Return a log argument as scrubbed text, unless it is a number or None."""
    if argument is None or isinstance(argument, int | float):
        return argument
    return personal_data_removed(str(argument))


class StripPersonalData(logging.Filter):
    """Remove personal data that errors quote from messages and tracebacks.

    psycopg puts the server's DETAIL line in the exception's text, so a failed
    insert on a table of people would log a whole row of personal data, and
    other libraries quote the value they rejected.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str | BaseException):
            record.msg = personal_data_removed(str(record.msg))
        if isinstance(record.args, Mapping):
            # Celery logs a task's failure with a dict of arguments.
            record.args = {
                key: _argument_scrubbed(value) for key, value in record.args.items()
            }
        elif isinstance(record.args, tuple):
            record.args = tuple(_argument_scrubbed(arg) for arg in record.args)
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = personal_data_removed(text)
        return True
