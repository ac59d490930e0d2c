import datetime

import pytest
from django.utils import timezone
from django.utils import translation

from apps.contacts.models import Contact
from apps.core.identifiers import identifier_hash
from apps.core.models import AuditEvent
from apps.core.personal_data import personal_data_find
from apps.subject_requests.models import ErasureProof
from apps.subject_requests.models import RequestEvent
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import RequestError
from apps.subject_requests.services import request_close
from apps.subject_requests.services import request_erase
from apps.subject_requests.services import request_link_contacts
from apps.subject_requests.services import request_purge_closed
from apps.subject_requests.services import request_rectify
from apps.subject_requests.services import request_refuse
from apps.subject_requests.services import request_restrict
from apps.subject_requests.services import request_search
from tests.subject_requests.conftest import PERSON
from tests.subject_requests.conftest import access_answered_close

pytestmark = pytest.mark.postgres


def test_earlier_request_found_as_personal_data(make_request):
    earlier = make_request()

    matches = personal_data_find(emails=[PERSON["email"]], phones=[], names=[])

    found = [m for m in matches if m.kind == "subject_request"]
    assert [m.record_id for m in found] == [earlier.pk]
    assert found[0].matched_on == "email"


@pytest.mark.parametrize(
    "requester_name",
    [
        "Maelle Quintard-Exemple",
        "QUINTARD-EXEMPLE Maëlle",
        "Mme Maëlle Quintard-Exemple",
    ],
)
def test_name_search_ignores_accents_order_case(person, requester_name):
    """GIVEN the contact "Maëlle Quintard-Exemple", WHEN a requester's name
    is written without its accents, surname first or with a title, THEN the
    search finds the contact by its name."""
    matches = personal_data_find(emails=[], phones=[], names=[requester_name])

    found = [m for m in matches if m.kind == "contact"]
    assert [(m.record_id, m.matched_on) for m in found] == [(person.pk, "name")]


def test_name_search_skips_other_names(person, activity):
    Contact.objects.create(
        first_name="Hugo",
        last_name="Maëlle",
        company="Quintard-Exemple SA",
        processing_activity=activity,
        collected_at=timezone.now(),
    )
    Contact.objects.create(
        last_name="Quintard-Exemple",
        processing_activity=activity,
        collected_at=timezone.now(),
    )

    matches = personal_data_find(
        emails=[], phones=[], names=["Maëlle Quintard-Exemple"]
    )

    found = [m.record_id for m in matches if m.kind == "contact"]
    assert found == [person.pk]


def test_search_lists_sources_and_matches(make_request, dpo, person):
    earlier = make_request()
    request = make_request()

    result = request_search(request=request, actor=dpo)

    assert {"contacts", "subject_requests"} <= set(result["sources"])
    assert result["criteria"] == ["email", "phone", "name"]
    kinds = {(m["kind"], m["record_id"]) for m in result["matches"]}
    assert ("contact", person.pk) in kinds
    assert ("subject_request", earlier.pk) in kinds
    assert ("subject_request", request.pk) not in kinds
    stored = str(request.last_search).lower()
    assert PERSON["email"] not in stored
    assert PERSON["last_name"].lower() not in stored


def test_erasure_keeps_other_requests(make_request, dpo, person):
    """GIVEN an earlier access request linked to the contact, answered
    WHEN an erasure request erases the contact
    THEN the earlier request stays as proof and loses only its link."""
    earlier = make_request(verified_by=dpo)
    request_link_contacts(request=earlier, contact_ids=[person.pk], actor=dpo)
    access_answered_close(earlier, dpo)
    erasure = make_request(kind="erasure", verified_by=dpo)
    request_link_contacts(request=erasure, contact_ids=[person.pk], actor=dpo)

    proof = request_erase(request=erasure, actor=dpo)

    assert SubjectRequest.objects.filter(pk=earlier.pk).exists()
    assert not earlier.contacts.exists()
    assert proof.record_counts["contact"] == 1
    assert proof.record_counts["subject_request_link"] == 2


