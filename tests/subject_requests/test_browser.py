import io
import zipfile

import pytest

from apps.subject_requests.models import SubjectRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dpo_handles_access_request(login_as, dpo, person, tmp_path):
    """GIVEN a contact bought from two lists
    WHEN the DPO records an access request, verifies the identity, links the
    contact, downloads the access package and closes the request
    THEN the package names the vendor and the request is closed."""
    page = login_as(dpo)

    page.goto("/requests/")
    assert page.locator("a[data-nav='subject_requests:request-list']").count() == 1
    page.click("text=Record a request")
    page.select_option("#id_kind", "access")
    page.select_option("#id_channel", "letter")
    page.fill("#id_requester_name", "Maëlle Quintard-Exemple")
    page.fill("#id_requester_email", "Maelle.Quintard@example.com")
    page.fill("#id_received_at", "2026-11-20T09:30")
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('DSR-')")
    assert page.locator("[data-due]").get_attribute("data-due") == "2026-12-20"

    page.select_option("#identity_verified", "1")
    page.fill("#identity_method", "Reply from the address on file")
    page.click("button[value=identity]")
    assert page.locator("[data-identity]").get_attribute("data-identity") == (
        "verified"
    )

    page.click("button[value=search]")
    assert page.locator("tr.match").count() >= 1
    page.check(f"input[name=contact_ids][value='{person.pk}']")
    page.click("button[value=link]")
    assert page.locator(f"tr.linked-contact[data-contact='{person.pk}']").count() == 1

    with page.expect_download() as download_info:
        page.click("button[value=access-package]")
    path = tmp_path / "package.zip"
    download_info.value.save_as(path)
    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    assert "Fichiers Exemple SARL" in archive.read("answer.html").decode()

    page.click("button[value=close]")
    assert page.locator("[data-status]").get_attribute("data-status") == "closed"
    request = SubjectRequest.objects.get()
    assert request.status == SubjectRequest.Status.CLOSED
    assert request.closed_at is not None


def test_officer_sees_no_actions(login_as, compliance_officer, make_request):
    request = make_request()
    page = login_as(compliance_officer)

    page.goto(f"/requests/{request.pk}/")

    assert page.locator("h1").inner_text().startswith(request.reference)
    assert page.locator("button[value=search]").count() == 0


def test_sales_gets_403(login_as, sales_user, make_request):
    request = make_request()
    page = login_as(sales_user)

    response = page.goto(f"/requests/{request.pk}/")

    assert response.status == 403
