"""Browser flow: record a breach, watch the countdown, record the notification."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.breaches.models import Breach

from .factories import BreachFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def test_dpo_records_and_notifies_breach(page, login_as, dpo):
    """GIVEN the DPO logged in
    WHEN they record a breach they became aware of two hours ago
    THEN the breach page shows about 70 hours left, ticking down in the browser
    AND recording the notification replaces the countdown with "Notified".
    """
    # The machine running the suite may be busy, so allow slow page loads.
    page.set_default_timeout(30_000)
    aware_at = timezone.localtime() - timedelta(hours=2)
    login_as(dpo)
    page.clock.install()
    page.goto("/breaches/new/")
    page.fill("input[name=title]", "Prospect file sent to a wrong address")
    page.fill("textarea[name=description]", "A CSV export went to a supplier.")
    page.fill("input[name=detected_at]", aware_at.strftime(LOCAL_INPUT))
    page.fill("input[name=aware_at]", aware_at.strftime(LOCAL_INPUT))
    page.check("input[name=affects_confidentiality]")
    page.select_option("select[name=risk_level]", "risk")
    page.click("main button[type=submit]")

    page.wait_for_url("**/breaches/*/")
    countdown = page.locator(".breach-clock .breach-countdown")
    expect(countdown).to_contain_text("h")
    expect(countdown).to_contain_text("min left")
    first_text = countdown.inner_text()
    assert first_text.startswith(("69 h", "70 h"))

    page.clock.fast_forward("01:00:00")
    expect(countdown).not_to_have_text(first_text)
    assert countdown.inner_text().startswith(("68 h", "69 h"))

    page.click("text=Record the notification")
    page.fill("input[name=authority_reference]", "CNIL-TEST-1")
    page.click("main form button[type=submit]")

    page.wait_for_url("**/breaches/*/")
    expect(page.locator(".breach-clock")).to_contain_text("Notified")
    expect(page.locator(".breach-clock .breach-countdown")).to_have_count(0)
    breach = Breach.objects.get()
    assert breach.status == Breach.Status.NOTIFIED
    assert breach.authority_reference == "CNIL-TEST-1"


def test_draft_offers_copy_buttons(page, login_as, dpo, organisation):
    page.set_default_timeout(30_000)
    breach = BreachFactory(measures_taken="Passwords reset.")
    login_as(dpo)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    page.goto(f"/breaches/{breach.pk}/draft/")

    values = page.locator("dl.details dd")
    buttons = page.locator("button.draft-copy")
    expect(buttons).to_have_count(values.count())
    measures = page.locator("dd", has_text="Passwords reset.")
    measures.locator("button.draft-copy").click()
    expect(measures.locator("button.draft-copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "Passwords reset."


def test_countdown_ticks_in_days_when_overdue(page, login_as, dpo):
    page.set_default_timeout(30_000)
    aware_at = timezone.now() - timedelta(hours=72 + 72 + 5)
    breach = BreachFactory(aware_at=aware_at, detected_at=aware_at)
    login_as(dpo)
    page.clock.install()

    page.goto(f"/breaches/{breach.pk}/")
    countdown = page.locator(".breach-clock .breach-countdown")
    expect(countdown).to_contain_text("overdue by 3 d 5 h")
    page.clock.fast_forward("20:00:00")

    expect(countdown).to_contain_text("overdue by 4 d 1 h")
