import pytest
from django.core import signing
from django.test import Client
from django.urls import resolve
from django.urls import reverse

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.contacts.services import UNSUBSCRIBE_SALT
from apps.contacts.services import contact_from_unsubscribe_token
from apps.contacts.services import contact_unsubscribe_token
from apps.contacts.services import contact_unsubscribe_urls
from apps.contacts.suppression import is_suppressed
from apps.core.models import AuditEvent
from apps.register.models import LawfulBasis
from tests.contacts.factories import ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def contact():
    """A contact held on consent, so that a withdrawal withdraws that consent."""
    return ContactFactory(phone="+33612345678", lawful_basis=LawfulBasis.CONSENT)


@pytest.fixture
def anonymous():
    """A client with no cookie that rejects requests without a CSRF token."""
    return Client(enforce_csrf_checks=True)


def _url(contact):
    return reverse("contacts:unsubscribe", args=[contact_unsubscribe_token(contact)])


def test_one_click_post_unsubscribes(contact, anonymous):
    assert not anonymous.cookies

    response = anonymous.post(
        _url(contact),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    contact.refresh_from_db()
    assert response.status_code == 200
    assert contact.status == Contact.Status.UNSUBSCRIBED
    assert is_suppressed(email=contact.email)
    assert is_suppressed(phone=contact.phone)


def test_one_click_records_objection(contact, anonymous):
    anonymous.post(_url(contact), {"List-Unsubscribe": "One-Click"})

    consent = ConsentRecord.objects.get(contact=contact)
    assert consent.state == ConsentRecord.State.WITHDRAWN
    assert consent.channel == ConsentRecord.Channel.EMAIL
    event = AuditEvent.objects.get(action="contacts.contact.unsubscribed")
    assert event.target_id == str(contact.pk)
    assert contact.email not in str(event.details)


def test_unsubscribe_withdraws_no_consent_never_given(anonymous):
    """A contact held on legitimate interests gave no consent to withdraw."""
    contact = ContactFactory(lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS)

    anonymous.post(_url(contact), {"List-Unsubscribe": "One-Click"})

    contact.refresh_from_db()
    assert contact.status == Contact.Status.UNSUBSCRIBED
    assert not ConsentRecord.objects.filter(contact=contact).exists()
    event = AuditEvent.objects.get(action="contacts.contact.unsubscribed")
    assert event.target_id == str(contact.pk)


def test_repeated_unsubscribe_is_harmless(contact, anonymous):
    first = anonymous.post(_url(contact), {"List-Unsubscribe": "One-Click"})
    second = anonymous.post(_url(contact), {"List-Unsubscribe": "One-Click"})

    assert first.status_code == 200
    assert second.status_code == 200
    assert SuppressionEntry.objects.count() == 2
    assert ConsentRecord.objects.filter(contact=contact).count() == 1
    assert (
        AuditEvent.objects.filter(action__startswith="contacts.contact.").count() == 1
    )


def test_confirmation_page_then_button(contact, anonymous):
    page = anonymous.get(_url(contact))
    contact.refresh_from_db()

    assert page.status_code == 200
    assert contact.status == Contact.Status.ACTIVE

    anonymous.post(_url(contact))
    contact.refresh_from_db()
    assert contact.status == Contact.Status.UNSUBSCRIBED


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_token_changes_nothing(contact, anonymous, method):
    token = contact_unsubscribe_token(contact)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    url = reverse("contacts:unsubscribe", args=[tampered])

    response = getattr(anonymous, method)(url, {"List-Unsubscribe": "One-Click"})

    contact.refresh_from_db()
    assert response.status_code == 404
    assert contact.status == Contact.Status.ACTIVE
    assert SuppressionEntry.objects.count() == 0


def test_token_of_other_contact_not_guessable(contact, anonymous):
    other = ContactFactory()
    token = contact_unsubscribe_token(contact)
    forged = token.replace(
        token.split(":")[0], contact_unsubscribe_token(other).split(":")[0], 1
    )

    response = anonymous.post(
        reverse("contacts:unsubscribe", args=[forged]),
        {"List-Unsubscribe": "One-Click"},
    )

    other.refresh_from_db()
    assert response.status_code == 404
    assert other.status == Contact.Status.ACTIVE


def test_deleted_contact_link_suppresses_address(contact, anonymous):
    url = _url(contact)
    contact_id = contact.pk
    contact.delete()

    response = anonymous.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert is_suppressed(email=contact.email)
    event = AuditEvent.objects.get(action="contacts.contact.unsubscribed")
    assert event.target_id == str(contact_id)
    assert contact.email_hash not in str(event.details)


def test_anonymised_contact_link_suppresses_address(contact, anonymous):
    url = _url(contact)
    email = contact.email
    Contact.objects.filter(pk=contact.pk).update(
        status=Contact.Status.ANONYMISED, email="", email_hash=""
    )

    response = anonymous.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert is_suppressed(email=email)


def test_rectified_contact_link_suppresses_old_address(contact, anonymous):
    url = _url(contact)
    old_email = contact.email
    contact.email = "nouvelle.adresse@example.com"
    contact.save()

    response = anonymous.post(url, {"List-Unsubscribe": "One-Click"})

    contact.refresh_from_db()
    assert response.status_code == 200
    assert contact.status == Contact.Status.UNSUBSCRIBED
    assert is_suppressed(email=old_email)
    assert is_suppressed(email=contact.email)


def test_link_signed_with_id_alone_still_works(contact, anonymous):
    token = signing.dumps(contact.pk, salt=UNSUBSCRIBE_SALT)

    response = anonymous.post(
        reverse("contacts:unsubscribe", args=[token]), {"List-Unsubscribe": "One-Click"}
    )

    contact.refresh_from_db()
    assert response.status_code == 200
    assert contact.status == Contact.Status.UNSUBSCRIBED


def test_url_builder_signs_each_contact(contact, anonymous):
    url_of = contact_unsubscribe_urls(site_url="https://registre.example")

    url = url_of(contact)

    path = url.removeprefix("https://registre.example")
    token = resolve(path).kwargs["token"]
    assert contact_from_unsubscribe_token(token) == contact.pk
    assert anonymous.get(path).status_code == 200


@pytest.mark.parametrize(
    ("language", "evidence"),
    [
        ("fr", "lien de désinscription en un clic (désinscrit)"),
        ("en", "one-click unsubscribe link (unsubscribed)"),
    ],
)
def test_withdrawal_evidence_in_organisation_language(
    contact, anonymous, settings, language, evidence
):
    settings.LANGUAGE_CODE = language

    anonymous.post(
        _url(contact),
        {"List-Unsubscribe": "One-Click"},
        HTTP_ACCEPT_LANGUAGE="de" if language == "fr" else "fr",
    )

    record = ConsentRecord.objects.get(contact=contact)
    assert record.evidence == evidence


def test_link_opened_again_says_unsubscribed(contact, anonymous):
    url = _url(contact)

    first = anonymous.get(url, HTTP_ACCEPT_LANGUAGE="en")
    anonymous.post(url, {"List-Unsubscribe": "One-Click"})
    again = anonymous.get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert "You are unsubscribed" not in first.text
    assert "You are unsubscribed" in again.text
