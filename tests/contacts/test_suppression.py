import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.contacts.suppression import is_suppressed
from apps.contacts.suppression import suppression_add
from apps.core.identifiers import identifier_hash
from apps.core.identifiers import normalize_email

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_contact_save_fills_hashes():
    contact = Contact.objects.create(
        email="ana.martin@example.com",
        phone="+33612345678",
        collected_at=timezone.now(),
    )

    assert contact.email_hash == identifier_hash("ana.martin@example.com")
    assert contact.phone_hash == identifier_hash("+33612345678")


@pytest.mark.parametrize(
    "variant",
    [
        "Ana.Martin@Example.COM",
        "  ana.martin@example.com ",
        "ANA.MARTIN@EXAMPLE.COM\t",
    ],
)
def test_suppression_matches_case_and_spaces(variant):
    suppression_add(reason="unsubscribed", emails=["ana.martin@example.com"])

    assert is_suppressed(email=normalize_email(variant))


def test_suppression_table_holds_no_clear_identifier():
    suppression_add(
        reason="objected", emails=["ana.martin@example.com"], phones=["+33612345678"]
    )

    stored = list(SuppressionEntry.objects.values_list("identifier_hash", flat=True))
    assert len(stored) == 2
    for value in stored:
        assert "@" not in value
        assert "ana" not in value
        assert "3361234" not in value


def test_contact_form_stores_normalised_identifiers():
    contact = Contact(
        email=" Lea.Petit@Example.com ",
        phone="06 12 34 56 80",
        collected_at=timezone.now(),
    )

    contact.full_clean()
    contact.save()

    assert contact.email == "lea.petit@example.com"
    assert contact.phone == "+33612345680"
    suppression_add(reason="unsubscribed", phones=["+33612345680"])
    assert is_suppressed(phone=contact.phone)


def test_contact_phone_falls_back_to_default_region():
    contact = Contact(phone="06 12 34 56 80", country="BE", collected_at=timezone.now())

    contact.full_clean()

    assert contact.phone == "+33612345680"


def test_contact_phone_read_in_its_country():
    contact = Contact(phone="030 1234567", country="de", collected_at=timezone.now())

    contact.full_clean()

    assert contact.country == "DE"
    assert contact.phone == "+49301234567"


@pytest.mark.parametrize(
    "field, value",
    [("email", "lea.petit@"), ("phone", "0123"), ("country", "ZZ")],
)
def test_contact_form_rejects_invalid_identifier(field, value):
    contact = Contact(collected_at=timezone.now(), **{field: value})

    with pytest.raises(ValidationError) as error:
        contact.full_clean()

    assert field in error.value.message_dict
