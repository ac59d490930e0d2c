"""Normalising and validating the values of one row.

E-mail addresses and phone numbers have a fast path for their common forms
and fall back to ``apps.core.identifiers`` (email-validator, phonenumbers) for
everything else. The fast path accepts only values that the libraries accept
too, and returns the same normalised form; ``tests/imports/test_normalizers.py``
compares both on generated values. Every ``*_error`` message names the problem
but never repeats the value, because row reasons must not hold personal data.
"""

import contextlib
import datetime
import functools
import logging
import re
import unicodedata
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from email_validator import EmailNotValidError
from email_validator import validate_email

from apps.core.exports import neutralize_formula
from apps.core.identifiers import INVISIBLE_CHARACTERS
from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import normalize_phone
from apps.imports.phone_country_names import COUNTRY_NAMES as PHONE_COUNTRY_NAMES
from apps.imports.phone_country_names import FORMER_NAMES as PHONE_COUNTRY_FORMER_NAMES

logger = logging.getLogger(__name__)


class InvalidValue(ValueError):
    """A cell value that cannot be used; the message names the problem only."""


_EMAIL_FAST = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}))"
)
_EMAIL_FAST_LATIN = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~\u00e0-\u00f6\u00f8-\u00ff-]+"
    r"(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~\u00e0-\u00f6\u00f8-\u00ff-]+)*"
    r"@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}))"
)
_SPECIAL_USE_TLDS = frozenset(SPECIAL_USE_DOMAIN_NAMES)

# Local parts that name a role or a company mailbox, not a person. Several
# people may share one, so such addresses never merge contacts on their own.
GENERIC_LOCAL_PARTS = frozenset(
    [
        "accueil",
        "admin",
        "administration",
        "bonjour",
        "billing",
        "commercial",
        "commande",
        "communication",
        "compta",
        "comptabilite",
        "contact",
        "contacts",
        "direction",
        "facturation",
        "hello",
        "hr",
        "info",
        "infos",
        "information",
        "informations",
        "jobs",
        "mail",
        "marketing",
        "newsletter",
        "no-reply",
        "noreply",
        "office",
        "postmaster",
        "reception",
        "recrutement",
        "rh",
        "sales",
        "secretariat",
        "service",
        "serviceclient",
        "support",
        "team",
        "vente",
        "ventes",
        "webmaster",
    ]
)


def email_normalize(value: str) -> str:
    """Return the matching form of an e-mail address, or raise ``InvalidValue``.

    The result equals ``apps.core.identifiers.normalize_email`` for every
    input. Plain ASCII addresses skip email-validator: they only need the
    lower-casing that normalize_email applies after validation.
    """
    text = value.strip()
    if text.isascii():
        lowered = text.lower()
        match = _EMAIL_FAST.fullmatch(lowered)
        if (
            match
            and len(lowered) <= 254
            and lowered.index("@") <= 64
            and "--" not in match.group(1)
            and match.group(2) not in _SPECIAL_USE_TLDS
        ):
            return lowered
    else:
        text = INVISIBLE_CHARACTERS.sub("", text).strip()
        lowered = unicodedata.normalize("NFKC", text).lower()
        match = _EMAIL_FAST_LATIN.fullmatch(lowered)
        # Accented French local parts (inès.dupont@) are common in vendor
        # files. email-validator accepts short ones with Latin-1 letters and
        # an ASCII domain unchanged, so they skip it too.
        if (
            match
            and len(lowered) <= 100
            and lowered.index("@") <= 32
            and "--" not in match.group(1)
            and match.group(2) not in _SPECIAL_USE_TLDS
        ):
            return lowered
    return _email_normalize_slow(text)


