import pytest
from django.db import connection
from django.db import transaction
from django.utils import timezone

from apps.breaches.models import BreachCommunication
from apps.breaches.models import BreachRecipient
from apps.contacts import personal_data
from apps.contacts.locks import contacts_write_lock_reading
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.contacts.models import SuppressionEntry
from apps.contacts.suppression import is_suppressed
from tests.breaches.factories import BreachFactory
from tests.contacts.factories import ConsentFactory
from tests.contacts.factories import ContactFactory
from tests.contacts.factories import ProvenanceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_erase_counts_each_kind_apart():
    contact = ContactFactory()
    other_contact = ContactFactory()
    ProvenanceFactory.create_batch(2, contact=contact)
    ConsentFactory(contact=contact)
    communication = BreachCommunication.objects.create(
        breach=BreachFactory(), communicated_at=timezone.now(), method="e-mail"
    )
    BreachRecipient.objects.create(communication=communication, contact=contact)
    BreachRecipient.objects.create(communication=communication, contact=other_contact)

    counts = personal_data.erase(contact_ids=[contact.pk], emails=[], phones=[])

    assert counts["contact"] == 1
    assert counts["provenance"] == 2
    assert counts["consent_record"] == 1
    assert counts["breach_recipient"] == 1
    assert counts["campaign_export_file_rewritten"] == 0
    assert list(Contact.objects.values_list("pk", flat=True)) == [other_contact.pk]


def test_erase_by_email_counts_contacts():
    ContactFactory(email="erase.me@example.com")
    ContactFactory(email="keep.me@example.com")

    counts = personal_data.erase(
        contact_ids=[], emails=["erase.me@example.com"], phones=[]
    )

    assert counts == {"contact": 1, "campaign_export_file_rewritten": 0}
    assert Contact.objects.count() == 1


def test_erase_is_lock_and_one_statement(django_assert_num_queries):
    contact = ContactFactory()
    ProvenanceFactory(contact=contact)
    ConsentFactory(contact=contact)

    # The contacts write lock, then one statement for every table.
    with django_assert_num_queries(2):
        counts = personal_data.erase(contact_ids=[contact.pk], emails=[], phones=[])

    assert counts["contact"] == 1
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_empty_identifiers_match_no_contact():
    ContactFactory(email="", phone="")

    counts = personal_data.erase(contact_ids=[], emails=[""], phones=[""])

    assert counts == {"campaign_export_file_rewritten": 0}
    assert Contact.objects.count() == 1


def test_protecting_key_raises(monkeypatch):
    from apps.contacts import erasure

    contact = ContactFactory()
    protected = erasure.Reference(
        table=Contact._meta.db_table, column="id", action=erasure.PROTECT, kind="x"
    )
    monkeypatch.setattr(erasure, "contact_references", lambda: (protected,))

    with pytest.raises(erasure.ContactsProtected, match="contacts_contact"):
        erasure.contacts_erase(contact_ids=[contact.pk])


def _advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND granted"
        )
        return cursor.fetchone()[0]


def test_lock_reading_returns_rows(django_assert_num_queries):
    contact = ContactFactory(email="lu@example.com", phone="+33612345678")
    ContactFactory()
    queryset = Contact.objects.filter(pk=contact.pk).values_list("pk", "email")

    with transaction.atomic():
        with django_assert_num_queries(1):
            rows = contacts_write_lock_reading(queryset)
        assert _advisory_locks_held() == 1

    assert rows == [(contact.pk, "lu@example.com")]


def test_lock_reading_without_rows():
    with transaction.atomic():
        rows = contacts_write_lock_reading(Contact.objects.none().values_list("pk"))
        assert _advisory_locks_held() == 1

    assert rows == []


def test_person_erase_suppresses_in_statement(django_assert_num_queries):
    contact = ContactFactory(email="efface@example.com", phone="+33612345679")
    ProvenanceFactory(contact=contact)

    with transaction.atomic():
        contacts_write_lock_reading(Contact.objects.none().values_list("pk"))
        with django_assert_num_queries(1):
            erased = personal_data.person_erase(
                contact_ids=[contact.pk],
                emails=["efface@example.com"],
                phones=["+33612345679"],
                reason="erased",
                lock_held=True,
            )

    assert erased.counts["contact"] == 1
    assert erased.counts["provenance"] == 1
    assert erased.suppression_added == 2
    assert is_suppressed(email="efface@example.com")
    assert is_suppressed(phone="+33612345679")
    entry = SuppressionEntry.objects.get(kind=SuppressionEntry.Kind.EMAIL)
    assert entry.reason == "erased"


def test_person_erase_without_contacts():
    erased = personal_data.person_erase(
        contact_ids=[], emails=["jamais.vu@example.com"], phones=[], reason="erased"
    )

    assert erased.counts == {"campaign_export_file_rewritten": 0}
    assert erased.suppression_added == 1
    assert is_suppressed(email="jamais.vu@example.com")


def test_list_with_provenance_is_protected():
    from django.db.models import ProtectedError

    provenance = ProvenanceFactory()

    with pytest.raises(ProtectedError):
        provenance.contact_list.delete()

    assert Provenance.objects.filter(pk=provenance.pk).exists()
