import pytest
from django.utils import translation
from email_validator import EmailNotValidError

from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import identifier_hash
from apps.core.identifiers import normalize_email
from apps.core.identifiers import normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jean.dupont@example.com", "jean.dupont@example.com"),
        ("  Jean.Dupont@Example.COM  ", "jean.dupont@example.com"),
        ("JEAN.DUPONT@EXAMPLE.COM\t", "jean.dupont@example.com"),
        ("inès.dupont434@example.com", "inès.dupont434@example.com"),
        ("Ine\u0300s@example.com", "inès@example.com"),
        ("contact+news@sub.example.fr", "contact+news@sub.example.fr"),
    ],
)
def test_normalize_email_valid(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "jean.dupont", "jean@", "@example.com", "a b@example.com"]
)
def test_normalize_email_rejects_invalid(raw):
    with pytest.raises(InvalidIdentifier):
        normalize_email(raw)


def test_normalize_email_error_names_value():
    with pytest.raises(InvalidIdentifier, match="jean.dupont"):
        normalize_email("jean.dupont")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("01 42 68 53 00", "+33142685300"),
        ("+32 2 555 12 12", "+3225551212"),
        ("01 45 67 89 12 poste 33", "+33145678912"),
        ("01 45 67 89 12 Poste. 33", "+33145678912"),
        ("01 45 67 89 12 x33", "+33145678912"),
    ],
)
def test_normalize_phone_french_formats(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "12", "06 12 34", "not a number", "+33 1"])
def test_normalize_phone_rejects_invalid(raw):
    with pytest.raises(InvalidIdentifier):
        normalize_phone(raw)


def test_normalize_phone_error_suggests_fix():
    with pytest.raises(InvalidIdentifier, match=r"\+33"):
        normalize_phone("06 12 34")


def test_normalize_phone_uses_given_region():
    assert normalize_phone("(415) 555-2671", region="US") == "+14155552671"


def test_identifier_hash_is_keyed_and_stable(settings):
    first = identifier_hash("jean.dupont@example.com")

    assert first == identifier_hash("jean.dupont@example.com")
    assert len(first) == 64
    assert "jean" not in first
    settings.IDENTIFIER_HASH_KEY = "another-key"
    assert identifier_hash("jean.dupont@example.com") != first


def test_identifier_hash_same_for_spellings():
    spellings = ["Jean.Dupont@Example.com", " jean.dupont@example.com "]

    hashes = {identifier_hash(normalize_email(value)) for value in spellings}

    assert len(hashes) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0692 12 34 56", "+262692123456"),
        ("0693 12 34 56", "+262693123456"),
        ("0690 12 34 56", "+590690123456"),
        ("0694 12 34 56", "+594694123456"),
        ("0696 12 34 56", "+596696123456"),
    ],
)
def test_normalize_phone_french_overseas_mobiles(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["0612345", "04 12 34 5", "041234"])
def test_normalize_phone_short_french_rejected(raw):
    with pytest.raises(InvalidIdentifier):
        normalize_phone(raw)


def _message(normalizer, value: str) -> str:
    with pytest.raises(InvalidIdentifier) as caught:
        normalizer(value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("normalizer", "value"),
    [
        (normalize_email, ""),
        (normalize_email, "pas-une-adresse"),
        (normalize_phone, ""),
        (normalize_phone, "abc"),
        (normalize_phone, "12"),
    ],
)
def test_identifier_errors_are_translated(monkeypatch, normalizer, value):
    from apps.core import identifiers

    monkeypatch.setattr(identifiers, "_", lambda text: f"[translated] {text}")

    assert _message(normalizer, value).startswith("[translated] ")


def test_email_error_names_value_reason_and_fix():
    message = _message(normalize_email, "pas-une-adresse")

    assert "“pas-une-adresse”" in message
    assert "no @ sign" in message
    assert "name@company.com" in message
    assert "An email address must have an @-sign" not in message


def test_email_error_reason_in_french():
    with translation.override("fr"):
        message = _message(normalize_email, "pas-une-adresse")

    assert "pas de signe @" in message
    assert "must have an @-sign" not in message


@pytest.mark.parametrize("value", ["", "dates@example.test"])
def test_email_error_hint_not_reserved(value):
    with translation.override("fr"):
        message = _message(normalize_email, value)

    assert "nom@entreprise.fr" in message
    assert "example.com" not in message


def test_reserved_domain_error_in_french():
    with translation.override("fr"):
        message = _message(normalize_email, "dates@example.test")

    assert "« dates@example.test »" in message
    assert "un domaine réservé" in message


def test_email_error_keeps_library_cause():
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_email("pas-une-adresse")

    assert isinstance(caught.value.__cause__, EmailNotValidError)


@pytest.mark.parametrize(
    ("value", "reason"),
    [("abc", "too few digits"), ("+999 12", "unknown country code")],
)
def test_phone_parse_error_names_reason(value, reason):
    message = _message(normalize_phone, value)

    assert f"“{value}”" in message
    assert reason in message
    assert "+33 6 12 34 56 78" in message
    assert "did not seem to be a phone number" not in message


def test_phone_region_error_names_value_and_fix():
    message = _message(normalize_phone, "12")

    assert "“12” is not a valid phone number for region FR" in message
    assert "+33" in message