def email_normalize_for_import(value: str) -> str:
    """Return the matching form of an address that may be imported.

    Raises ``InvalidValue`` as ``email_normalize`` does, and also for a
    ``mailto:`` link and for a valid address that starts with ``=``, ``+`` or
    ``-``. Spreadsheet programs read
    such a cell as a formula, so ``apps.core.exports`` writes it with a
    leading apostrophe, and no mailer can use the address in a campaign file.
    ``email_normalize`` itself accepts such addresses, because the erasure of
    uploaded files must still find them.
    """
    if value.strip()[:7].lower() == "mailto:":
        raise InvalidValue(
            _(
                "starts with “mailto:”, the prefix of a web link; keep only the "
                "address after it"
            )
        )
    email = email_normalize(value)
    if neutralize_formula(email) != email:
        raise InvalidValue(
            _(
                "starts with “%(character)s”, which spreadsheet programs read as "
                "the start of a formula, so no campaign file could carry this "
                "address"
            )
            % {"character": email[0]}
        )
    return email


def _email_normalize_slow(text: str) -> str:
    normalized = unicodedata.normalize("NFKC", text).lower()
    if not normalized:
        raise InvalidValue(_("empty e-mail address"))
    try:
        result = validate_email(
            normalized, check_deliverability=False, allow_smtputf8=True
        )
    except EmailNotValidError as error:
        raise InvalidValue(
            _("not a valid e-mail address (%(problem)s)")
            % {"problem": _email_problem(error)}
        ) from error
    return result.normalized.lower()


def _email_problems() -> list[tuple[str, str]]:
    """Return email-validator's messages (2.x, English) and the reason to show.

    A message not listed is shown as the library wrote it.
    """
    return [
        ("must have an @-sign", _("no @ sign")),
        ("something before the @-sign", _("nothing before the @ sign")),
        ("something after the @-sign", _("nothing after the @ sign")),
        ("should have a period", _("no dot in the domain after the @ sign")),
        ("two periods in a row", _("two dots in a row")),
        ("special-use or reserved name", _("a reserved domain that takes no mail")),
        ("period immediately", _("a dot next to the @ sign or at an end")),
        ("cannot start with a period", _("a dot next to the @ sign or at an end")),
        ("cannot end with a period", _("a dot next to the @ sign or at an end")),
        ("hyphen immediately", _("a hyphen next to the @ sign or a dot")),
        ("cannot start with a hyphen", _("a hyphen next to the @ sign or a dot")),
        ("cannot end with a hyphen", _("a hyphen next to the @ sign or a dot")),
        ("period and a hyphen next to each other", _("a dot next to a hyphen")),
        ("too long", _("too long for an e-mail address")),
        (
            "not within a valid top-level domain",
            _("a domain ending that does not exist"),
        ),
        ("can't be anything after the email address", _("text after the address")),
        (
            "display name and angle brackets",
            _("a name and angle brackets around the address; keep only the address"),
        ),
        ("not valid IDNA", _("a domain that is not a valid international name")),
        ("Quoting the part before", _("quotation marks before the @ sign")),
        ("bracketed IP address", _("an IP address instead of a domain")),
    ]


# email-validator 2.x lists the characters after the first colon, each
# quoted (':') or named (SPACE), so the list may contain a quoted colon.
_INVALID_CHARACTERS = re.compile(
    r".*?(?:invalid|unsafe) characters?[^:]*: (.+?)\.?", re.S
)


def _email_problem(error: EmailNotValidError) -> str:
    text = str(error)
    for fragment, reason in _email_problems():
        if fragment in text:
            return reason
    match = _INVALID_CHARACTERS.fullmatch(text)
    if match and "unsafe" in text:
        reason = _("invisible or unsafe characters: %(characters)s")
        return reason % {"characters": _code_points(match.group(1))}
    elif match and "before the @-sign" in text:
        reason = _("invalid characters before the @ sign: %(characters)s")
    elif match and "after the @-sign" in text:
        reason = _("invalid characters after the @ sign: %(characters)s")
    elif match:
        reason = _("invalid characters: %(characters)s")
    else:
        # A message added by a later email-validator, in English: the page
        # shows a reason in the user's language instead.
        logger.info("email-validator message without a translation: %s", text)
        return _("not in the form name@company.com")
    return reason % {"characters": match.group(1)}


# An address with a display name, as mail programs copy it: "Jules Garnier
# <jules@example.com>". The name may not contain "@" or an angle bracket,
# so the address inside the brackets is the only address in the value.
_DISPLAY_NAME_FORM = re.compile(r"\s*[^<>@]*?\s*<([^<>]+)>\s*")


