"""The demo contacts follow the rules that imports apply to real lists."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.contacts.models import Audience
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.register.models import LawfulBasis

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", password="demo", stdout=StringIO())


def test_demo_consumers_under_consent_activity(demo):
    consumers = Contact.objects.filter(audience=Audience.B2C)

    assert consumers.exists()
    for contact in consumers:
        assert contact.lawful_basis == LawfulBasis.CONSENT
        assert contact.processing_activity.lawful_basis == LawfulBasis.CONSENT


def test_demo_rows_dated_by_their_list(demo):
    for provenance in Provenance.objects.select_related("contact", "contact_list"):
        acquired_on = provenance.contact_list.acquired_on
        assert timezone.localdate(provenance.contact.collected_at) <= acquired_on
        assert timezone.localdate(provenance.imported_at) == acquired_on
