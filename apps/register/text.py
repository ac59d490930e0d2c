"""Text clean-up shared by the register's services, import and exports."""


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
