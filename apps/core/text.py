"""Text clean-up shared by the apps."""

import re

from django.utils.translation import gettext

# CRLF, a bare CR, and the vertical tab or form feed that Word writes for a
# line break (Shift+Enter) or a page break in pasted text.
_LINE_BREAK = re.compile(r"\r\n?|[\x0b\x0c]")


# The C0 control characters that XML 1.0, and so XLSX and ODS, cannot hold:
# all but tab, line feed and carriage return, and NUL, which the register
# import reports and the forms reject.
_XML_INVALID_CONTROLS = re.compile(r"[\x01-\x08\x0e-\x1f]")


def newlines_unified(text: str) -> str:
    """Return ``text`` with every kind of line break written as LF, without the
    other control characters.

    Browsers submit textarea content with CRLF line breaks, CSV files may use
    CRLF or the bare CR of old Mac programs, text pasted from Word carries
    vertical tabs, and spreadsheet cells use LF. The register stores LF only,
    so the same text compares equal whatever its source. Other control
    characters, such as ESC pasted from a terminal, are invisible and the
    spreadsheet exports cannot write them, so they are dropped.
    """
    return _XML_INVALID_CONTROLS.sub("", _LINE_BREAK.sub("\n", text))


def text_excerpt(text: str, length: int = 60) -> str:
    """Return the repr of ``text``, cut to about ``length`` characters.

    The repr shows control characters such as NUL as escapes (``\\x00``), so a
    message can name a value that a page could not display as it is.
    """
    if len(text) > length:
        text = text[:length] + "…"
    return repr(text)


def text_shortened(text: str, length: int = 80) -> str:
    """Return ``text`` on one line, cut to ``length`` characters with "…"."""
    text = " ".join(text.split())
    if len(text) > length:
        return text[: length - 1] + "…"
    return text


def labelled(label, text) -> str:
    """Return "label: text" with the space that French puts before the colon."""
    return gettext("%(label)s: %(text)s") % {"label": label, "text": text}
