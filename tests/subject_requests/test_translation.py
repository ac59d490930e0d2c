import pytest
from django.urls import reverse
from django.utils import translation

from apps.subject_requests.services import RequestError
from apps.subject_requests.services import request_close

pytestmark = pytest.mark.postgres


def test_list_page_in_french(client_for, dpo, make_request):
    make_request()
    client = client_for(dpo)

    response = client.get(
        reverse("subject_requests:request-list"), HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert "Demandes d'exercice de droits" in response.content.decode()
    assert "Jours restants" in response.content.decode()


def test_error_in_french(make_request, dpo):
    request = make_request()

    with translation.override("fr"), pytest.raises(RequestError) as error:
        request_close(request=request, actor=dpo)

    assert "n'est pas vérifiée" in str(error.value)
