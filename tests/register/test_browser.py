"""Browser flow: create an activity through the forms, edit it, export it."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from apps.register.models import ProcessingActivity
from tests.conftest import PASSWORD
from tests.register.factories import complete_activity

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

SUBMIT = "main form.activity-form button[type=submit]"


def test_officer_creates_edits_exports(page, login_as, compliance_officer):
    """GIVEN the compliance officer logged in
    WHEN they create an activity with a transfer and a retention rule
    THEN it appears in the register list
    AND after an edit its history tab shows the old and the new name
    AND the register downloads as an XLSX holding the activity's record sheet.
    """
    login_as(compliance_officer)
    page.goto("/register/new/")
    page.fill("input[name=reference]", "TRT-777")
    page.fill("input[name=name]", "Salons professionnels")
    page.fill("textarea[name=purposes]", "Relancer les visiteurs de nos stands")
    page.select_option("select[name=lawful_basis]", "legitimate_interests")
    page.fill("textarea[name=legitimate_interest]", "Suivre les contacts des salons")
    page.fill("textarea[name=security_measures]", "Accès par rôle")
    page.fill("input[name=transfers-0-recipient]", "Badges Corp")
    page.fill("input[name=transfers-0-country]", "États-Unis")
    page.select_option("select[name=transfers-0-safeguard]", "scc")
    page.fill("input[name=retention_rules-0-data_category]", "Cartes de visite")
    page.select_option("select[name=retention_rules-0-record_type]", "contact")
    page.fill("input[name=retention_rules-0-duration]", "3")
    page.select_option("select[name=retention_rules-0-unit]", "years")
    page.select_option(
        "select[name=retention_rules-0-start_event]", "collection_or_last_contact"
    )
    page.select_option("select[name=retention_rules-0-action]", "delete")
    page.click(SUBMIT)

    page.wait_for_url("**/register/*/")
    expect(page.locator("#transfers")).to_contain_text("Badges Corp")
    expect(page.locator("#retention")).to_contain_text("Cartes de visite: 3 years")
    activity = ProcessingActivity.objects.get(reference="TRT-777")
    assert activity.transfers.count() == 1
    assert activity.retention_rules.count() == 1

    page.goto("/register/")
    expect(page.locator("table.data")).to_contain_text("TRT-777")
    expect(page.locator("table.data")).to_contain_text("Salons professionnels")

    page.click("text=TRT-777")
    page.click("main .actions >> text=Edit")
    page.fill("input[name=name]", "Salons et congrès")
    page.click(SUBMIT)
    page.wait_for_url(f"**/register/{activity.pk}/")
    page.click("nav.tabs >> text=History")
    history = page.locator("#history tbody tr").first
    expect(history).to_contain_text("Salons professionnels")
    expect(history).to_contain_text("Salons et congrès")
    expect(history).to_contain_text(compliance_officer.username)

    page.goto("/register/")
    with page.expect_download() as download_info:
        page.click("a[data-export=xlsx]")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    # The download has no extension, which openpyxl needs, so read its bytes.
    workbook = load_workbook(io.BytesIO(download.path().read_bytes()))
    assert "TRT-777" in workbook.sheetnames
    record = workbook["TRT-777"]
    values = [cell.value for row in record.iter_rows() for cell in row]
    assert "Salons et congrès" in values
    assert "Badges Corp" in values


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_activity_form_fits_1280px(browser, live_server, compliance_officer, locale):
    """GIVEN a 1280 px wide window in English or French
    WHEN the officer opens the form of an activity with every part filled in
    THEN the page is not wider than the window
    AND every field of the retention rules is inside the window
    AND typing a duration, then clicking Save, saves it.
    """
    activity = complete_activity(compliance_officer, reference="TRT-WIDE")
    context = browser.new_context(
        base_url=live_server.url,
        locale=locale,
        viewport={"width": 1280, "height": 800},
    )
    page = context.new_page()
    try:
        page.goto("/login/")
        page.fill("input[name=username]", compliance_officer.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/")
        page.goto(f"/register/{activity.pk}/edit/")

        page_width = page.evaluate("document.documentElement.scrollWidth")
        rightmost = page.evaluate(
            """Math.max(...[...document.querySelectorAll(
                '#part-retention_rules input, #part-retention_rules select, '
                + '#part-retention_rules textarea')]
                .map((element) => element.getBoundingClientRect().right))"""
        )
        page.fill("input[name=retention_rules-0-duration]", "4")
        page.click(SUBMIT)
        page.wait_for_url(f"**/register/{activity.pk}/")
    finally:
        context.close()

    assert page_width <= 1280
    assert rightmost <= 1280
    assert activity.retention_rules.get().duration == 4
