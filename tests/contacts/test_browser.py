import pytest
from django.urls import reverse

from apps.contacts.models import CampaignExport
from apps.contacts.models import Contact
from apps.contacts.services import contact_unsubscribe_token
from apps.contacts.suppression import is_suppressed
from apps.contacts.suppression import suppression_add
from tests.contacts.factories import ContactFactory
from tests.contacts.factories import ContactListFactory
from tests.contacts.factories import ProvenanceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_unsubscribe_in_browser(page):
    contact = ContactFactory()
    url = reverse("contacts:unsubscribe", args=[contact_unsubscribe_token(contact)])

    page.goto(url)
    page.click("main form button[type=submit]")
    page.wait_for_selector("[role=status]")

    contact.refresh_from_db()
    assert "/unsubscribe/" in page.url
    assert contact.status == Contact.Status.UNSUBSCRIBED
    assert is_suppressed(email=contact.email)


def test_sales_list_to_campaign_file(page, login_as, sales_user, settings, tmp_path):
    """GIVEN a list with a contactable and a suppressed contact
    WHEN a sales user opens the list, its contacts and exports a CSV
    THEN the downloaded file holds only the contactable contact."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CAMPAIGN_EXPORT_ROOT = tmp_path / "private" / "campaigns"
    contact_list = ContactListFactory(name="Décideurs démo")
    contactable_contact = ProvenanceFactory(contact_list=contact_list).contact
    suppressed_contact = ProvenanceFactory(contact_list=contact_list).contact
    suppression_add(reason="objected", emails=[suppressed_contact.email])

    login_as(sales_user)
    page.click('a[data-nav="contacts:contactlist-list"]')
    page.click(f"text={contact_list.name}")
    page.click(f'a[href$="?contact_list={contact_list.pk}"]')
    page.click('a[href*="/contacts/campaigns/new/"]')
    page.check("input[name=records_notice]")
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-testid=row-count]")
    with page.expect_download() as download_info:
        page.click('a[href$="/file/"]')
    content = download_info.value.path().read_text(encoding="utf-8-sig")

    contactable_contact.refresh_from_db()
    assert page.inner_text("[data-testid=row-count]") == "1"
    assert contactable_contact.email in content
    assert suppressed_contact.email not in content
    assert "/contacts/unsubscribe/" in content
    assert contactable_contact.art14_notice_sent_at is not None
    assert CampaignExport.objects.get().created_by == sales_user
