import pytest
from django.urls import reverse

from apps.core.navigation import navigation_for


def _nav_names(user):
    return {entry["url_name"] for entry in navigation_for(user)}


def test_roles_exist_with_permissions(compliance_officer, sales_user, dpo):
    assert compliance_officer.has_perm("core.change_organisation")
    assert not sales_user.has_perm("core.change_organisation")
    assert dpo.has_perm("core.view_audit_trail")
    assert not sales_user.has_perm("core.view_audit_trail")


def test_sales_navigation_hides_audit(sales_user):
    assert "core:audit-list" not in _nav_names(sales_user)


def test_dpo_navigation_shows_audit(dpo):
    assert "core:audit-list" in _nav_names(dpo)


def test_dashboard_requires_login(client):
    response = client.get(reverse("core:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["compliance_officer", "sales_user", "dpo"])
def test_dashboard_renders_for_each_role(request, client_for, persona):
    user = request.getfixturevalue(persona)

    response = client_for(user).get(reverse("core:dashboard"))

    assert response.status_code == 200


def test_compliance_officer_edits_organisation(client_for, compliance_officer):
    client = client_for(compliance_officer)
    loaded = client.get(reverse("core:organisation")).context["form"]["loaded_version"]

    response = client.post(
        reverse("core:organisation"),
        {
            "name": "Exemple SAS",
            "country": "FR",
            "dpo_name": "Alex Martin",
            "loaded_version": loaded.value(),
        },
    )

    assert response.status_code == 302
    page = client.get(reverse("core:organisation"))
    assert "Exemple SAS" in page.content.decode()


def test_sales_cannot_edit_organisation(client_for, sales_user):
    response = client_for(sales_user).post(
        reverse("core:organisation"), {"name": "Hijacked", "country": "FR"}
    )

    assert response.status_code == 403


def test_outsider_cannot_view_organisation(client_for, outsider):
    response = client_for(outsider).get(reverse("core:organisation"))

    assert response.status_code == 403


def test_dashboard_lists_missing_organisation_items(client_for, compliance_officer):
    response = client_for(compliance_officer).get(
        reverse("core:dashboard"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert "DPO name" in response.content.decode()


def test_dashboard_hides_audit_panel_from_sales(client_for, sales_user):
    response = client_for(sales_user).get(
        reverse("core:dashboard"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert "Latest audit events" not in response.content.decode()


@pytest.mark.parametrize("url_name", ["core:organisation", "register:activity-list"])
def test_pages_warn_of_missing_organisation_items(
    client_for, compliance_officer, url_name
):
    response = client_for(compliance_officer).get(
        reverse(url_name), HTTP_ACCEPT_LANGUAGE="en"
    )

    content = response.content.decode()
    assert 'id="organisation-missing"' in content
    assert "DPO name" in content


def test_rejected_save_names_saved_gaps(client_for, compliance_officer):
    from apps.core.models import Organisation

    Organisation.objects.update_or_create(
        pk=Organisation.current().pk,
        defaults={
            "name": "Exemple SAS",
            "address": "1 rue Exemple, Lyon",
            "registration_number": "732829320",
            "dpo_name": "Délégué Exemple",
            "dpo_email": "dpo@example.com",
        },
    )

    response = client_for(compliance_officer).post(
        reverse("core:organisation"),
        {"name": "", "country": "FR"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert 'id="organisation-missing"' not in response.content.decode()
