"""The breach register in French, the site's default language."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.formats import date_format

from apps.breaches.deadlines import check_deadlines
from apps.breaches.models import BreachNotification
from apps.breaches.services import BreachError
from apps.breaches.services import breach_notify_authority
from apps.breaches.services import breach_update
from apps.contacts.models import Contact

from .factories import ActivityFactory
from .factories import BreachFactory
from .factories import ContactFactory

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


@pytest.fixture
def french_site(settings):
    """The site in its default language, French, with no Accept-Language header."""
    settings.LANGUAGE_CODE = "fr"


def test_detail_page_in_french(client_for, dpo, organisation, french_site):
    breach = BreachFactory(
        aware_at=timezone.now() - timedelta(hours=30),
        subjects_approx=1200,
        records_approx=3400,
    )
    breach_update(breach=breach, data={"records_approx": 3500}, actor=dpo)
    check_deadlines()
    url = reverse("breaches:breach-detail", args=[breach.pk])

    content = client_for(dpo).get(url).content.decode()

    assert "1\xa0200" in content
    assert "3\xa0500" in content
    assert "<h2>Chronologie</h2>" in content
    assert "Modifiée" in content
    assert "encore 48 heures : " in content


def test_draft_in_french(client_for, dpo, organisation, french_site):
    breach = BreachFactory(subjects_approx=1200)
    submitted_at = timezone.now()
    url = reverse("breaches:breach-draft", args=[breach.pk])
    client = client_for(dpo)

    before = client.get(url).content.decode()
    breach_notify_authority(
        breach=breach,
        phase=BreachNotification.Phase.INITIAL,
        submitted_at=submitted_at,
    )
    after = client.get(url).content.decode()

    assert "<dd>aucune</dd>" in before
    assert "<dd>1\xa0200</dd>" in before
    assert "<dt>Adresse postale</dt><dd>à compléter</dd>" in before
    assert "Notification initiale : " in after
    assert submitted_at.isoformat()[:10] not in after


def test_list_filters_in_french(client_for, dpo, french_site):
    breach = BreachFactory()
    activity = ActivityFactory()
    breach.activities.add(activity)
    client = client_for(dpo)

    register = client.get(reverse("breaches:breach-list")).content.decode()
    people = client.get(
        reverse("breaches:breach-subjects", args=[breach.pk])
    ).content.decode()

    assert '<option value="">Tous</option>' in register
    assert '<option value="" selected>Toutes</option>' in people


def test_download_names_in_french(client_for, dpo, organisation, french_site):
    breach = BreachFactory()
    activity = ActivityFactory()
    ContactFactory(processing_activity=activity)
    client = client_for(dpo)

    draft = client.get(
        reverse("breaches:breach-draft", args=[breach.pk]), {"format": "pdf"}
    )
    people = client.get(
        reverse("breaches:breach-subjects-export", args=[breach.pk]),
        {"activities": activity.pk, "format": "csv"},
    )

    assert draft["Content-Disposition"] == (
        f'attachment; filename="{breach.reference}-brouillon-notification.pdf"'
    )
    assert people["Content-Disposition"] == (
        f'attachment; filename="{breach.reference}-personnes-a-informer.csv"'
    )


def test_contact_counts_grouped_in_french(client_for, dpo, french_site):
    breach = BreachFactory()
    activity = ActivityFactory()
    Contact.objects.bulk_create(
        Contact(
            email=f"person{number}@example.test",
            processing_activity=activity,
            collected_at=timezone.now(),
        )
        for number in range(1000)
    )
    client = client_for(dpo)
    selection = {"selected": "1", "activities": activity.pk}
    local_now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    people = client.get(
        reverse("breaches:breach-subjects", args=[breach.pk]), selection
    )
    recorded = client.post(
        reverse("breaches:breach-communication", args=[breach.pk]),
        {"activities": activity.pk, "communicated_at": local_now, "method": "E-mail"},
        follow=True,
    )

    people_html = people.content.decode()
    recorded_html = recorded.content.decode()
    assert "1\xa0000 contacts touchés" in people_html
    assert "Enregistrer que 1\xa0000 personnes ont été informées" in people_html
    assert "Communication à 1\xa0000 personnes enregistrée." in recorded_html
    assert "E-mail (1\xa0000 personnes)" in recorded_html
    assert '<td class="num">1\xa0000</td>' in recorded_html


def test_notify_page_in_french(client_for, dpo, french_site):
    breach = BreachFactory()
    url = reverse("breaches:breach-notify", args=[breach.pk])
    with translation.override("fr"):
        deadline = date_format(
            timezone.localtime(breach.deadline_at), "DATETIME_FORMAT"
        )

    content = client_for(dpo).get(url).content.decode()

    assert f"Date limite : {deadline} · " in content
    assert "encore " in content


def test_awareness_before_gdpr_error_in_french(db):
    breach = BreachFactory()
    old = datetime(2010, 3, 1, 10, 0, tzinfo=UTC)

    with translation.override("fr"), pytest.raises(BreachError) as error:
        breach_update(breach=breach, data={"detected_at": old, "aware_at": old})

    assert "25 mai 2018" in str(error.value)
    assert "date d'entrée en application du RGPD" in str(error.value)


def test_notification_event_in_french(db):
    breach = BreachFactory()
    breach_notify_authority(
        breach=breach,
        phase=BreachNotification.Phase.INITIAL,
        submitted_at=timezone.now(),
        authority_reference="CNIL-REF-1",
    )
    event = breach.events.get(kind="notified")

    with translation.override("fr"):
        assert event.display_text == "Notification initiale (CNIL-REF-1)"


def test_overdue_detail_in_french(client_for, dpo, french_site):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=98, minutes=1))
    url = reverse("breaches:breach-detail", args=[breach.pk])

    content = client_for(dpo).get(url).content.decode()

    assert "<dt>État de la notification</dt>" in content
    assert "en retard de 26 h 0" in content
    assert "Temps restant" not in content


def test_future_detection_error_in_french(db):
    breach = BreachFactory()

    with translation.override("fr"), pytest.raises(BreachError) as error:
        breach_update(
            breach=breach, data={"detected_at": timezone.now() + timedelta(days=1)}
        )

    assert "la violation a été détectée" in str(error.value)
    assert "c'est arrivé" not in str(error.value)


def test_notified_facts_error_in_french(db):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=10))
    breach_notify_authority(
        breach=breach,
        phase=BreachNotification.Phase.INITIAL,
        submitted_at=timezone.now(),
    )

    with translation.override("fr"), pytest.raises(BreachError) as error:
        breach_update(breach=breach, data={"aware_at": timezone.now()})

    assert "tels que l'autorité les a reçus" in str(error.value)
    assert "Prise de connaissance le" in str(error.value)


def test_pending_communication_in_french(client_for, dpo, french_site):
    BreachFactory(subjects_must_be_informed=True)

    content = client_for(dpo).get(reverse("breaches:breach-list")).content.decode()

    assert "Personnes concernées pas encore informées" in content


def test_register_export_in_french(client_for, dpo, organisation, french_site):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=80))
    url = reverse("breaches:breach-register-export")

    response = client_for(dpo).get(url, {"format": "csv"})

    text = response.content.decode("utf-8").removeprefix("\ufeff")
    header, row = text.splitlines()[:2]
    assert header.startswith("Référence;Titre;")
    assert "Notification en retard" in header
    assert breach.reference in row
    assert ";oui;" in row
    assert "registre-violations-" in response["Content-Disposition"]
