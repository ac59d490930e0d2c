"""The countries an import can read national phone numbers in, with their names.

The codes are the ISO 3166-1 alpha-2 codes for which phonenumbers has a
numbering plan. Its metadata also has AC (Ascension Island), TA (Tristan da
Cunha) and XK (Kosovo), which ISO 3166-1 does not assign, so they are left
out. The names, in French and English, come from the locale data that
phonenumbers ships for its geocoder, through ``phone_country_names``.
"""

import unicodedata

import phonenumbers
from django.utils import translation
from django.utils.translation import gettext as _

from apps.imports.errors import ImportInputError
from apps.imports.phone_country_names import COUNTRY_NAMES

NOT_IN_ISO_3166 = frozenset({"AC", "TA", "XK"})
PHONE_COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS) - NOT_IN_ISO_3166


def phone_country_name(code: str) -> str:
    """Return the name of country ``code`` in the active language, or the code."""
    names = COUNTRY_NAMES.get(code, {})
    language = (translation.get_language() or "en").split("-")[0]
    return names.get(language) or names.get("en") or code


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def phone_country_label(code: str) -> str:
    """Return the country's name followed by its code: "Belgium (BE)"."""
    return f"{phone_country_name(code)} ({code})"


def phone_country_choices() -> list[tuple[str, str]]:
    """Return ``(code, label)`` for every country, sorted by name."""
    labels = {code: phone_country_label(code) for code in PHONE_COUNTRIES}
    return sorted(labels.items(), key=lambda item: _sort_key(item[1]))


def phone_country_check(value: str) -> str:
    """Return ``value`` as an upper-case country code, or raise ``ImportInputError``."""
    code = value.strip().upper()
    if code in PHONE_COUNTRIES:
        return code
    raise ImportInputError(
        _(
            "“%(value)s” is not a country code for phone numbers. Give an ISO "
            "3166-1 alpha-2 code such as FR, BE or CH."
        )
        % {"value": value},
        field="phone_country",
    )
