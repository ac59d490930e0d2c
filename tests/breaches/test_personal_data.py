"""The breach register's finder and eraser in the personal-data registry."""

import pytest
from django.utils import timezone

from apps.breaches.models import BreachCommunication
from apps.breaches.models import BreachRecipient
from apps.breaches.services import breach_record_communication
from apps.core.personal_data import personal_data_erase
from apps.core.personal_data import personal_data_find

from .factories import ActivityFactory
from .factories import BreachFactory
from .factories import ContactFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def informed(db):
    activity = ActivityFactory()
    person = ContactFactory(processing_activity=activity, email="lea@example.test")
    other = ContactFactory(processing_activity=activity)
    breach = BreachFactory()
    breach_record_communication(
        breach=breach,
        communicated_at=timezone.now(),
        method="Letter",
        activity_ids=[activity.pk],
    )
    return breach, person, other


def test_find_by_email(informed):
    breach, person, _other = informed

    matches = [
        match
        for match in personal_data_find(emails=["lea@example.test"])
        if match.kind == "breach_recipient"
    ]

    assert len(matches) == 1
    assert matches[0].label == str(breach)
    assert matches[0].matched_on == f"contact #{person.pk}"


def test_find_by_name(informed):
    _breach, person, _other = informed

    matches = personal_data_find(names=[person.full_name.upper()])

    assert "breach_recipient" in {match.kind for match in matches}


def test_erase_removes_recipient_keeps_count(informed):
    _breach, person, other = informed

    counts = personal_data_erase(contact_ids=[person.pk])

    assert counts.get("breach_recipient", 0) + counts.get("contact", 0) >= 1
    assert not BreachRecipient.objects.filter(contact_id=person.pk).exists()
    assert BreachRecipient.objects.filter(contact_id=other.pk).exists()
    assert BreachCommunication.objects.get().recipient_count == 2
