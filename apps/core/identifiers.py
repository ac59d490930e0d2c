"""Normalisation and keyed hashing of personal identifiers.

The normalised form is the matching key: two spellings of one address or number
give the same string, and so the same suppression hash.
"""

import hashlib
import hmac
import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError
from email_validator import validate_email

# French overseas departments and collectivities have their own country codes
# (+262, +590, +594, +596, +508). French users still write their numbers in the
# 10-digit national form 0692..., 0690..., so such a number invalid for FR is
# tried in these regions before it is rejected.
FRENCH_OVERSEAS_REGIONS = ("RE", "YT", "GP", "BL", "MF", "GF", "MQ", "PM")

# Invisible formatting characters that copies from web pages and word
# processors leave in an address: soft hyphen, Arabic letter mark, Mongolian
# vowel separator, zero-width spaces and joiners, direction marks, embeddings
# and isolates, the word joiner and the byte-order mark. No address contains
# them, and one left in would let a copy escape the suppression list.
INVISIBLE_CHARACTERS = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


class InvalidIdentifier(ValueError):
    """An e-mail address or phone number that cannot be normalised."""


def normalize_email(value: str) -> str:
    """Return the matching form of an e-mail address.

    Drops invisible formatting characters (``INVISIBLE_CHARACTERS``), trims,
    applies Unicode NFKC and lower-cases the whole address: mailbox
    providers treat local parts case-insensitively in practice, and matching
    must not let ``Jean.Dupont@`` escape a suppression of ``jean.dupont@``.
    NFKC also turns full-width letters (ｊｅａｎ@) into ASCII ones, so such a
    copy does not escape it either. Accented local parts (SMTPUTF8) are
    accepted. No DNS lookup is made.
    """
    text = INVISIBLE_CHARACTERS.sub("", value or "")
    text = unicodedata.normalize("NFKC", text.strip()).lower()
    if not text:
        raise InvalidIdentifier(
            _("The e-mail address is empty. Enter one such as name@company.com.")
        )
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        # Callers read the library's error from ``__cause__``, so keep the chain.
        raise InvalidIdentifier(
            _(
                "“%(value)s” is not a valid e-mail address (%(problem)s). Correct "
                "it so that it reads like name@company.com."
            )
            % {"value": value, "problem": _email_problem(error)}
        ) from error
    return result.normalized.lower()


def _email_problem(error: EmailNotValidError) -> str:
    """Return email-validator's reason in the user's language, as imports word it.

    The import is local because ``apps.imports.normalizers`` imports this module.
    """
    from apps.imports.normalizers import _email_problem as imports_email_problem

    return imports_email_problem(error)


# phonenumbers reads "ext" and "x" as extensions, but not the French "poste".
_FRENCH_EXTENSION = re.compile(r"\s*\bposte\b\.?\s*(?=\d)", re.IGNORECASE)


def normalize_phone(value: str, region: str | None = None) -> str:
    """Return a phone number in E.164 form (``+33612345678``).

    National numbers are read in ``region`` (default ``PHONE_DEFAULT_REGION``).
    A leading ``00`` international prefix and a ``(0)`` trunk prefix after the
    country code are accepted. An extension (``x12``, ``ext. 12``, or
    ``poste 12`` in French) is left out.
    """
    text = (value or "").strip()
    if not text:
        raise InvalidIdentifier(
            _("The phone number is empty. Enter one such as 06 12 34 56 78.")
        )
    region = region or settings.PHONE_DEFAULT_REGION
    cleaned = _FRENCH_EXTENSION.sub(" ext. ", text.replace("(0)", ""))
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidIdentifier(
            _(
                "“%(value)s” is not a phone number (%(problem)s). Write it as "
                "06 12 34 56 78 or +33 6 12 34 56 78."
            )
            % {"value": value, "problem": _phone_problem(error)}
        ) from error
    if not phonenumbers.is_valid_number(number) and region == "FR":
        number = _french_overseas_number(cleaned) or number
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(
            _(
                "“%(value)s” is not a valid phone number for region %(region)s. "
                "Check the digits, or add the country code (+33 for France)."
            )
            % {"value": value, "region": region}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone_problem(error: phonenumbers.NumberParseException) -> str:
    """Return the reason phonenumbers gives, in the user's language."""
    problems = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: _(
            "unknown country code"
        ),
        phonenumbers.NumberParseException.NOT_A_NUMBER: _("too few digits"),
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: _(
            "too few digits after the international prefix"
        ),
        phonenumbers.NumberParseException.TOO_SHORT_NSN: _("too few digits"),
        phonenumbers.NumberParseException.TOO_LONG: _("too many digits"),
    }
    return problems.get(error.error_type, str(error))


def _french_overseas_number(text: str):
    """Return the overseas number that a French 10-digit national form gives.

    A shorter number, such as a French mobile cut to 0612345, is not tried:
    Saint-Pierre-et-Miquelon's 6-digit numbers would accept it.
    """
    digits = "".join(character for character in text if character.isdigit())
    if text.startswith("+") or len(digits) != 10 or not digits.startswith("0"):
        return None
    for overseas in FRENCH_OVERSEAS_REGIONS:
        try:
            number = phonenumbers.parse(text, overseas)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return number
    return None


def identifier_hash(normalized: str) -> str:
    """Return the HMAC-SHA256 (hex) of a normalised identifier."""
    key = settings.IDENTIFIER_HASH_KEY.encode()
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()