def _code_points(names: str) -> str:
    """Return "U+200B" for "ZERO WIDTH SPACE", and so on, in a list of names.

    email-validator names the characters in English; a code point reads the
    same in every language. A name Python does not know stays as it is.
    """
    points = []
    for name in names.split(", "):
        try:
            points.append(f"U+{ord(unicodedata.lookup(name)):04X}")
        except KeyError:
            points.append(name)
    return ", ".join(points)


def email_without_subaddress(email: str) -> str:
    """Return a normalised address without its sub-address: "a+promo@x" -> "a@x".

    Mail providers deliver "name+anything@domain" to "name@domain", so a
    person who objected under one may come back under the other.
    """
    local, at, domain = email.rpartition("@")
    base, plus, _tag = local.partition("+")
    if not at or not plus or not base:
        return email
    return f"{base}@{domain}"


def email_display_name_remove(value: str) -> str | None:
    """Return the address of a ``Name <address>`` value, or None for another form."""
    match = _DISPLAY_NAME_FORM.fullmatch(value)
    return match.group(1) if match else None


def email_candidates(value: str) -> list[str]:
    """Return the valid addresses that a cell the import rejects may still hold.

    The suppression check reads them, so that a person who objected stays
    hidden when a vendor writes the address as a ``mailto:`` link, with a
    final full stop, with a name in angle brackets or beside another address.
    """
    text = value.strip()
    if text[:7].lower() == "mailto:":
        # A mailto link may end with a query: ?subject=...
        text = text[7:].split("?", 1)[0]
    candidates = []
    for segment in re.split(r"[,;/|]+", text):
        found = []
        for part in segment.split():
            part = email_display_name_remove(part) or part
            part = part.strip("<>").rstrip(".")
            with contextlib.suppress(InvalidValue):
                found.append(email_normalize(part))
        if not found and segment.count("@") == 1:
            # An address typed with spaces around its dots and at sign.
            with contextlib.suppress(InvalidValue):
                found.append(email_normalize("".join(segment.split())))
        candidates.extend(found)
    return candidates


def email_is_generic(email: str) -> bool:
    return email.split("@", 1)[0] in GENERIC_LOCAL_PARTS


