import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _menu(page):
    return set(
        page.locator("nav.mainnav a").evaluate_all(
            "links => links.map(link => link.dataset.nav)"
        )
    )


def test_compliance_officer_sees_own_menu(login_as, compliance_officer):
    page = login_as(compliance_officer)

    menu = _menu(page)

    assert "core:audit-list" in menu
    assert "core:organisation" in menu
    assert page.locator("h1").inner_text() == "Dashboard"


def test_dpo_sees_own_menu(login_as, dpo):
    page = login_as(dpo)

    assert "core:audit-list" in _menu(page)


def test_sales_menu_and_forbidden_url(login_as, sales_user):
    page = login_as(sales_user)

    assert "core:audit-list" not in _menu(page)
    response = page.goto("/audit/")
    assert response.status == 403
    assert "Access denied" in page.content()


def test_wrong_password_shows_error(page, sales_user):
    page.goto("/login/")
    page.fill("input[name=username]", sales_user.username)
    page.fill("input[name=password]", "wrong-password")
    page.click("main button[type=submit]")

    assert (
        "Please enter a correct username and password"
        in page.locator("main").inner_text()
    )
