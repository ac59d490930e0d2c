"""Invented demo data of the breach register: one open breach, one closed."""

from datetime import timedelta

from django.utils import timezone

from apps.register.models import ProcessingActivity

from .models import Breach
from .models import BreachNotification
from .services import breach_close
from .services import breach_create
from .services import breach_notify_authority

OPEN_TITLE = "Lost laptop of a sales representative"
CLOSED_TITLE = "Prospect e-mail sent with every recipient visible"


def _seed_open(*, activities) -> None:
    now = timezone.now()
    breach_create(
        data={
            "title": OPEN_TITLE,
            "description": (
                "A laptop holding an export of prospect contacts was left on a "
                "train. The disk encryption status is being checked."
            ),
            "detected_at": now - timedelta(hours=32),
            "aware_at": now - timedelta(hours=30),
            "affects_confidentiality": True,
            "subject_categories": "B2B prospects",
            "subjects_approx": 1200,
            "data_categories": "Name, professional e-mail, phone, company",
            "records_approx": 1200,
            "likely_consequences": "Unsolicited contact, phishing attempts.",
            "measures_taken": "Remote wipe requested; account passwords reset.",
            "measures_proposed": "Enforce disk encryption on every laptop.",
            "risk_level": Breach.RiskLevel.RISK,
            "risk_reasoning": "Professional contact data only; encryption unknown.",
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
                "A newsletter went out with the recipients in the To field "
                "instead of Bcc, so each recipient saw 85 other addresses."
            ),
            "detected_at": aware_at - timedelta(hours=1),
            "aware_at": aware_at,
            "affects_confidentiality": True,
            "subject_categories": "B2B prospects",
            "subjects_approx": 86,
            "data_categories": "Professional e-mail addresses",
            "records_approx": 86,
            "likely_consequences": "Addresses known to other prospects.",
            "measures_taken": "Recall requested; recipients asked to delete it.",
            "measures_proposed": "Send campaigns only through the mailing tool.",
            "risk_level": Breach.RiskLevel.RISK,
            "risk_reasoning": "Professional addresses, limited spread.",
            "notification_decision": Breach.NotificationDecision.REQUIRED,
        },
        activities=activities,
    )
    breach_notify_authority(
        breach=breach,
        phase=BreachNotification.Phase.INITIAL,
        submitted_at=aware_at + timedelta(hours=30),
        authority_reference="DEMO-0001",
        content="Initial notification with the facts known at the time.",
    )
    breach_close(breach=breach, closed_at=aware_at + timedelta(days=10))


def seed_demo(*, password: str, stdout) -> None:
    activities = list(ProcessingActivity.objects.filter(reference="TRT-001"))
    if not Breach.objects.filter(title=OPEN_TITLE).exists():
        _seed_open(activities=activities)
    if not Breach.objects.filter(title=CLOSED_TITLE).exists():
        _seed_closed(activities=activities)
    stdout.write("breaches: one open breach and one closed, notified breach")