@lru_cache(maxsize=64)
def _phone_fast_rule(region: str):
    """Return (country code, national length, compiled pattern) or None.

    Only regions whose country code belongs to them alone and whose national
    prefix is a plain ``0`` get a fast path (France, Belgium, Switzerland...).
    The pattern is the union of the metadata's number types, anchored by the
    general pattern, which is how phonenumbers decides validity.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix_for_parsing not in ("0", None):
        return None
    if metadata.national_prefix != "0":
        return None
    code = metadata.country_code
    if len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())) != 1:
        return None
    lengths = metadata.general_desc.possible_length
    if len(lengths) != 1:
        return None
    types = [
        getattr(metadata, name)
        for name in (
            "premium_rate",
            "toll_free",
            "shared_cost",
            "voip",
            "personal_number",
            "pager",
            "uan",
            "voicemail",
            "fixed_line",
            "mobile",
        )
    ]
    patterns = [
        desc.national_number_pattern
        for desc in types
        if desc is not None and desc.national_number_pattern
    ]
    for desc in types:
        if desc is not None and desc.possible_length not in ((), lengths):
            return None
    general = metadata.general_desc.national_number_pattern
    combined = re.compile(f"(?=(?:{general})$)(?:{'|'.join(patterns)})$")
    return str(code), lengths[0], combined


_PHONE_SEPARATORS = str.maketrans("", "", " .-\u00a0\u202f")


def phone_normalize(value: str, region: str = "") -> str:
    """Return a phone number in E.164 form, or raise ``InvalidValue``.

    The result equals ``apps.core.identifiers.normalize_phone``: national
    ``0``-prefixed and ``+CC``/``00CC`` numbers of a fast-path region are
    checked against the phonenumbers metadata directly, the rest go through
    the library.
    """
    region = region or settings.PHONE_DEFAULT_REGION
    text = value.strip()
    rule = _phone_fast_rule(region)
    if rule is not None:
        code, length, pattern = rule
        digits = text.translate(_PHONE_SEPARATORS)
        national = None
        if digits.startswith("+" + code):
            national = digits[len(code) + 1 :]
        elif digits.startswith("00" + code):
            national = digits[len(code) + 2 :]
        elif digits.startswith("0") and not digits.startswith("00"):
            national = digits[1:]
        if (
            national is not None
            and len(national) == length
            and national.isdigit()
            and national.isascii()
            and pattern.match(national)
        ):
            return f"+{code}{national}"
    try:
        return normalize_phone(text, region)
    except InvalidIdentifier as error:
        raise InvalidValue(
            _("not a valid phone number for region %(region)s") % {"region": region}
        ) from error


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def text_clean(value, max_length: int) -> str:
    """Return ``value`` trimmed, NFC-normalised, with inner spaces collapsed."""
    text = value if isinstance(value, str) else cell_text(value)
    # split() drops tabs, line breaks and the like. The other control
    # characters are invisible, and no spreadsheet can contain them.
    text = _CONTROL_CHARACTERS.sub("", " ".join(text.split()))
    text = unicodedata.normalize("NFC", text)
    # The apostrophe that Registre's CSV downloads, like Excel, put before text
    # that could run as a formula is not part of the value.
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    if len(text) > max_length:
        raise InvalidValue(_("longer than %(max)d characters") % {"max": max_length})
    if _looks_like_formula(text):
        raise InvalidValue(_("looks like a spreadsheet formula"))
    return text


# The syntax a formula after +, - or @ needs: a function call, a DDE link
# (cmd|' /C calc'!A0), a sheet reference or a comparison.
_FORMULA_SYNTAX = re.compile(r"[(|!=]")


def _looks_like_formula(text: str) -> bool:
    """Tell whether a text value would run as a formula in a spreadsheet.

    A value starting with "=" is one. A value starting with +, - or @ is one
    only with formula syntax after it, so that a company such as "@Home
    Conseil" or a title such as "- Directeur" is kept. Every export puts an
    apostrophe before such text anyway (``apps.core.exports``).
    """
    if text.startswith("="):
        return True
    if not text.startswith(("+", "-", "@")):
        return False
    return bool(_FORMULA_SYNTAX.search(text))


def cell_text(value) -> str:
    """Return the text of a spreadsheet cell, keeping integers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        # Spreadsheets store a date as a datetime at midnight.
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


COUNTRY_NAMES = {
    "france": "FR",
    "belgique": "BE",
    "belgium": "BE",
    "suisse": "CH",
    "switzerland": "CH",
    "luxembourg": "LU",
    "allemagne": "DE",
    "germany": "DE",
    "espagne": "ES",
    "spain": "ES",
    "italie": "IT",
    "italy": "IT",
    "royaume uni": "GB",
    "united kingdom": "GB",
    "uk": "GB",
    "angleterre": "GB",
    "pays bas": "NL",
    "netherlands": "NL",
    "portugal": "PT",
    "autriche": "AT",
    "austria": "AT",
    "irlande": "IE",
    "ireland": "IE",
    "monaco": "MC",
    "canada": "CA",
    "etats unis": "US",
    "etats unis d amerique": "US",
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "maroc": "MA",
    "morocco": "MA",
    "tunisie": "TN",
    "tunisia": "TN",
    "algerie": "DZ",
    "algeria": "DZ",
    "pologne": "PL",
    "poland": "PL",
    "suede": "SE",
    "sweden": "SE",
    "danemark": "DK",
    "denmark": "DK",
    "norvege": "NO",
    "norway": "NO",
    "finlande": "FI",
    "finland": "FI",
    "grece": "GR",
    "greece": "GR",
    "roumanie": "RO",
    "romania": "RO",
    "republique tcheque": "CZ",
    "czech republic": "CZ",
    "czechia": "CZ",
    "fra": "FR",
    "bel": "BE",
    "che": "CH",
    "lux": "LU",
    "deu": "DE",
    "esp": "ES",
    "ita": "IT",
    "gbr": "GB",
    "nld": "NL",
    "prt": "PT",
    "can": "CA",
}
# Names that neighbouring countries' vendors write in their own language.
NATIVE_COUNTRY_NAMES = {
    "belgie": "BE",
    "osterreich": "AT",
    "schweiz": "CH",
    "svizzera": "CH",
    "deutschland": "DE",
    "espana": "ES",
    "italia": "IT",
    "nederland": "NL",
    "luxemburg": "LU",
    "polska": "PL",
    "sverige": "SE",
    "danmark": "DK",
    "norge": "NO",
    "suomi": "FI",
    "eire": "IE",
}
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS) | {"AQ", "BV", "HM", "TF", "UM"}
# "Belgique (BE)", as the upload form writes a country.
_NAME_WITH_CODE = re.compile(r"\(\s*([A-Za-z]{2})\s*\)\s*$")


