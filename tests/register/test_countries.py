"""Which countries and territories are inside the EEA, where data moves freely."""

import pytest

from apps.register.countries import country_key
from apps.register.countries import is_eea_country

EU_TERRITORY_NAMES = [
    "Corse",
    "Corsica",
    "Martinique",
    "Guadeloupe",
    "Guyane",
    "Guyane française",
    "French Guiana",
    "La Réunion",
    "Réunion",
    "Mayotte",
    "Saint-Martin",
    "Açores",
    "Azores",
    "Madère",
    "Madeira",
    "Îles Canaries",
    "Canary Islands",
    "Canarias",
]


@pytest.mark.parametrize("name", EU_TERRITORY_NAMES)
def test_eu_territory_is_in_eea(name):
    assert is_eea_country(name)


@pytest.mark.parametrize("code", ["MQ", "re", "FR-20R", "PT-20", "es-cn"])
def test_eu_territory_code_is_in_eea(code):
    assert is_eea_country(code)


@pytest.mark.parametrize(
    ("first", "second"),
    [("La Réunion", "RE"), ("Açores", "Azores"), ("Îles Canaries", "Canarias")],
)
def test_territory_spellings_share_key(first, second):
    assert country_key(first) == country_key(second)


@pytest.mark.parametrize(
    "name", ["Sint Maarten", "Saint-Barthélemy", "Nouvelle-Calédonie", "Guyana"]
)
def test_territory_outside_eu_not_in_eea(name):
    assert not is_eea_country(name)
