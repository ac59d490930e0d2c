"""The breach register in French, the site's default language."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils import translation

from apps.breaches.deadlines import check_deadlines
from apps.breaches.models import BreachNotification
from apps.breaches.services import BreachError
from apps.breaches.services import breach_notify_authority

from .factories import BreachFactory

pytestmark = pytest.mark.postgres


def test_alert_email_in_site_language(settings, organisation):
    settings.LANGUAGE_CODE = "fr"
    BreachFactory(aware_at=timezone.now() - timedelta(hours=30))

    check_deadlines()

    assert "pour notifier" in mail.outbox[0].subject


def test_late_notification_error_in_french(db):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=80))

    with translation.override("fr"), pytest.raises(BreachError) as error:
        breach_notify_authority(
            breach=breach,
            phase=BreachNotification.Phase.INITIAL,
            submitted_at=timezone.now(),
        )

    assert "indiquez les motifs du retard" in str(error.value)


def test_register_page_in_french(client_for, dpo):
    client = client_for(dpo)

    response = client.get(reverse("breaches:breach-list"), HTTP_ACCEPT_LANGUAGE="fr")

    assert "Registre des violations de données" in response.content.decode()


def test_draft_pdf_in_french(client_for, dpo, organisation):
    breach = BreachFactory(measures_taken="Mots de passe réinitialisés, accès coupé…")
    url = reverse("breaches:breach-draft", args=[breach.pk])

    response = client_for(dpo).get(url, {"format": "pdf"}, HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
