"""factory_boy factories of the breach tests. Every person is invented."""

from datetime import timedelta

import factory
from django.utils import timezone

from apps.breaches.models import Breach
from apps.contacts.models import Contact
from apps.register.models import ProcessingActivity


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessingActivity

    reference = factory.Sequence(lambda number: f"TRT-{number + 100:03d}")
    name = factory.Sequence(lambda number: f"Prospecting {number}")
    status = ProcessingActivity.Status.IN_FORCE


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda number: f"Prénom{number}")
    last_name = "Exemple"
    email = factory.Sequence(lambda number: f"person{number}@example.test")
    company = "Exemple SARL"
    processing_activity = factory.SubFactory(ActivityFactory)
    collected_at = factory.LazyFunction(timezone.now)


class BreachFactory(factory.django.DjangoModelFactory):
    """A confidentiality breach whose clock started ``aware_at``."""

    class Meta:
        model = Breach

    reference = factory.Sequence(lambda number: f"BRE-2026-{number + 500:03d}")
    title = factory.Sequence(lambda number: f"Test breach {number}")
    description = "A file of prospects was sent to the wrong recipient."
    aware_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    detected_at = factory.LazyAttribute(lambda breach: breach.aware_at)
    affects_confidentiality = True
    risk_level = Breach.RiskLevel.RISK
    notification_decision = Breach.NotificationDecision.REQUIRED
