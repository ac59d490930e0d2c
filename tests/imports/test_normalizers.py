"""The fast paths for e-mail and phone agree with apps.core.identifiers."""

import datetime
import random

import pytest
from django.utils import translation
from email_validator import EmailNotValidError

from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import normalize_email
from apps.core.identifiers import normalize_phone
from apps.imports.normalizers import InvalidValue
from apps.imports.normalizers import _email_problem
from apps.imports.normalizers import cell_text
from apps.imports.normalizers import country_normalize
from apps.imports.normalizers import date_parse
from apps.imports.normalizers import email_candidates
from apps.imports.normalizers import email_display_name_remove
from apps.imports.normalizers import email_normalize
from apps.imports.normalizers import email_normalize_for_import
from apps.imports.normalizers import phone_normalize
from apps.imports.normalizers import postcode_city_split
from apps.imports.normalizers import text_clean


def _library_email(value):
    try:
        return normalize_email(value)
    except InvalidIdentifier:
        return None


def _fast_email(value):
    try:
        return email_normalize(value)
    except InvalidValue:
        return None


def _library_phone(value, region="FR"):
    try:
        return normalize_phone(value, region)
    except InvalidIdentifier:
        return None


def _fast_phone(value, region="FR"):
    try:
        return phone_normalize(value, region)
    except InvalidValue:
        return None


EMAILS = [
    "Jean.Dupont@Example.COM",
    " marie@example.com ",
    "inès.dupont434@example.com",
    "a@b.co",
    "x@example.test",
    "no-at-sign.example.com",
    "two@@example.com",
    "dot.@example.com",
    "a..b@example.com",
    "user@-example.com",
    "user@ex--ample.com",
    "user@xn--caf-dma.com",
    "user@localhost",
    "user@example.123",
    "o'neil@example.fr",
    "user+tag@sub.example.co.uk",
    "x" * 65 + "@example.com",
    "user@" + "a" * 64 + ".com",
    '"quoted"@example.com',
    "Name <user@example.com>",
    "Inès.Dupont@Example.com",
    "émile.moreau508@example.com",
    "inès@exämple.com",
    "é" * 40 + "@example.com",
    "ß@example.com",
    "a÷b@example.com",
]


@pytest.mark.parametrize("value", EMAILS)
def test_email_fast_path_matches_library(value):
    assert _fast_email(value) == _library_email(value)


def test_email_fast_path_matches_library_on_generated_values():
    generator = random.Random(5)
    alphabet = "abcXYZ019.-_+@éèàçÿ÷ßÉ"
    for _index in range(3000):
        length = generator.randint(3, 20)
        value = "".join(generator.choice(alphabet) for _char in range(length))
        value += generator.choice(["", ".com", ".fr", ".test", "@example.com"])
        assert _fast_email(value) == _library_email(value), value


PHONES = [
    "06 12 34 56 78",
    "0612345678",
    "+33 6 12 34 56 78",
    "0033612345678",
    "06.39.12.34.56",
    "+33 (0)6 12 34 56 78",
    "612345678",
    "01-23-45-67-89",
    "0800 123 456",
    "1-995-790-2394 x58884",
    "888-867-5309",
    "12",
    "+44 20 7946 0958",
]


@pytest.mark.parametrize("value", PHONES)
def test_phone_fast_path_matches_library(value):
    assert _fast_phone(value) == _library_phone(value)


@pytest.mark.parametrize("region", ["FR", "BE", "CH", "US", "GB"])
def test_phone_fast_path_matches_library_on_generated_values(region):
    generator = random.Random(region)
    for _index in range(2000):
        prefix = generator.choice(["0", "+33", "0033", "+32", "+41", "0 ", "+1"])
        digits = "".join(
            generator.choice("0123456789") for _digit in range(generator.randint(7, 11))
        )
        value = prefix + digits
        assert _fast_phone(value, region) == _library_phone(value, region), value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31/12/2024", datetime.date(2024, 12, 31)),
        ("2024-12-31", datetime.date(2024, 12, 31)),
        ("2021-01-28 05:14:15", datetime.date(2021, 1, 28)),
        ("02/08/1978", datetime.date(1978, 8, 2)),
        ("01/01/00", datetime.date(2000, 1, 1)),
        (29546.0, datetime.date(1980, 11, 21)),
        ("45292", datetime.date(2024, 1, 1)),
    ],
)
def test_date_parse_reads_french_iso_and_serial(value, expected):
    assert date_parse(value) == expected


