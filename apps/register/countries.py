"""Countries of the European Economic Area, where data moves without a transfer."""

import unicodedata

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


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


EEA_NAMES = {name for names in EEA_COUNTRIES.values() for name in names}


def is_eea_country(text: str) -> bool:
    """Return whether ``text`` names an EEA country by code, English or French name."""
    return text.strip().upper() in EEA_COUNTRIES or _folded(text) in EEA_NAMES
