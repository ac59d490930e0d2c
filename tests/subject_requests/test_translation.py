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


def test_detail_page_in_french(client_for, dpo, make_request, person):
    from apps.subject_requests.services import request_link_contacts
    from apps.subject_requests.services import request_search

    request = make_request(kind="erasure", verified_by=dpo)
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    response = client_for(dpo).get(
        reverse("subject_requests:request-detail", args=[request.pk]),
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Effacer la personne" in html
    assert "Rechercher dans toutes les sources" in html
    assert "jours restants" in html


def test_access_package_in_french(make_request, dpo, person):
    import io
    import zipfile

    from apps.subject_requests.services import request_build_package
    from apps.subject_requests.services import request_link_contacts

    request = make_request(verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with translation.override("fr"):
        data = request_build_package(request=request, actor=dpo)

    html = zipfile.ZipFile(io.BytesIO(data)).read("answer.html").decode()
    assert "Vos droits" in html
    assert "Source des données" in html
    assert "la CNIL" in html
