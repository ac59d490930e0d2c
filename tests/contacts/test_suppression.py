import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils import translation

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.contacts.services import contact_unsubscribe
from apps.contacts.suppression import is_suppressed
from apps.contacts.suppression import suppression_add
from apps.contacts.suppression import suppression_record
from apps.core.identifiers import identifier_hash
from apps.core.identifiers import normalize_email
from apps.register.models import LawfulBasis
from tests.contacts.factories import ContactFactory

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


def _entry(value):
    return SuppressionEntry.objects.get(identifier_hash=identifier_hash(value))


def test_objection_turns_unsubscribe_into_objection():
    suppression_add(reason="unsubscribed", emails=["ana.martin@example.com"])
    listed_at = _entry("ana.martin@example.com").created_at

    recorded = suppression_record(
        reason="objected", emails=["ana.martin@example.com"], phones=["+33612345678"]
    )

    entry = _entry("ana.martin@example.com")
    assert recorded.added == 1
    assert recorded.objected == 1
    assert entry.reason == SuppressionEntry.Reason.OBJECTED
    assert entry.created_at == listed_at
    assert SuppressionEntry.objects.count() == 2


def test_repeated_objection_changes_no_entry():
    suppression_add(reason="unsubscribed", emails=["ana.martin@example.com"])
    suppression_record(reason="objected", emails=["ana.martin@example.com"])

    recorded = suppression_record(reason="objected", emails=["ana.martin@example.com"])

    assert recorded.added == 0
    assert recorded.objected == 0
    assert _entry("ana.martin@example.com").reason == SuppressionEntry.Reason.OBJECTED


@pytest.mark.parametrize(
    "first, then, kept",
    [
        ("objected", "unsubscribed", "objected"),
        ("erased", "objected", "erased"),
        ("erased", "unsubscribed", "erased"),
    ],
)
def test_entry_reason_kept(first, then, kept):
    suppression_add(reason=first, emails=["ana.martin@example.com"])

    recorded = suppression_record(reason=then, emails=["ana.martin@example.com"])

    assert recorded.added == 0
    assert recorded.objected == 0
    assert _entry("ana.martin@example.com").reason == kept


def test_suppression_add_objection_updates_entry():
    suppression_add(reason="unsubscribed", phones=["+33612345678"])

    added = suppression_add(reason="objected", phones=["+33612345678"])

    assert added == 0
    assert _entry("+33612345678").reason == SuppressionEntry.Reason.OBJECTED


def test_contact_objection_after_unsubscribe():
    """GIVEN a contact that unsubscribed through its link
    WHEN the same contact objects
    THEN it becomes objected and both of its entries record the objection."""
    contact = ContactFactory(phone="+33612345678", lawful_basis=LawfulBasis.CONSENT)
    contact_unsubscribe(contact=contact, source="test")

    changed = contact_unsubscribe(contact=contact, reason="objected", source="test")

    contact.refresh_from_db()
    assert changed is True
    assert contact.status == Contact.Status.OBJECTED
    assert _entry(contact.email).reason == SuppressionEntry.Reason.OBJECTED
    assert _entry(contact.phone).reason == SuppressionEntry.Reason.OBJECTED
    assert ConsentRecord.objects.filter(contact=contact).count() == 2


@pytest.mark.parametrize("status", [Contact.Status.OBJECTED, Contact.Status.ANONYMISED])
def test_contact_objection_leaves_final_status(status):
    contact = ContactFactory(status=status)

    changed = contact_unsubscribe(contact=contact, reason="objected", source="test")

    contact.refresh_from_db()
    assert changed is False
    assert contact.status == status
    assert not ConsentRecord.objects.filter(contact=contact).exists()


def test_unsubscribe_keeps_contact_objected():
    contact = ContactFactory()
    contact_unsubscribe(contact=contact, reason="objected", source="test")

    changed = contact_unsubscribe(contact=contact, source="test")

    contact.refresh_from_db()
    assert changed is False
    assert contact.status == Contact.Status.OBJECTED
    assert _entry(contact.email).reason == SuppressionEntry.Reason.OBJECTED


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


def test_contact_email_hint_in_french():
    contact = Contact(email="dates@example.test", collected_at=timezone.now())

    with translation.override("fr"):
        with pytest.raises(ValidationError) as error:
            contact.full_clean()
        # The model's messages are lazy, so they are read in French here.
        message = " ".join(error.value.message_dict["email"])

    assert "jean.dupont@entreprise.fr" in message
    assert "example.com" not in message


@pytest.mark.parametrize(
    "field, value",
    [("email", "lea.petit@"), ("phone", "0123"), ("country", "ZZ")],
)
def test_contact_form_rejects_invalid_identifier(field, value):
    contact = Contact(collected_at=timezone.now(), **{field: value})

    with pytest.raises(ValidationError) as error:
        contact.full_clean()

    assert field in error.value.message_dict