def test_date_parse_uses_the_1904_epoch():
    assert date_parse(0 + 1, date1904=True) == datetime.date(1904, 1, 2)


@pytest.mark.parametrize("value", ["1996x-01-01", "31/02/2024", "hier"])
def test_date_parse_rejects_invalid_dates(value):
    with pytest.raises(InvalidValue):
        date_parse(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("France", "FR"), ("fr", "FR"), ("Royaume-Uni", "GB"), ("BEL", "BE")],
)
def test_country_normalize_reads_codes_and_names(value, expected):
    assert country_normalize(value) == expected


def test_country_normalize_rejects_unknown_names():
    with pytest.raises(InvalidValue):
        country_normalize("Atlantide")


def test_postcode_city_split_separates_the_postcode():
    assert postcode_city_split("75007 PARIS ") == ("75007", "PARIS")


def test_text_clean_rejects_formulas():
    with pytest.raises(InvalidValue):
        text_clean('=HYPERLINK("http://example.com")', 200)


@pytest.mark.parametrize(
    "value",
    [
        "'=1+1",
        "'@SUM(1+1)*cmd|' /C calc'!A0",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        '@HYPERLINK("http://example.com")',
    ],
)
def test_text_clean_rejects_formula_forms(value):
    """A value from Registre's own CSV download loses the guard apostrophe,
    and is then left out as a formula like the original value was."""
    with pytest.raises(InvalidValue, match="formula"):
        text_clean(value, 200)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@Home Conseil", "@Home Conseil"),
        ("'@Home Conseil", "@Home Conseil"),
        ("'+Simple SAS", "+Simple SAS"),
        ("- Directeur commercial", "- Directeur commercial"),
        ("+ de Services", "+ de Services"),
    ],
)
def test_text_clean_keeps_sign_text_without_formula(value, expected):
    assert text_clean(value, 200) == expected


def test_text_clean_keeps_negative_number_text():
    assert text_clean("'-12", 200) == "-12"


def test_text_clean_keeps_plain_apostrophe():
    assert text_clean("'t Hooft", 200) == "'t Hooft"


def test_text_clean_collapses_spaces_and_composes_accents():
    assert text_clean("  Ine\u0300s   Dupont ", 200) == "Inès Dupont"


@pytest.mark.parametrize(
    ("value", "french"),
    [
        ("jean.dupont", "pas de signe @"),
        ("jean@exemple", "pas de point dans le domaine"),
        ("je an@exemple.fr", "caractères invalides avant le signe @ : SPACE"),
        ("jean@exem ple.fr", "caractères invalides après le signe @ : SPACE"),
        ("mailto:jean@exemple.fr", "caractères invalides avant le signe @ : ':'"),
        ("Jean <jean@exemple.fr>", "un nom et des chevrons autour de l'adresse"),
    ],
)
def test_email_reason_in_users_language(value, french):
    with translation.override("fr"), pytest.raises(InvalidValue) as raised:
        email_normalize(value)

    assert french in str(raised.value)
    assert "@-sign" not in str(raised.value)


def test_unknown_email_reason_hint_not_reserved():
    # A message that no listed email-validator message matches, as a later
    # release could add.
    error = EmailNotValidError("The address is unusual in a new way.")

    english = _email_problem(error)
    with translation.override("fr"):
        french = _email_problem(error)

    assert english == "not in the form name@company.com"
    assert french == "pas de la forme nom@entreprise.fr"


@pytest.mark.parametrize(
    ("value", "character"),
    [
        ("=cmd@example.com", "="),
        (" =Total@example.com", "="),
        ("+jean@example.com", "+"),
        ("-jean@example.com", "-"),
    ],
)
def test_import_rejects_formula_email(value, character):
    with pytest.raises(InvalidValue) as raised:
        email_normalize_for_import(value)

    reason = str(raised.value)
    assert f"starts with “{character}”" in reason
    assert "formula" in reason


