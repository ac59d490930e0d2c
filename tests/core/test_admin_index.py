"""The Django admin's index, as the administrator reads it."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_admin_index_names_apps_in_french(admin_client):
    response = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fr")

    content = response.content.decode()
    assert "Violations de données personnelles" in content
    assert "Demandes d&#x27;exercice des droits" in content
    assert "Subject_Requests" not in content