def _country_key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z]+", " ", text.lower()).split())


@functools.cache
def _names_of_phone_countries() -> dict[str, str]:
    """Return the folded names of each region, current and former, to its code."""
    names_by_code = {
        code: [*names.values(), *PHONE_COUNTRY_FORMER_NAMES.get(code, ())]
        for code, names in PHONE_COUNTRY_NAMES.items()
    }
    return {
        _country_key(name): code
        for code, names in names_by_code.items()
        for name in names
        if name
    }


def country_normalize(value: str) -> str:
    """Return the ISO 3166-1 alpha-2 code of a country code or common name."""
    with_code = _NAME_WITH_CODE.search(value)
    if with_code and with_code.group(1).upper() in _REGIONS:
        return with_code.group(1).upper()
    key = _country_key(value)
    if len(key) == 2 and key.upper() in _REGIONS:
        return key.upper()
    for names in (COUNTRY_NAMES, NATIVE_COUNTRY_NAMES, _names_of_phone_countries()):
        if key in names:
            return names[key]
    raise InvalidValue(
        _("unknown country: use an ISO code such as FR or a common name")
    )


_DATE_FR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?")
_EXCEL_EPOCH_1900 = datetime.date(1899, 12, 30)
_EXCEL_EPOCH_1904 = datetime.date(1904, 1, 1)


def date_parse(value, *, date1904: bool = False) -> datetime.date:
    """Return the date of a cell: ISO, French ``jj/mm/aaaa`` or an Excel serial.

    Slashed dates are always read day first, as French files write them; a
    two-digit year means 19xx above the current two-digit year, else 20xx.
    """
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        epoch = _EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH_1900
        if not 1 <= value < 2958466:
            raise InvalidValue(_("not a date"))
        return epoch + datetime.timedelta(days=int(value))
    text = str(value).strip()
    try:
        if match := _DATE_ISO.fullmatch(text):
            year, month, day = (int(part) for part in match.groups())
            return datetime.date(year, month, day)
        if match := _DATE_FR.fullmatch(text):
            day, month, year = (int(part) for part in match.groups())
            if year < 100:
                pivot = timezone.localdate().year % 100
                year += 1900 if year > pivot else 2000
            return datetime.date(year, month, day)
    except ValueError as error:
        raise InvalidValue(_("not a valid calendar date")) from error
    if re.fullmatch(r"\d{4,5}(\.0+)?", text):
        return date_parse(float(text), date1904=date1904)
    raise InvalidValue(_("not a date: write it as 31/12/2024 or 2024-12-31"))


def registration_normalize(value: str) -> str:
    """Return a SIRET (14 digits) or SIREN (9 digits) without spaces."""
    digits = re.sub(r"[\s.]", "", value)
    if not digits.isdigit() or len(digits) not in (9, 14):
        raise InvalidValue(_("not a SIRET (14 digits) or SIREN (9 digits)"))
    return digits


_POSTCODE_CITY = re.compile(r"\s*([0-9][0-9A-Za-z]{1,4}(?:[ -]?[0-9]{3})?)\s+(.+)")


def postcode_city_split(value: str) -> tuple[str, str]:
    """Split ``"75007 PARIS"`` into postcode and city; no digits gives a city."""
    match = _POSTCODE_CITY.fullmatch(value)
    if match:
        return match.group(1), match.group(2).strip()
    return "", value.strip()
