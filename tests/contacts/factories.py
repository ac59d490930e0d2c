import datetime

import factory
from django.utils import timezone

from apps.contacts.models import Audience
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import Vendor
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessingActivity

    reference = factory.Sequence(lambda number: f"TRT-T{number:03d}")
    name = "Prospection B2B"
    lawful_basis = LawfulBasis.LEGITIMATE_INTERESTS
    legitimate_interest = "Développer la clientèle professionnelle"
    concerns_recipients_profession = True
    status = ProcessingActivity.Status.IN_FORCE


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda number: f"Fournisseur {number}")
    objection_instructions = "Écrire à opposition@fournisseur.example.com"


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda number: f"Liste {number}")
    acquired_on = datetime.date(2026, 9, 1)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = "Ana"
    last_name = factory.Sequence(lambda number: f"Martin{number}")
    email = factory.Sequence(lambda number: f"ana.martin{number}@example.com")
    company = "Exemple SARL"
    audience = Audience.B2B
    lawful_basis = LawfulBasis.LEGITIMATE_INTERESTS
    processing_activity = factory.SubFactory(ActivityFactory)
    collected_at = factory.LazyFunction(timezone.now)


class ProvenanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provenance

    contact = factory.SubFactory(ContactFactory)
    contact_list = factory.SubFactory(ContactListFactory)
    row_number = 2


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentRecord

    contact = factory.SubFactory(ContactFactory)
    channel = ConsentRecord.Channel.EMAIL
    state = ConsentRecord.State.GRANTED
    recorded_at = factory.LazyFunction(timezone.now)
    evidence = "Formulaire coché"
