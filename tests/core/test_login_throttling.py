import pytest
from django.urls import reverse

from tests.conftest import PASSWORD


@pytest.fixture
def axes_enabled(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def _login(client, username, password):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="127.0.0.9",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_login_locked_after_failures(axes_enabled, client, sales_user):
    for _ in range(3):
        _login(client, sales_user.username, "wrong-password")

    response = _login(client, sales_user.username, PASSWORD)

    assert response.status_code == 429
    assert "Account locked" in response.content.decode()
    assert "15\xa0minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_succeeds_below_limit(axes_enabled, client, sales_user):
    _login(client, sales_user.username, "wrong-password")

    response = _login(client, sales_user.username, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(sales_user.pk)
