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
