"""The imports app's data migrations, run on rows written the old way."""

import importlib

import pytest
from django.apps import apps

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from tests.imports.conftest import import_file

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

backfill = importlib.import_module(
    "apps.imports.migrations.0010_consent_records_backfill"
)
CONSENT_TERMS = {
    "audience": "b2c",
    "lawful_basis": "consent",
    "consent_claim": "opt_in",
}


def test_earlier_opt_in_import_gets_consent(upload_root, write_file):
    path = write_file(
        "optin.csv", "Courriel\njean.dupont@example.com\nzoe.petit@example.com\n"
    )
    job = import_file(path, **CONSENT_TERMS)
    # Imports made before consent recording wrote none; Zoé got one since.
    ConsentRecord.objects.exclude(contact__email="zoe.petit@example.com").delete()

    backfill.consent_records_backfill(apps, None)

    jean = Contact.objects.get(email="jean.dupont@example.com")
    record = ConsentRecord.objects.get(contact=jean)
    assert record.state == ConsentRecord.State.GRANTED
    assert record.evidence.endswith(f"import job #{job.pk}, row 2.")
    assert (
        ConsentRecord.objects.filter(contact__email="zoe.petit@example.com").count()
        == 1
    )


def test_legitimate_interests_import_gets_none(upload_root, write_file):
    import_file(write_file("li.csv", "Courriel\njean.dupont@example.com\n"))

    backfill.consent_records_backfill(apps, None)

    assert not ConsentRecord.objects.exists()
