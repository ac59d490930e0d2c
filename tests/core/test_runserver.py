import pytest
from django.core.management import get_commands
from django.test import RequestFactory

from apps.core.management.commands.runserver import Command


@pytest.fixture
def static_handler():
    handler = Command().get_handler(use_static_handler=True, insecure_serving=True)
    handler.load_middleware()
    return handler


def test_runserver_is_registre_command():
    assert get_commands()["runserver"] == "apps.core"


@pytest.mark.parametrize(
    "path", ["/static/../manage.py", "/static/css/../../manage.py"]
)
def test_static_path_outside_folder_not_found(static_handler, path):
    request = RequestFactory().get(path)

    response = static_handler.get_response(request)

    assert response.status_code == 404


def test_static_file_still_served(static_handler):
    from django.contrib.staticfiles import finders

    assert finders.find("css/registre.css")
    request = RequestFactory().get("/static/css/registre.css")

    response = static_handler.get_response(request)

    assert response.status_code == 200
