"""Factories of the register and contact rows that the retention tests need.

Every identifier is invented (``example.test``).
"""

from datetime import timedelta

import factory
from django.utils import timezone

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import Vendor
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessingActivity

    reference = factory.Sequence(lambda number: f"TEST-{number:03d}")
    name = "Prospection B2B"
    status = ProcessingActivity.Status.IN_FORCE


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RetentionRule

    activity = factory.SubFactory(ActivityFactory)
    data_category = "Coordonnées des prospects"
    record_type = RetentionRule.RecordType.CONTACT
    duration = 3
    unit = RetentionRule.Unit.YEARS
    start_event = RetentionRule.StartEvent.COLLECTION_OR_LAST_CONTACT
    action = RetentionRule.Action.DELETE


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda number: f"Fournisseur {number}")


class ListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda number: f"Liste {number}")
    acquisition = ContactList.Acquisition.PURCHASE
    acquired_on = factory.LazyFunction(
        lambda: timezone.localdate() - timedelta(days=90)
    )


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = "Camille"
    last_name = factory.Sequence(lambda number: f"Exemple{number}")
    email = factory.Sequence(lambda number: f"personne{number}@example.test")
    phone = factory.Sequence(lambda number: f"+3361234{number:04d}")
    job_title = "Responsable achats"
    job_function = "purchasing"
    company = "Atelier Exemple"
    company_domain = "example.test"
    postcode = "69002"
    city = "Lyon"
    country = "FR"
    collected_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))


class ProvenanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provenance

    contact = factory.SubFactory(ContactFactory)
    contact_list = factory.SubFactory(ListFactory)
    row_number = factory.Sequence(lambda number: number + 2)


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentRecord

    contact = factory.SubFactory(ContactFactory)
    channel = ConsentRecord.Channel.EMAIL
    state = ConsentRecord.State.GRANTED
    recorded_at = factory.LazyFunction(timezone.now)
    evidence = "Case cochée sur le formulaire"