def test_import_rejects_mailto_link():
    with pytest.raises(InvalidValue) as raised:
        email_normalize_for_import(" MAILTO:jules@example.com")

    assert str(raised.value) == (
        "starts with “mailto:”, the prefix of a web link; keep only the address "
        "after it"
    )


def test_email_display_name_remove_returns_address():
    assert email_display_name_remove("Jules Garnier <jules@example.com>") == (
        "jules@example.com"
    )
    assert email_display_name_remove('"Garnier, J." <j@example.com>') == (
        "j@example.com"
    )
    assert email_display_name_remove("<j@example.com>") == "j@example.com"
    assert email_display_name_remove("jules@example.com") is None
    assert email_display_name_remove("a@example.com <b@example.com>") is None


def test_import_accepts_ordinary_email():
    assert email_normalize_for_import("Jean.Dupont@Example.COM") == (
        "jean.dupont@example.com"
    )


def test_import_email_keeps_specific_reason():
    with pytest.raises(InvalidValue, match="no @ sign"):
        email_normalize_for_import("=jean.dupont")


def test_matching_form_accepts_formula_email():
    """The erasure of uploaded files must still find such an address."""
    assert email_normalize("=Cmd@Example.com") == "=cmd@example.com"


# openpyxl and the ODS reader return naive datetimes, as spreadsheets store them.


def test_cell_text_midnight_is_a_date():
    midnight = datetime.datetime(2024, 3, 1)  # noqa: DTZ001

    assert cell_text(midnight) == "2024-03-01"


def test_cell_text_keeps_time_of_day():
    value = datetime.datetime(2024, 3, 1, 14, 30)  # noqa: DTZ001

    assert cell_text(value) == "2024-03-01T14:30:00"


def test_cell_text_of_date():
    assert cell_text(datetime.date(2024, 3, 1)) == "2024-03-01"


@pytest.mark.parametrize(
    ("name", "code"),
    [("Lituanie", "LT"), ("Lithuanie", "LT"), ("Eswatini", "SZ"), ("Swaziland", "SZ")],
)
def test_country_read_by_current_and_former_name(name, code):
    assert country_normalize(name) == code


def test_text_clean_drops_control_characters():
    assert text_clean("Ctl\x01A\x7f  Dupont\x0b", 150) == "CtlA Dupont"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\u2028@example.com", "des caractères invisibles ou dangereux : U+2028"),
        (
            "a\u2029\u2028@example.com",
            "des caractères invisibles ou dangereux : U+2028, U+2029",
        ),
        ('"a b"@example.com', "des guillemets avant le signe @"),
        ("ab@[1.2.3.4]", "une adresse IP au lieu d’un domaine"),
    ],
)
def test_email_reasons_in_french(value, reason):
    with translation.override("fr"), pytest.raises(InvalidValue) as raised:
        email_normalize(value)

    assert reason in str(raised.value)
    assert "@-sign" not in str(raised.value)


def test_full_width_address_reads_as_ascii():
    full_width = "ｅｒｉｃ.ｅｆｆａｃｅ@exemple.fr"

    assert email_normalize(full_width) == "eric.efface@exemple.fr"
    assert normalize_email(full_width) == "eric.efface@exemple.fr"


@pytest.mark.parametrize(
    "value",
    [
        "Paul.Durand@Example.com\u200b",
        "\ufeffpaul.durand@example.com",
        "paul.\u00addurand@exam\u200dple.com",
        "paul.durand\u200e@example.com",
    ],
)
def test_email_invisible_characters_dropped(value):
    """Zero-width spaces, soft hyphens, joiners and direction marks copied
    with an address are dropped, by the import and by the matching form."""
    assert email_normalize(value) == "paul.durand@example.com"
    assert normalize_email(value) == "paul.durand@example.com"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "new@acme.example / paul@example.com",
            ["new@acme.example", "paul@example.com"],
        ),
        ("new@acme.example|paul@example.com", ["new@acme.example", "paul@example.com"]),
        ("paul . durand @ example.com", ["paul.durand@example.com"]),
    ],
)
def test_email_candidates_split_and_spaced(value, expected):
    assert email_candidates(value) == expected