def test_purge_deletes_old_closed_requests(make_request, dpo):
    old = make_request(verified_by=dpo)
    access_answered_close(old, dpo)
    SubjectRequest.objects.filter(pk=old.pk).update(
        closed_at=timezone.now() - datetime.timedelta(days=6 * 365)
    )
    recent = make_request(verified_by=dpo)
    access_answered_close(recent, dpo)
    still_open = make_request()

    purged = request_purge_closed(
        closed_before=timezone.now() - datetime.timedelta(days=5 * 365)
    )

    assert purged == 1
    assert set(SubjectRequest.objects.values_list("pk", flat=True)) == {
        recent.pk,
        still_open.pk,
    }
    assert not RequestEvent.objects.filter(request_id=old.pk).exists()
    event = AuditEvent.objects.get(action="subject_requests.request.purged")
    assert event.details["request_ids"] == [old.pk]


def test_purge_removes_erasure_proof(make_request, dpo, person):
    request = make_request(kind="erasure", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    request_erase(request=request, actor=dpo)
    request_close(request=request, actor=dpo)

    request_purge_closed(closed_before=timezone.now() + datetime.timedelta(seconds=1))

    assert not ErasureProof.objects.exists()


def test_purge_rejects_naive_cutoff(db):
    with pytest.raises(RequestError, match="has no time zone"):
        request_purge_closed(closed_before=datetime.datetime(2020, 1, 1))  # noqa: DTZ001


def test_refuse_sets_closed_at(make_request, dpo):
    request = make_request()

    request_refuse(request=request, reason="Identity not proven", actor=dpo)

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.REFUSED
    assert request.closed_at is not None


def test_close_needs_verified_identity(make_request, dpo):
    request = make_request()

    with pytest.raises(RequestError, match="not verified"):
        request_close(request=request, actor=dpo)


def test_rectify_rejects_unknown_field(make_request, dpo, person):
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match="Fields status cannot be rectified"):
        request_rectify(
            request=request,
            contact_id=person.pk,
            changes={"status": "active"},
            actor=dpo,
        )


def test_rectify_rejects_bad_phone(make_request, dpo, person):
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match="“12” is not a valid phone number"):
        request_rectify(
            request=request, contact_id=person.pk, changes={"phone": "12"}, actor=dpo
        )
    person.refresh_from_db()
    assert person.phone == PERSON["phone"]


def test_rectify_rejects_unknown_country(make_request, dpo, person):
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match="ZZ"):
        request_rectify(
            request=request, contact_id=person.pk, changes={"country": "ZZ"}, actor=dpo
        )
    person.refresh_from_db()
    assert person.country != "ZZ"


def test_rectify_keeps_one_identifier(make_request, dpo, person):
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match="neither an e-mail nor a phone"):
        request_rectify(
            request=request,
            contact_id=person.pk,
            changes={"email": "", "phone": ""},
            actor=dpo,
        )
    person.refresh_from_db()
    assert person.email == PERSON["email"]


def test_rectify_rejects_other_contact_email(make_request, dpo, person):
    other = Contact.objects.create(
        first_name="Paul",
        last_name="Autre",
        email="paul.autre@example.com",
        collected_at=timezone.now(),
    )
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match=f"e-mail of contact #{other.pk}"):
        request_rectify(
            request=request,
            contact_id=person.pk,
            changes={"email": "Paul.Autre@example.com"},
            actor=dpo,
        )


def test_rectify_rejects_erased_email(make_request, dpo, person):
    from apps.contacts.suppression import suppression_add

    suppression_add(reason="erased", emails=["efface@example.com"], phones=[])
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match="was erased"):
        request_rectify(
            request=request,
            contact_id=person.pk,
            changes={"email": "efface@example.com"},
            actor=dpo,
        )
    person.refresh_from_db()
    assert person.email == PERSON["email"]


def test_rectify_rejects_erased_phone(make_request, dpo, person):
    from apps.contacts.suppression import suppression_add

    suppression_add(reason="erased", emails=[], phones=["+33699001122"])
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match="was erased"):
        request_rectify(
            request=request,
            contact_id=person.pk,
            changes={"phone": "06 99 00 11 22"},
            actor=dpo,
        )
    person.refresh_from_db()
    assert person.phone == PERSON["phone"]


