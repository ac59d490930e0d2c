"""Case- and accent-insensitive folding of the contact search text.

``Contact.search_text`` is a generated column built from ``FoldedText``, and
``fold_search_text`` folds the typed fragment the same way in Python, so that
"Émile", "émile" and "emile" find the same rows on both databases:

- PostgreSQL calls ``contacts_fold_text``, an immutable SQL wrapper around
  ``lower(unaccent(...))`` created by migration 0006. A generated column only
  accepts immutable functions, and ``unaccent`` itself is only stable.
- SQLite has no ``unaccent``, and its ``lower()`` changes ASCII letters only,
  so ``register_sqlite_fold_function`` gives every Django connection a
  deterministic ``contacts_fold_text`` that calls ``fold_search_text``. A
  nested ``REPLACE`` per accented letter overflowed SQLite's parser stack.
"""

import re
import unicodedata

from django.db import models

FOLD_FUNCTION = "contacts_fold_text"

# Letters that have no Unicode decomposition into an ASCII letter and a mark.
# The replacements are those of unaccent.rules in PostgreSQL 15.
_LETTERS_WITHOUT_DECOMPOSITION = {
    "Æ": "AE",
    "æ": "ae",
    "Ð": "D",
    "ð": "d",
    "Ø": "O",
    "ø": "o",
    "Þ": "TH",
    "þ": "th",
    "ß": "ss",
    "Đ": "D",
    "đ": "d",
    "Ħ": "H",
    "ħ": "h",
    "ı": "i",
    "ĸ": "q",
    "Ŀ": "L",
    "ŀ": "l",
    "Ł": "L",
    "ł": "l",
    "Ŋ": "N",
    "ŋ": "n",
    "Œ": "OE",
    "œ": "oe",
    "Ŧ": "T",
    "ŧ": "t",
}


def _ascii_letters(character: str) -> str:
    """Return the ASCII letters of a Latin letter, or "" if it has none."""
    if character in _LETTERS_WITHOUT_DECOMPOSITION:
        return _LETTERS_WITHOUT_DECOMPOSITION[character]
    decomposed = unicodedata.normalize("NFKD", character)
    base = "".join(part for part in decomposed if not unicodedata.combining(part))
    if base and base.isascii() and base.isalpha():
        return base
    return ""


def _build_folded_letters() -> dict[str, str]:
    # Latin-1 Supplement and Latin Extended-A (U+00C0 to U+017F) hold the
    # accented letters of French and the other western European languages.
    folded = {}
    for code_point in range(0x00C0, 0x0180):
        character = chr(code_point)
        letters = _ascii_letters(character)
        if letters:
            folded[character] = letters.lower()
    return folded


# Accented letter -> lower-case ASCII letters, for example "É" -> "e".
FOLDED_LETTERS = _build_folded_letters()


def fold_search_text(text: str | None) -> str | None:
    """Fold ``text`` like the ``search_text`` column: no accents, lower case."""
    if text is None:
        return None
    text = unicodedata.normalize("NFC", text)
    return "".join(
        FOLDED_LETTERS.get(character, character) for character in text
    ).lower()


def name_words(text: str) -> set[str]:
    """Return the words of a name, folded like ``search_text``."""
    return set(re.findall(r"\w+", fold_search_text(text or "")))


class FoldedText(models.Func):
    """Lower-case ``text`` and replace accented Latin letters by ASCII letters."""

    function = FOLD_FUNCTION
    output_field = models.TextField()


class EmailLocalPart(models.Func):
    """The part of an e-mail address before the ``@`` ("" for no address)."""

    function = "SPLIT_PART"
    template = "SPLIT_PART(%(expressions)s, '@', 1)"
    output_field = models.TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # SUBSTR(x, 1, -1) returns "" when INSTR finds no "@".
        template = "SUBSTR(%(expressions)s, 1, INSTR(%(expressions)s, '@') - 1)"
        return super().as_sql(compiler, connection, template=template, **extra_context)


def register_sqlite_fold_function(sender, connection, **kwargs):
    """Define ``contacts_fold_text`` on a new SQLite connection.

    Connected to ``connection_created`` in ``ContactsConfig.ready``. NOTE: a
    client outside Django, such as the ``sqlite3`` shell, lacks the function,
    so it cannot insert or update contacts.
    """
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        FOLD_FUNCTION, 1, fold_search_text, deterministic=True
    )
