import pytest

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