def test_rectify_normalises_email(make_request, dpo, person):
    request = make_request(kind="rectification", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    request_rectify(
        request=request,
        contact_id=person.pk,
        changes={"email": "M.Quintard@Example.com"},
        actor=dpo,
    )

    contact = Contact.objects.get(pk=person.pk)
    assert contact.email == "m.quintard@example.com"
    assert contact.email_hash == identifier_hash("m.quintard@example.com")


def test_link_unknown_contact_rejected(make_request, dpo):
    request = make_request()

    with pytest.raises(RequestError, match="Contact ids 999999 were not found"):
        request_link_contacts(request=request, contact_ids=[999999], actor=dpo)


def test_request_needs_a_way_to_answer(make_request):
    with pytest.raises(RequestError, match="at least one way to answer"):
        make_request(requester_email="", requester_phone="")


def test_demo_creates_one_request(db, person):
    import io

    from apps.subject_requests.demo import seed_demo

    seed_demo(password="x", stdout=io.StringIO())
    seed_demo(password="x", stdout=io.StringIO())

    request = SubjectRequest.objects.get()
    assert list(request.contacts.all()) != []


def test_objection_without_identity_check(make_request, dpo, person):
    from apps.contacts.suppression import is_suppressed
    from apps.subject_requests.services import request_object

    request = make_request(kind="objection")
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    request_object(request=request, actor=dpo)

    person.refresh_from_db()
    assert person.status == Contact.Status.OBJECTED
    assert is_suppressed(email=PERSON["email"])
    assert is_suppressed(phone=PERSON["phone"])


def test_objection_finds_contacts_by_requester_email(make_request, dpo, person):
    from apps.contacts.suppression import is_suppressed
    from apps.subject_requests.services import request_object

    request = make_request(kind="objection", requester_phone="")

    marked = request_object(request=request, actor=dpo)

    person.refresh_from_db()
    assert marked.contact_count == 1
    assert person.status == Contact.Status.OBJECTED
    assert is_suppressed(phone=PERSON["phone"])


def test_objection_spares_set_aside_colleague(make_request, dpo):
    from apps.contacts.suppression import is_suppressed
    from apps.subject_requests.services import request_object
    from apps.subject_requests.services import request_set_aside_contacts
    from tests.contacts.factories import ContactFactory

    shared = "info@proto-ind.example.com"
    colleague = ContactFactory(
        first_name="Bob", last_name="Proto", email=shared, phone="+33699887766"
    )
    homonym = ContactFactory(
        first_name="Alice", last_name="Proto", email=shared, phone="+33699887700"
    )
    request = make_request(
        kind="objection",
        requester_name="Alice Proto",
        requester_email=shared,
        requester_phone="",
    )
    request_set_aside_contacts(request=request, contact_ids=[homonym.pk], actor=dpo)

    marked = request_object(request=request, actor=dpo)

    colleague.refresh_from_db()
    homonym.refresh_from_db()
    assert marked.contact_count == 0
    assert colleague.status == Contact.Status.ACTIVE
    assert homonym.status == Contact.Status.ACTIVE
    assert not is_suppressed(phone=colleague.phone)
    assert not is_suppressed(phone=homonym.phone)
    assert is_suppressed(email=shared)


def test_objection_by_phone_spares_colleague_with_email(make_request, dpo, person):
    from apps.subject_requests.services import request_object

    request = make_request(
        kind="objection", requester_email="", requester_phone=PERSON["phone"]
    )

    marked = request_object(request=request, actor=dpo)

    person.refresh_from_db()
    assert marked.contact_count == 0
    assert person.status == Contact.Status.ACTIVE


def test_restricted_contact_not_contactable(make_request, dpo, person):
    from apps.contacts.services import contacts_contactable
    from apps.subject_requests.services import request_restrict
    from tests.subject_requests.conftest import restriction_lift

    request = make_request(kind="restriction", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    assert contacts_contactable(Contact.objects.filter(pk=person.pk)).exists()

    request_restrict(request=request, actor=dpo)
    restricted = contacts_contactable(Contact.objects.filter(pk=person.pk))
    assert not restricted.exists()

    restriction_lift(request, dpo)
    person.refresh_from_db()
    assert person.status == Contact.Status.ACTIVE


def test_unsubscribe_keeps_restriction_until_lifted(make_request, dpo, person):
    """GIVEN a restricted contact
    WHEN the person follows an unsubscribe link, then the restriction is lifted
    THEN the contact stays restricted until the lift, then is unsubscribed.
    """
    from apps.contacts.services import WithdrawalSource
    from apps.contacts.services import contact_unsubscribe
    from apps.contacts.suppression import is_suppressed
    from apps.subject_requests.services import request_restrict
    from tests.subject_requests.conftest import restriction_lift

    request = make_request(kind="restriction", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    request_restrict(request=request, actor=dpo)

    contact_unsubscribe(contact=person, source=WithdrawalSource.LINK)
    person.refresh_from_db()
    restricted_status = person.status
    lifted = restriction_lift(request, dpo)
    person.refresh_from_db()

    assert restricted_status == Contact.Status.RESTRICTED
    assert is_suppressed(email=PERSON["email"])
    assert lifted == 1
    assert person.status == Contact.Status.UNSUBSCRIBED


def test_objection_closes_without_identity_check(make_request, dpo, person):
    """GIVEN an objection granted without an identity check
    WHEN the DPO closes it
    THEN it is closed, as it was granted, without a check."""
    from apps.subject_requests.services import request_object

    request = make_request(kind="objection")
    request_object(request=request, actor=dpo)

    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.CLOSED
    assert request.closed_at is not None
    assert request.identity_status == SubjectRequest.IdentityStatus.PENDING


def test_objection_grant_moves_to_in_progress(make_request, dpo, person):
    from apps.subject_requests.services import request_object

    request = make_request(kind="objection")

    request_object(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.IN_PROGRESS


def test_closed_objection_is_not_overdue(make_request, dpo, person):
    from apps.subject_requests.deadlines import check_deadlines
    from apps.subject_requests.services import request_object

    request = make_request(
        kind="objection", received_at=timezone.now() - datetime.timedelta(days=40)
    )
    request_object(request=request, actor=dpo)
    request_close(request=request, actor=dpo)

    summary = check_deadlines()

    assert summary["overdue"] == 0


@pytest.mark.parametrize(
    "kind", ["access", "rectification", "erasure", "restriction", "portability"]
)
def test_close_needs_identity_for_other_kinds(make_request, dpo, kind):
    request = make_request(kind=kind)

    with pytest.raises(RequestError, match="not verified"):
        request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.RECEIVED


def test_objection_not_granted_cannot_close(make_request, dpo):
    request = make_request(kind="objection")

    with pytest.raises(RequestError, match="not granted yet"):
        request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.RECEIVED


def test_objection_close_hint_omits_refusal(make_request, dpo):
    request = make_request(kind="objection")

    with pytest.raises(RequestError) as english:
        request_close(request=request, actor=dpo)
    with translation.override("fr"), pytest.raises(RequestError) as french:
        request_close(request=request, actor=dpo)

    assert "grant it" in str(english.value)
    assert "Refuse it" not in str(english.value)
    assert "cannot be refused" in str(english.value)
    assert "accordez-la" in str(french.value)
    assert "Refusez" not in str(french.value)
    assert "ne peut donc pas être refusée" in str(french.value)


def test_closed_objection_cannot_close_again(make_request, dpo, person):
    from apps.subject_requests.services import request_object

    request = make_request(kind="objection")
    request_object(request=request, actor=dpo)
    request_close(request=request, actor=dpo)

    with pytest.raises(RequestError, match="reopen is not possible"):
        request_close(request=request, actor=dpo)


def test_objection_moves_unsubscribed_contact_to_objected(make_request, dpo, person):
    from apps.subject_requests.services import request_object

    Contact.objects.filter(pk=person.pk).update(status=Contact.Status.UNSUBSCRIBED)
    request = make_request(kind="objection")

    marked = request_object(request=request, actor=dpo)

    person.refresh_from_db()
    assert marked.contact_count == 1
    assert person.status == Contact.Status.OBJECTED


def _anonymise(contact):
    """Blank the contact as the retention job does when it anonymises."""
    Contact.objects.filter(pk=contact.pk).update(
        status=Contact.Status.ANONYMISED,
        first_name="",
        last_name="",
        email="",
        email_hash="",
        phone="",
        phone_hash="",
    )
    contact.provenances.all().delete()


def test_link_anonymised_contact_rejected(make_request, dpo, person):
    """GIVEN a search that matched a contact
    WHEN retention anonymises that contact before the DPO links it
    THEN linking it fails with a message naming it, and nothing is linked."""
    request = make_request()
    request_search(request=request, actor=dpo)
    _anonymise(person)

    with pytest.raises(RequestError, match=f"Contact #{person.pk} was anonymised"):
        request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    assert not request.contacts.exists()
    assert not request.events.filter(action="contacts_linked").exists()


def test_objection_records_withdrawn_consent(make_request, dpo, person, settings):
    from apps.contacts.models import ConsentRecord
    from apps.subject_requests.services import request_object

    settings.LANGUAGE_CODE = "en"
    request = make_request(kind="objection")

    request_object(request=request, actor=dpo)

    latest = ConsentRecord.objects.filter(
        contact=person, channel=ConsentRecord.Channel.EMAIL
    ).latest("recorded_at", "pk")
    assert latest.state == ConsentRecord.State.WITHDRAWN
    assert latest.evidence == "request to the DPO (objected)"


def test_repeated_objection_records_no_second_consent(make_request, dpo, person):
    from apps.contacts.models import ConsentRecord
    from apps.subject_requests.services import request_object

    request = make_request(kind="objection")
    request_object(request=request, actor=dpo)

    marked = request_object(request=request, actor=dpo)

    withdrawn = ConsentRecord.objects.filter(
        contact=person, state=ConsentRecord.State.WITHDRAWN
    )
    assert marked.contact_count == 0
    assert withdrawn.count() == 1


def test_objection_counts_entries_changed_to_objected(make_request, dpo, person):
    from apps.contacts.suppression import suppression_add
    from apps.subject_requests.services import request_object

    suppression_add(reason="unsubscribed", emails=[person.email])
    request = make_request(kind="objection")

    request_object(request=request, actor=dpo)

    event = request.events.get(action="objected")
    audit = AuditEvent.objects.get(action="subject_requests.contacts.objected")
    assert event.details["suppression_objected"] == 1
    assert event.details["suppression_added"] == 1
    assert audit.details["suppression_objected"] == 1
    assert audit.details["contact_ids"] == [person.pk]


def test_unlink_of_unlinked_contact_rejected(make_request, dpo, person):
    from apps.subject_requests.services import request_unlink_contact

    request = make_request(kind="access", verified_by=dpo)

    with pytest.raises(RequestError, match="is not linked"):
        request_unlink_contact(request=request, contact_id=person.pk, actor=dpo)

    assert not request.events.filter(action="contact_unlinked").exists()


def test_objection_granted_twice_records_once(make_request, dpo, person):
    from apps.subject_requests.services import request_object

    request = make_request(kind="objection")
    request_object(request=request, actor=dpo)

    again = request_object(request=request, actor=dpo)

    assert again.contact_count == 0
    assert again.suppression_added == 0
    assert request.events.filter(action="objected").count() == 1


def test_objection_cannot_be_refused(make_request, dpo):
    request = make_request(kind="objection")

    with pytest.raises(RequestError, match="cannot be refused"):
        request_refuse(request=request, reason="Compelling interest", actor=dpo)

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.RECEIVED
    assert request.refusal_reason == ""


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("access", "has not been answered: build the access package"),
        ("portability", "has not been answered: build the portability data"),
        ("rectification", "has not been carried out for contacts #"),
        ("restriction", "has not been carried out: contacts #"),
    ],
)
def test_close_needs_right_carried_out(make_request, dpo, person, kind, message):
    request = make_request(kind=kind, verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match=message):
        request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status != SubjectRequest.Status.CLOSED


def test_restriction_closes_once_restricted(make_request, dpo, person):
    request = make_request(kind="restriction", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    request_restrict(request=request, actor=dpo)

    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    person.refresh_from_db()
    assert request.status == SubjectRequest.Status.CLOSED
    assert person.status == Contact.Status.RESTRICTED


@pytest.mark.parametrize("kind", ["rectification", "restriction"])
def test_close_when_nothing_held(make_request, dpo, kind):
    request = make_request(kind=kind, verified_by=dpo)
    request_search(request=request, actor=dpo)

    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.CLOSED


def test_unlinked_match_is_not_nothing_held(make_request, dpo, person):
    request = make_request(kind="restriction", verified_by=dpo)
    request_search(request=request, actor=dpo)

    with pytest.raises(RequestError, match="has not been carried out"):
        request_close(request=request, actor=dpo)


def test_restrict_twice_rejected(make_request, dpo, person):
    from apps.core.models import AuditEvent

    request = make_request(kind="restriction", verified_by=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    request_restrict(request=request, actor=dpo)

    with pytest.raises(RequestError, match="restricted already"):
        request_restrict(request=request, actor=dpo)

    assert request.events.filter(action="restricted").count() == 1
    assert (
        AuditEvent.objects.filter(action="subject_requests.contacts.restricted").count()
        == 1
    )
