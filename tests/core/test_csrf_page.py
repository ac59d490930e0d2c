"""A form sent without a valid CSRF token gets a page in the site's layout."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_expired_form_page_in_site_layout(dpo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dpo)

    response = client.post(
        reverse("breaches:breach-create"), {}, HTTP_ACCEPT_LANGUAGE="en"
    )

    page = response.content.decode()
    assert response.status_code == 403
    assert "Form expired" in page
    assert "nothing was saved" in page
    assert "DEBUG" not in page
