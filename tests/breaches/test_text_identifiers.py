"""E-mail addresses and phone numbers in breach titles and descriptions."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.breaches.models import Breach
from apps.breaches.services import breach_create
from apps.breaches.services import breach_update
from apps.breaches.text_identifiers import identifiers_in_text

from .factories import BreachFactory

LEAKY_TITLE = (
    "Perte du portable de Jean Exemple (jean.exemple@example.com, 06 12 34 56 78)"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LEAKY_TITLE, ["jean.exemple@example.com", "06 12 34 56 78"]),
        ("Call 0612345678 back", ["0612345678"]),
        (
            "+33 6 12 34 56 78 then x@example.org.",
            ["+33 6 12 34 56 78", "x@example.org"],
        ),
        ("Sent to jean0612345678@example.com", ["jean0612345678@example.com"]),
        ("UK office +44 20 7946 0958", ["+44 20 7946 0958"]),
    ],
)
def test_identifiers_found(text, expected):
    assert identifiers_in_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Laptop of a sales employee lost",
        "BRE-2026-001 follow-up of 2026-12-02 at 08:00",
        "120 prospects, 1 200 000 rows, SIRET 732 829 320 00074",
        "Server 192.168.1.10 exposed",
        "Ransomware on SRV-0123456789",
        "Laptop PC_0612345678 stolen",
        "",
    ],
)
def test_ordinary_text_has_no_identifiers(text):
    assert identifiers_in_text(text) == []


def _data(**overrides) -> dict:
    now = timezone.now()
    return {
        "title": "Misdirected e-mail",
        "description": "A list was sent to a wrong recipient.",
        "detected_at": now,
        "aware_at": now,
        "affects_confidentiality": True,
        **overrides,
    }


def test_create_rejects_title_with_identifiers(db):
    with pytest.raises(ValidationError) as error:
        breach_create(data=_data(title=LEAKY_TITLE))

    message = " ".join(error.value.message_dict["title"])
    assert "jean.exemple@example.com" in message
    assert "06 12 34 56 78" in message
    assert "without identifying anyone" in message
    assert not Breach.objects.exists()


def test_update_rejects_title_with_identifiers(db):
    breach = BreachFactory()

    with pytest.raises(ValidationError) as error:
        breach_update(breach=breach, data={"title": "Call back 0612345678"})

    assert "title" in error.value.message_dict
    breach.refresh_from_db()
    assert breach.title.startswith("Test breach")


def test_create_accepts_description_with_identifier(db):
    breach = breach_create(
        data=_data(description="The phishing mail came from attacker@example.org.")
    )

    assert breach.description.endswith("attacker@example.org.")
