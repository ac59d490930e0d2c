"""Countries where data moves without a transfer, or with an adequacy decision."""

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

# The European Economic Area: the 27 EU member states, Iceland, Liechtenstein
# and Norway. Each ISO 3166-1 alpha-2 code comes with its English and French
# names, in lower case without accents. GDPR Art. 1(3) and the EEA Agreement let
# data move freely within the area, so sending it there is not a Chapter V
# transfer.
EEA_COUNTRIES = {
    "AT": ("austria", "autriche"),
    "BE": ("belgium", "belgique"),
    "BG": ("bulgaria", "bulgarie"),
    "HR": ("croatia", "croatie"),
    "CY": ("cyprus", "chypre"),
    "CZ": ("czechia", "czech republic", "tchequie", "republique tcheque"),
    "DK": ("denmark", "danemark"),
    "EE": ("estonia", "estonie"),
    "FI": ("finland", "finlande"),
    "FR": ("france",),
    "DE": ("germany", "allemagne"),
    "GR": ("greece", "grece"),
    "HU": ("hungary", "hongrie"),
    "IE": ("ireland", "irlande"),
    "IT": ("italy", "italie"),
    "LV": ("latvia", "lettonie"),
    "LT": ("lithuania", "lituanie"),
    "LU": ("luxembourg",),
    "MT": ("malta", "malte"),
    "NL": ("netherlands", "pays-bas", "pays bas"),
    "PL": ("poland", "pologne"),
    "PT": ("portugal",),
    "RO": ("romania", "roumanie"),
    "SK": ("slovakia", "slovaquie"),
    "SI": ("slovenia", "slovenie"),
    "ES": ("spain", "espagne"),
    "SE": ("sweden", "suede"),
    "IS": ("iceland", "islande"),
    "LI": ("liechtenstein",),
    "NO": ("norway", "norvege"),
}

# Territories of member states that people name as if they were countries. The
# EU Treaties apply to the outermost regions (Art. 349 and 355(1) TFEU): the
# French overseas departments and Saint-Martin, the Azores, Madeira and the
# Canary Islands. Corsica is a region of metropolitan France. Sending data to
# any of them is therefore not a transfer. Each key is the ISO 3166-1 alpha-2
# code where the territory has one, else its ISO 3166-2 subdivision code, and
# the names are folded as above. Dutch Sint Maarten, Saint-Barthélemy and New
# Caledonia are overseas countries and territories outside the EU, so they are
# not listed.
EU_TERRITORIES = {
    "FR-20R": ("corse", "corsica"),
    "GP": ("guadeloupe",),
    "MQ": ("martinique",),
    "GF": ("guyane", "guyane francaise", "french guiana"),
    "RE": ("la reunion", "reunion", "ile de la reunion"),
    "YT": ("mayotte",),
    "MF": ("saint martin",),
    "PT-20": ("acores", "azores"),
    "PT-30": ("madere", "madeira"),
    "ES-CN": (
        "iles canaries",
        "canaries",
        "canary islands",
        "canarias",
        "islas canarias",
    ),
}


# The countries with an adequacy decision of the European Commission under
# Art. 45 GDPR (or Art. 25(6) of Directive 95/46 still in force), as listed on
# the Commission's page in December 2026, with their English and French names
# folded as above. The decisions for Canada and the United States cover only
# some recipients: organisations subject to PIPEDA, and organisations certified
# under the EU-US Data Privacy Framework.
ADEQUACY_COUNTRIES = {
    "AD": (_("Andorra"), ("andorra", "andorre")),
    "AR": (_("Argentina"), ("argentina", "argentine")),
    "CA": (_("Canada"), ("canada",)),
    "FO": (_("Faroe Islands"), ("faroe islands", "faroes", "iles feroe", "feroe")),
    "GG": (_("Guernsey"), ("guernsey", "guernesey")),
    "IL": (_("Israel"), ("israel",)),
    "IM": (_("Isle of Man"), ("isle of man", "ile de man")),
    "JP": (_("Japan"), ("japan", "japon")),
    "JE": (_("Jersey"), ("jersey",)),
    "NZ": (_("New Zealand"), ("new zealand", "nouvelle zelande")),
    "KR": (
        _("South Korea"),
        (
            "south korea",
            "republic of korea",
            "korea republic of",
            "coree du sud",
            "republique de coree",
        ),
    ),
    "CH": (_("Switzerland"), ("switzerland", "suisse")),
    "GB": (
        _("United Kingdom"),
        (
            "united kingdom",
            "uk",
            "great britain",
            "england",
            "scotland",
            "wales",
            "northern ireland",
            "united kingdom of great britain and northern ireland",
            "royaume uni",
            "grande bretagne",
            "angleterre",
            "ecosse",
            "pays de galles",
            "irlande du nord",
            "royaume uni de grande bretagne et d irlande du nord",
        ),
    ),
    "UY": (_("Uruguay"), ("uruguay",)),
    "US": (
        _("United States"),
        (
            "united states",
            "united states of america",
            "usa",
            "us",
            "etats unis",
            "etats unis d amerique",
        ),
    ),
}

_SEPARATORS = re.compile(r"[\s\-‐–'’,]+")


def _folded(text: str) -> str:
    """Return ``text`` in lower case, without accents, dots, dashes or apostrophes.

    "U.S.A." becomes "usa", and "Korea, Republic of" "korea republic of".
    """
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", bare.replace(".", "")).strip()


EEA_NAMES = {
    _folded(name): code
    for table in (EEA_COUNTRIES, EU_TERRITORIES)
    for code, names in table.items()
    for name in names
}
ADEQUACY_NAMES = {
    name: code for code, (_label, names) in ADEQUACY_COUNTRIES.items() for name in names
}


def country_key(text: str) -> str:
    """Return the ISO code of a country named in ``text``, else ``text`` folded.

    Two spellings of a country in the tables above give the same key, such as
    "US" and "États-Unis"; other countries compare by their folded name. A
    territory of ``EU_TERRITORIES`` gets its own code, such as "MQ" for
    "Martinique".
    """
    code = text.strip().upper()
    if code in EEA_COUNTRIES or code in EU_TERRITORIES or code in ADEQUACY_COUNTRIES:
        return code
    folded = _folded(text)
    return EEA_NAMES.get(folded) or ADEQUACY_NAMES.get(folded) or folded


def is_eea_country(text: str) -> bool:
    """Return whether ``text`` names an EEA country, or a territory of one in the
    EU, by code, English or French name."""
    key = country_key(text)
    return key in EEA_COUNTRIES or key in EU_TERRITORIES


def has_adequacy_decision(text: str) -> bool:
    """Return whether ``text`` names a country with an adequacy decision."""
    return country_key(text) in ADEQUACY_COUNTRIES


def adequacy_country_names() -> str:
    """Return the names of the countries with an adequacy decision, for a message."""
    return ", ".join(str(label) for label, _names in ADEQUACY_COUNTRIES.values())
