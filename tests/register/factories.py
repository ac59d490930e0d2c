import datetime

import factory

from apps.register.models import DataSubjectCategory
from apps.register.models import LawfulBasis
from apps.register.models import PersonalDataCategory
from apps.register.models import ProcessingActivity
from apps.register.models import Processor
from apps.register.models import Recipient
from apps.register.models import RetentionRule
from apps.register.models import Transfer


class ActivityFactory(factory.django.DjangoModelFactory):
    """A processing activity with no parts; ``complete_activity`` adds them."""

    class Meta:
        model = ProcessingActivity

    reference = factory.Sequence(lambda number: f"TST-{number:03d}")
    name = factory.Sequence(lambda number: f"Traitement de test {number}")
    purposes = "Prospection commerciale"
    lawful_basis = LawfulBasis.CONTRACT
    security_measures = "Contrôle d'accès"
    data_sources = "Directement auprès de la personne"
    dpia_required = False
    next_review_on = datetime.date(2030, 1, 1)
    status = ProcessingActivity.Status.IN_FORCE


def complete_activity(owner, **fields) -> ProcessingActivity:
    """Create an activity with every Art. 30 item filled in."""
    activity = ActivityFactory(owner=owner, **fields)
    DataSubjectCategory.objects.create(activity=activity, label="Prospects")
    PersonalDataCategory.objects.create(activity=activity, label="Coordonnées")
    Recipient.objects.create(activity=activity, label="Service commercial")
    Processor.objects.create(
        activity=activity,
        name="Routeur SA",
        service="Envoi d'e-mails",
        country="France",
        dpa_signed_on=datetime.date(2026, 1, 2),
    )
    Transfer.objects.create(
        activity=activity,
        recipient="Hébergeur Inc.",
        country="États-Unis",
        safeguard=Transfer.Safeguard.SCC,
        documentation="Contrat du 02/01/2026",
    )
    RetentionRule.objects.create(
        activity=activity,
        data_category="Coordonnées",
        record_type=RetentionRule.RecordType.CONTACT,
        duration=3,
        unit=RetentionRule.Unit.YEARS,
        start_event=RetentionRule.StartEvent.LAST_CONTACT,
        action=RetentionRule.Action.DELETE,
    )
    return activity
