"""Invented demo data of the breach register: one open breach, one closed."""

from datetime import timedelta

from django.utils import timezone

from apps.register.models import ProcessingActivity

from .models import Breach
from .models import BreachNotification
from .services import breach_close
from .services import breach_create
from .services import breach_notify_authority

OPEN_TITLE = "Perte de l'ordinateur portable d'un commercial"
CLOSED_TITLE = "E-mail de prospection envoyé avec tous les destinataires visibles"


def _seed_open(*, activities) -> None:
    now = timezone.now()
    breach_create(
        data={
            "title": OPEN_TITLE,
            "description": (
                "Un ordinateur portable contenant un export de contacts prospects "
                "a été oublié dans un train. Le chiffrement du disque est en "
                "cours de vérification."
            ),
            "detected_at": now - timedelta(hours=32),
            "aware_at": now - timedelta(hours=30),
            "affects_confidentiality": True,
            "subject_categories": "Prospects B2B",
            "subjects_approx": 1200,
            "data_categories": "Nom, e-mail professionnel, téléphone, société",
            "records_approx": 1200,
            "likely_consequences": "Sollicitations non désirées, hameçonnage.",
            "measures_taken": "Effacement à distance demandé, mots de passe changés.",
            "measures_proposed": "Chiffrement obligatoire de tous les portables.",
            "risk_level": Breach.RiskLevel.RISK,
            "risk_reasoning": "Contacts professionnels, chiffrement inconnu.",
            "notification_decision": Breach.NotificationDecision.REQUIRED,
        },
        activities=activities,
    )


def _seed_closed(*, activities) -> None:
    now = timezone.now()
    aware_at = now - timedelta(days=40)
    breach = breach_create(
        data={
            "title": CLOSED_TITLE,
            "description": (
                "Une lettre d'information est partie avec les destinataires en "
                "« À » au lieu de « Cci » : chacun a vu 85 autres adresses."
            ),
            "detected_at": aware_at - timedelta(hours=1),
            "aware_at": aware_at,
            "affects_confidentiality": True,
            "subject_categories": "Prospects B2B",
            "subjects_approx": 86,
            "data_categories": "Adresses e-mail professionnelles",
            "records_approx": 86,
            "likely_consequences": "Adresses connues d'autres prospects.",
            "measures_taken": "Message rappelé, suppression demandée.",
            "measures_proposed": "Campagnes par l'outil d'e-mailing uniquement.",
            "risk_level": Breach.RiskLevel.RISK,
            "risk_reasoning": "Adresses professionnelles, diffusion limitée.",
            "notification_decision": Breach.NotificationDecision.REQUIRED,
        },
        activities=activities,
    )
    breach_notify_authority(
        breach=breach,
        phase=BreachNotification.Phase.INITIAL,
        submitted_at=aware_at + timedelta(hours=30),
        authority_reference="DEMO-0001",
        content="Notification initiale avec les faits connus à ce moment.",
    )
    breach_close(breach=breach, closed_at=aware_at + timedelta(days=10))


def seed_demo(*, password: str, stdout) -> None:
    activities = list(ProcessingActivity.objects.filter(reference="TRT-001"))
    if not Breach.objects.filter(title=OPEN_TITLE).exists():
        _seed_open(activities=activities)
    if not Breach.objects.filter(title=CLOSED_TITLE).exists():
        _seed_closed(activities=activities)
    stdout.write("breaches: one open breach and one closed, notified breach")
