"""The compliance officer's retention flow in Chromium."""

import pytest

from apps.contacts.models import Contact
from tests.retention.factories import ContactFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_officer_previews_then_applies_retention(
    login_as, compliance_officer, contact_rule, expired_at, recent_today
):
    """GIVEN two contacts past their limit and one recent contact.
    WHEN the compliance officer refreshes the preview, then confirms and applies
    the rules.
    THEN the preview counts 2 and the run removes both contacts.
    AND the audit trail shows the rule's event with its count."""
    due = [
        ContactFactory(
            processing_activity=contact_rule.activity, collected_at=expired_at
        ).pk
        for _ in range(2)
    ]
    recent = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=recent_today
    )
    page = login_as(compliance_officer)

    page.click("[data-nav='retention:overview']")
    page.click("#next-run button.secondary")

    rule_row = f"#preview tr[data-step='contacts:rule:{contact_rule.pk}']"
    assert page.locator(".messages li").first.is_visible()
    assert page.locator(f"{rule_row} td.num").inner_text() == "2"

    assert page.locator("#apply-form p strong").inner_text() == "2"
    page.check("#apply-form input[name='confirm']")
    page.click("#next-run button.danger")

    last_row = f"#last-run tr[data-step='contacts:rule:{contact_rule.pk}']"
    assert page.locator(f"{last_row} td.num").inner_text() == "2"
    assert page.locator("#last-run .badge.ok").first.is_visible()
    assert not Contact.objects.filter(pk__in=due).exists()
    assert Contact.objects.filter(pk=recent.pk).exists()

    page.goto("/audit/?action=retention.contacts.applied")
    event_row = page.locator(
        "table.data tbody tr", has_text=f"register.retentionrule #{contact_rule.pk}"
    )
    assert event_row.first.locator("td.num").inner_text() == "2"
