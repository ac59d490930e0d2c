"""The pages that explain a failed request."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from apps.core.middleware import DatabaseBusyMiddleware


def _request():
    request = RequestFactory().post("/login/")
    request.user = AnonymousUser()
    return request


@pytest.mark.django_db
def test_locked_database_explained():
    middleware = DatabaseBusyMiddleware(lambda request: None)

    with translation.override("fr"):
        response = middleware.process_exception(
            _request(), OperationalError("database is locked")
        )

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "Base de données occupée" in response.content.decode()


def test_other_database_error_left_to_django():
    middleware = DatabaseBusyMiddleware(lambda request: None)

    response = middleware.process_exception(
        _request(), OperationalError("no such table")
    )

    assert response is None


def test_server_error_page_in_french():
    with translation.override("fr"):
        response = server_error(_request())

    assert response.status_code == 500
    assert "Erreur du serveur" in response.content.decode()
