import pytest
from django.utils import translation

from apps.core.models import Organisation


@pytest.fixture
def organisation(db):
    organisation = Organisation.current()
    organisation.name = "Exemple Industries SAS"
    organisation.dpo_name = "Dana Fictive"
    organisation.dpo_email = "dpo@example.test"
    organisation.dpo_phone = "+33 4 00 00 00 01"
    organisation.save()
    return organisation


@pytest.fixture(autouse=True)
def english(settings):
    """Run in English, whatever the site default, so messages match the source.

    Tests of the French wording switch the language back themselves.
    """
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
