import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from apps.contacts.models import Audience
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.services import contact_contactability
from apps.contacts.services import contacts_contactable
from apps.contacts.suppression import suppression_add
from apps.core.dates import format_date
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from tests.contacts.factories import ActivityFactory
from tests.contacts.factories import ConsentFactory
from tests.contacts.factories import ContactFactory
from tests.contacts.factories import ContactListFactory
from tests.contacts.factories import ProvenanceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TODAY = timezone.localdate()


def _b2b_opt_out():
    return ContactFactory()


def _b2c_without_consent():
    return ContactFactory(audience=Audience.B2C, lawful_basis=LawfulBasis.CONSENT)


def _b2c_with_consent():
    contact = _b2c_without_consent()
    ConsentFactory(contact=contact)
    return contact


def _b2c_consent_withdrawn():
    contact = _b2c_without_consent()
    ConsentFactory(
        contact=contact, recorded_at=timezone.now() - datetime.timedelta(days=2)
    )
    ConsentFactory(contact=contact, state=ConsentRecord.State.WITHDRAWN)
    return contact


def _b2b_not_profession():
    activity = ActivityFactory(concerns_recipients_profession=False)
    return ContactFactory(processing_activity=activity)


def _b2b_contract_basis():
    return ContactFactory(lawful_basis=LawfulBasis.CONTRACT)


def _suppressed():
    contact = ContactFactory()
    suppression_add(reason="unsubscribed", emails=[contact.email])
    return contact


def _phone_suppressed():
    contact = ContactFactory(phone="+33612345678")
    suppression_add(reason="objected", phones=["+33612345678"])
    return contact


def _restricted():
    return ContactFactory(status=Contact.Status.RESTRICTED)


def _unsubscribed():
    return ContactFactory(status=Contact.Status.UNSUBSCRIBED)


def _licence_ended():
    contact = ContactFactory()
    rental = ContactListFactory(
        acquisition=ContactList.Acquisition.RENTAL,
        licence_ends_on=TODAY - datetime.timedelta(days=1),
    )
    ProvenanceFactory(contact=contact, contact_list=rental)
    return contact


def _licence_ended_but_also_purchased():
    contact = _licence_ended()
    ProvenanceFactory(contact=contact)
    return contact


def _licence_running():
    contact = ContactFactory()
    rental = ContactListFactory(
        acquisition=ContactList.Acquisition.RENTAL,
        licence_ends_on=TODAY + datetime.timedelta(days=10),
    )
    ProvenanceFactory(contact=contact, contact_list=rental)
    return contact


def _activity_retired():
    activity = ActivityFactory(status=ProcessingActivity.Status.RETIRED)
    return ContactFactory(processing_activity=activity)


def _no_activity():
    return ContactFactory(processing_activity=None)


def _no_email():
    return ContactFactory(email="")


def _past_default_retention():
    """No contact rule in the register: 3 years from collection or last contact."""
    return ContactFactory(collected_at=timezone.now() - relativedelta(years=3, days=1))


def _later_last_contact():
    return ContactFactory(
        collected_at=timezone.now() - relativedelta(years=4),
        last_contact_at=timezone.now() - relativedelta(months=1),
    )


def _with_one_year_rule(**contact_fields):
    activity = ActivityFactory()
    RetentionRule.objects.create(
        activity=activity,
        data_category="Prospects",
        record_type=RetentionRule.RecordType.CONTACT,
        duration=1,
        unit=RetentionRule.Unit.YEARS,
        start_event=RetentionRule.StartEvent.COLLECTION,
        action=RetentionRule.Action.ANONYMISE,
    )
    return ContactFactory(processing_activity=activity, **contact_fields)


def _past_activity_rule():
    return _with_one_year_rule(collected_at=timezone.now() - relativedelta(months=13))


def _within_activity_rule():
    return _with_one_year_rule(collected_at=timezone.now() - relativedelta(months=11))


