"""Invented people, lists and requests for the subject-request tests."""

import datetime

import pytest
from django.utils import timezone
from django.utils import translation

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import Vendor
from apps.register.models import LawfulBasis
from apps.register.models import PersonalDataCategory
from apps.register.models import ProcessingActivity
from apps.register.models import Recipient
from apps.register.models import RetentionRule
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import request_build_package
from apps.subject_requests.services import request_close
from apps.subject_requests.services import request_create
from apps.subject_requests.services import request_verify_identity

PERSON = {
    "first_name": "Maëlle",
    "last_name": "Quintard-Exemple",
    "email": "maelle.quintard@example.com",
    "phone": "+33612345678",
}


@pytest.fixture(autouse=True)
def english():
    """Run in English: the tests match messages written in the source."""
    with translation.override("en"):
        yield


@pytest.fixture
def activity(db):
    activity = ProcessingActivity.objects.create(
        reference="PROSP-01",
        name="B2B prospecting",
        purposes="Offering our services to purchasing managers.",
        lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS,
        legitimate_interest="Developing our customer base among businesses.",
        concerns_recipients_profession=True,
        status=ProcessingActivity.Status.IN_FORCE,
    )
    Recipient.objects.create(activity=activity, label="Sales team")
    Recipient.objects.create(
        activity=activity, label="E-mail routing provider", third_country=True
    )
    PersonalDataCategory.objects.create(
        activity=activity, label="Professional contact details"
    )
    RetentionRule.objects.create(
        activity=activity,
        data_category="Prospect contacts",
        record_type=RetentionRule.RecordType.CONTACT,
        duration=3,
        unit=RetentionRule.Unit.YEARS,
        start_event=RetentionRule.StartEvent.COLLECTION_OR_LAST_CONTACT,
    )
    return activity


@pytest.fixture
def vendor_lists(db):
    vendor = Vendor.objects.create(
        name="Fichiers Exemple SARL", collection_method="Trade-fair badges"
    )
    first = ContactList.objects.create(
        vendor=vendor, name="Salon 2026", acquired_on=datetime.date(2026, 3, 1)
    )
    second = ContactList.objects.create(
        vendor=vendor, name="Acheteurs Rhône", acquired_on=datetime.date(2026, 6, 1)
    )
    return vendor, first, second


@pytest.fixture
def person(activity, vendor_lists):
    """A contact who came from two lists and has two consent records."""
    _, first, second = vendor_lists
    contact = Contact.objects.create(
        **PERSON,
        company="Quincaillerie Exemple",
        job_title="Purchasing manager",
        city="Lyon",
        processing_activity=activity,
        lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS,
        collected_at=timezone.now() - datetime.timedelta(days=30),
    )
    Provenance.objects.create(contact=contact, contact_list=first, row_number=2)
    Provenance.objects.create(contact=contact, contact_list=second, row_number=7)
    for channel in (ConsentRecord.Channel.EMAIL, ConsentRecord.Channel.PHONE):
        ConsentRecord.objects.create(
            contact=contact,
            channel=channel,
            state=ConsentRecord.State.GRANTED,
            recorded_at=timezone.now() - datetime.timedelta(days=29),
            evidence="Form on the vendor's stand",
        )
    return contact


@pytest.fixture
def bystander(activity, vendor_lists):
    """Another contact from the same list, who must survive the erasure."""
    _, first, _ = vendor_lists
    contact = Contact.objects.create(
        first_name="Bastien",
        last_name="Autre",
        email="bastien.autre@example.com",
        processing_activity=activity,
        collected_at=timezone.now() - datetime.timedelta(days=30),
    )
    Provenance.objects.create(contact=contact, contact_list=first, row_number=3)
    return contact


@pytest.fixture
def make_request(db):
    def make(*, kind=SubjectRequest.Kind.ACCESS, verified_by=None, **fields):
        values = {
            "channel": SubjectRequest.Channel.EMAIL,
            "requester_name": f"{PERSON['first_name']} {PERSON['last_name']}",
            "requester_email": PERSON["email"],
            "requester_phone": "06 12 34 56 78",
            "received_at": timezone.now() - datetime.timedelta(days=3),
        }
        values.update(fields)
        request = request_create(kind=kind, **values)
        if verified_by is not None:
            request_verify_identity(
                request=request,
                verified=True,
                method="Reply from the address on file",
                actor=verified_by,
            )
        return request

    return make


def access_answered_close(request: SubjectRequest, actor) -> SubjectRequest:
    """Build the access package of ``request``, the response it needs, then close it."""
    request_build_package(request=request, actor=actor)
    return request_close(request=request, actor=actor)


def restriction_lift(request: SubjectRequest, actor) -> int:
    """Lift the request's restriction, the person having been informed today."""
    from apps.subject_requests.services import request_lift_restriction

    return request_lift_restriction(
        request=request,
        actor=actor,
        informed_on=timezone.localdate(),
        informed_by=SubjectRequest.Channel.EMAIL,
    )