CASES = [
    ("b2b opt-out allowed", _b2b_opt_out, True, []),
    ("b2c without consent", _b2c_without_consent, False, ["b2c_without_consent"]),
    ("b2c with consent", _b2c_with_consent, True, []),
    ("b2c consent withdrawn", _b2c_consent_withdrawn, False, ["consent_withdrawn"]),
    ("b2b not profession", _b2b_not_profession, False, ["b2b_not_profession"]),
    ("b2b contract basis", _b2b_contract_basis, False, ["b2b_basis_invalid"]),
    ("suppressed e-mail", _suppressed, False, ["suppressed"]),
    ("suppressed phone", _phone_suppressed, False, ["suppressed"]),
    ("restricted", _restricted, False, ["status_restricted"]),
    ("unsubscribed", _unsubscribed, False, ["status_unsubscribed"]),
    ("licence ended", _licence_ended, False, ["licence_ended"]),
    ("ended and purchased", _licence_ended_but_also_purchased, True, []),
    ("licence running", _licence_running, True, []),
    ("activity retired", _activity_retired, False, ["activity_not_in_force"]),
    ("no activity", _no_activity, False, ["no_activity", "b2b_not_profession"]),
    ("no e-mail", _no_email, False, ["no_email"]),
    ("past default retention", _past_default_retention, False, ["retention_ended"]),
    ("later last contact", _later_last_contact, True, []),
    ("past activity rule", _past_activity_rule, False, ["retention_ended"]),
    ("within activity rule", _within_activity_rule, True, []),
]


@pytest.mark.parametrize(
    ("make_contact", "expected", "codes"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_contactability_verdict(make_contact, expected, codes):
    contact = make_contact()

    verdict = contact_contactability(contact)

    assert verdict.contactable is expected
    assert verdict.codes == codes
    assert len(verdict.reasons) == len(codes)


@pytest.mark.parametrize(
    ("make_contact", "expected"),
    [(case[1], case[2]) for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_contactable_queryset_agrees(make_contact, expected):
    contact = make_contact()

    selected = contacts_contactable(Contact.objects.filter(pk=contact.pk))

    assert selected.exists() is expected


def test_contactable_queryset_skips_missing_hash():
    contact = ContactFactory()
    Contact.objects.filter(pk=contact.pk).update(email_hash="")

    assert not contacts_contactable(Contact.objects.all()).exists()


def test_verdict_lists_every_failure():
    activity = ActivityFactory(status=ProcessingActivity.Status.RETIRED)
    contact = ContactFactory(
        status=Contact.Status.RESTRICTED, processing_activity=activity
    )
    suppression_add(reason="objected", emails=[contact.email])

    verdict = contact_contactability(contact)

    assert "status_restricted" in verdict.codes
    assert "suppressed" in verdict.codes
    assert "activity_not_in_force" in verdict.codes


def test_licence_end_is_read_in_local_time():
    """At 23:30 UTC on 4 December, it is already 5 December in Paris: a licence
    that ended on 4 December has ended."""
    at = datetime.datetime(2026, 12, 4, 23, 30, tzinfo=datetime.UTC)
    contact = ContactFactory()
    rental = ContactListFactory(
        acquisition=ContactList.Acquisition.RENTAL,
        licence_ends_on=datetime.date(2026, 12, 4),
    )
    ProvenanceFactory(contact=contact, contact_list=rental)

    verdict = contact_contactability(contact, at=at)

    assert verdict.codes == ["licence_ended"]
    selected = contacts_contactable(Contact.objects.filter(pk=contact.pk), at=at)
    assert not selected.exists()


def test_retention_end_named_on_contact_page(client_for, sales_user):
    contact = _past_activity_rule()
    ends_on = timezone.localtime(contact.collected_at).date() + relativedelta(years=1)

    response = client_for(sales_user).get(
        reverse("contacts:contact-detail", args=[contact.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    content = response.content.decode()
    assert "Prospects: 1 year from collection, then anonymise" in content
    assert f"Its retention period ended on {format_date(ends_on)}" in content
