"""When a request counts as carried out, so that ``request_close`` accepts it."""

import pytest
from django.utils import timezone

from apps.contacts.models import Contact
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import RequestError
from apps.subject_requests.services import request_build_package
from apps.subject_requests.services import request_close
from apps.subject_requests.services import request_erase
from apps.subject_requests.services import request_extend
from apps.subject_requests.services import request_link_contacts
from apps.subject_requests.services import request_rectify
from apps.subject_requests.services import request_rectify_not_needed
from apps.subject_requests.services import request_refuse
from apps.subject_requests.services import request_restrict
from apps.subject_requests.services import request_search
from apps.subject_requests.services import request_set_aside_contacts
from apps.subject_requests.services import request_unlink_contact
from apps.subject_requests.services.common import event_add
from tests.subject_requests.conftest import PERSON
from tests.subject_requests.conftest import restriction_lift

pytestmark = pytest.mark.postgres

Status = SubjectRequest.Status


def _linked_request(make_request, dpo, kind, contacts):
    request = make_request(kind=kind, verified_by=dpo)
    request_link_contacts(
        request=request, contact_ids=[c.pk for c in contacts], actor=dpo
    )
    return request


def test_rectify_without_change_rejected(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "rectification", [person])

    with pytest.raises(RequestError, match="No field of contact #.* was changed"):
        request_rectify(
            request=request,
            contact_id=person.pk,
            changes={"job_title": person.job_title},
            actor=dpo,
        )

    assert not request.events.filter(action="rectified").exists()


def test_rectify_without_change_cannot_close(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "rectification", [person])
    with pytest.raises(RequestError):
        request_rectify(request=request, contact_id=person.pk, changes={}, actor=dpo)

    with pytest.raises(RequestError, match="not been carried out for contacts"):
        request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


def test_old_empty_rectification_does_not_count(make_request, dpo, person):
    """GIVEN a "rectified" event listing no field, as recorded before
    unchanged rectifications were rejected.
    """
    request = _linked_request(make_request, dpo, "rectification", [person])
    event_add(request, "rectified", dpo, contact_id=person.pk, fields=[])

    with pytest.raises(RequestError, match="not been carried out for contacts"):
        request_close(request=request, actor=dpo)


def test_rectification_needs_every_contact(make_request, dpo, person, bystander):
    request = _linked_request(make_request, dpo, "rectification", [person, bystander])
    request_rectify(
        request=request,
        contact_id=person.pk,
        changes={"job_title": "Head of purchasing"},
        actor=dpo,
    )

    with pytest.raises(RequestError, match=f"#{bystander.pk}"):
        request_close(request=request, actor=dpo)

    request_rectify_not_needed(request=request, contact_id=bystander.pk, actor=dpo)
    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_rectification_not_needed_is_recorded(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "rectification", [person])

    request_rectify_not_needed(request=request, contact_id=person.pk, actor=dpo)

    event = request.events.get(action="rectification_not_needed")
    assert event.details == {"contact_id": person.pk}
    assert event.actor == dpo


def test_rectification_not_needed_needs_link(make_request, dpo, person):
    request = make_request(kind="rectification", verified_by=dpo)

    with pytest.raises(RequestError, match="is not linked"):
        request_rectify_not_needed(request=request, contact_id=person.pk, actor=dpo)

    assert not request.events.filter(action="rectification_not_needed").exists()


@pytest.mark.parametrize(
    ("kind", "portability"), [("access", False), ("portability", True)]
)
def test_package_before_link_cannot_close(
    make_request, dpo, person, bystander, kind, portability
):
    request = _linked_request(make_request, dpo, kind, [person])
    request_build_package(request=request, actor=dpo, portability=portability)
    request_link_contacts(request=request, contact_ids=[bystander.pk], actor=dpo)

    with pytest.raises(RequestError, match="changed after the last package"):
        request_close(request=request, actor=dpo)

    request_build_package(request=request, actor=dpo, portability=portability)
    request_close(request=request, actor=dpo)
    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_package_before_unlink_cannot_close(make_request, dpo, person, bystander):
    request = _linked_request(make_request, dpo, "access", [person, bystander])
    request_build_package(request=request, actor=dpo)
    request_unlink_contact(request=request, contact_id=bystander.pk, actor=dpo)

    with pytest.raises(RequestError, match="changed after the last package"):
        request_close(request=request, actor=dpo)


def test_relinking_same_contact_keeps_package(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "access", [person])
    request_build_package(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_restriction_lifted_and_unlinked_cannot_close(make_request, dpo, person):
    request = make_request(kind="restriction", verified_by=dpo)
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    request_restrict(request=request, actor=dpo)
    restriction_lift(request, dpo)
    request_unlink_contact(request=request, contact_id=person.pk, actor=dpo)

    with pytest.raises(RequestError, match="has not been carried out: restrict"):
        request_close(request=request, actor=dpo)


def test_restriction_lifted_cannot_close(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "restriction", [person])
    request_restrict(request=request, actor=dpo)
    restriction_lift(request, dpo)

    with pytest.raises(RequestError, match=f"contacts #{person.pk} are still"):
        request_close(request=request, actor=dpo)


def test_restriction_needs_every_contact(make_request, dpo, person, bystander):
    request = _linked_request(make_request, dpo, "restriction", [person])
    request_restrict(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[bystander.pk], actor=dpo)

    with pytest.raises(RequestError, match=f"contacts #{bystander.pk} are still"):
        request_close(request=request, actor=dpo)

    request_restrict(request=request, actor=dpo)
    request_close(request=request, actor=dpo)
    bystander.refresh_from_db()
    assert bystander.status == Contact.Status.RESTRICTED


@pytest.mark.parametrize("kind", ["rectification", "restriction"])
def test_earlier_request_is_not_data_held(make_request, dpo, kind):
    make_request(kind="access")
    request = make_request(kind=kind, verified_by=dpo)
    result = request_search(request=request, actor=dpo)
    assert [m["kind"] for m in result["matches"]] == ["subject_request"]

    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_namesake_contact_is_not_data_held(make_request, dpo, person):
    request = make_request(
        kind="restriction",
        verified_by=dpo,
        requester_email="maelle.autre@example.org",
        requester_phone="",
    )
    result = request_search(request=request, actor=dpo)
    contact_matches = [m for m in result["matches"] if m["kind"] == "contact"]
    assert [m["matched_on"] for m in contact_matches] == ["name"]

    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_objection_cannot_be_extended(make_request, dpo):
    request = make_request(kind="objection")

    with pytest.raises(RequestError, match="cannot be extended.*Grant it"):
        request_extend(
            request=request,
            months=2,
            reason="Complex",
            informed_on=request.received_on,
            informed_by="email",
            actor=dpo,
        )

    request.refresh_from_db()
    assert request.extension_months == 0
    assert request.due_on == request.initial_due_on


def _import_later_contact(activity, **identifiers):
    """A contact of the requester that a later list brought in."""
    return Contact.objects.create(
        first_name="Maëlle",
        last_name="Quintard",
        processing_activity=activity,
        collected_at=timezone.now(),
        **identifiers,
    )


@pytest.mark.parametrize(
    ("kind", "portability"), [("access", False), ("portability", True)]
)
def test_contact_imported_after_search_blocks_package_close(
    make_request, dpo, person, activity, kind, portability
):
    request = make_request(kind=kind, verified_by=dpo)
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    request_build_package(request=request, actor=dpo, portability=portability)
    later = _import_later_contact(activity, phone=PERSON["phone"])

    with pytest.raises(RequestError, match=f"Contact #{later.pk} holds the e-mail"):
        request_close(request=request, actor=dpo)

    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[later.pk], actor=dpo)
    request_build_package(request=request, actor=dpo, portability=portability)
    request_close(request=request, actor=dpo)
    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_contact_imported_after_empty_search_blocks_close(make_request, dpo, activity):
    request = make_request(kind="restriction", verified_by=dpo)
    request_search(request=request, actor=dpo)
    later = _import_later_contact(activity, email=PERSON["email"])

    with pytest.raises(RequestError, match=f"#{later.pk} holds the e-mail"):
        request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


def _request_sharing_email(make_request, dpo, person, bystander):
    """Return an access request with ``bystander``'s e-mail, ``person`` linked."""
    request = make_request(
        kind="access", verified_by=dpo, requester_email=bystander.email
    )
    request_search(request=request, actor=dpo)
    request_link_contacts(request=request, contact_ids=[person.pk], actor=dpo)
    return request


def test_undecided_contact_blocks_close(make_request, dpo, person, bystander):
    """A search that found the contact is not a decision on whose it is."""
    request = _request_sharing_email(make_request, dpo, person, bystander)
    request_build_package(request=request, actor=dpo, portability=False)

    with pytest.raises(RequestError, match=f"#{bystander.pk} holds the e-mail"):
        request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status != Status.CLOSED


def test_set_aside_contact_allows_close(make_request, dpo, person, bystander):
    request = _request_sharing_email(make_request, dpo, person, bystander)
    request_build_package(request=request, actor=dpo, portability=False)

    request_set_aside_contacts(request=request, contact_ids=[bystander.pk], actor=dpo)
    with pytest.raises(RequestError, match="build the package again"):
        request_close(request=request, actor=dpo)
    request_build_package(request=request, actor=dpo, portability=False)
    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.CLOSED
    assert request.events.get(action="contacts_set_aside").details == {
        "contact_ids": [bystander.pk]
    }


def test_linked_contact_cannot_be_set_aside(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "access", [person])

    with pytest.raises(RequestError, match="is linked to .*: unlink it first"):
        request_set_aside_contacts(request=request, contact_ids=[person.pk], actor=dpo)


def test_package_omits_set_aside_contacts(make_request, dpo, person, bystander):
    """The bystander has the requester's e-mail but is someone else."""
    request = _request_sharing_email(make_request, dpo, person, bystander)
    request_set_aside_contacts(request=request, contact_ids=[bystander.pk], actor=dpo)

    request_build_package(request=request, actor=dpo, portability=False)

    built = request.events.get(action="access_package_built")
    assert built.details["contact_ids"] == [person.pk]


def test_set_aside_twice_records_once(make_request, dpo, bystander):
    request = make_request(
        kind="access", verified_by=dpo, requester_email=bystander.email
    )
    request_search(request=request, actor=dpo)
    request_set_aside_contacts(request=request, contact_ids=[bystander.pk], actor=dpo)

    again = request_set_aside_contacts(
        request=request, contact_ids=[bystander.pk], actor=dpo
    )

    assert again == 0
    assert request.events.filter(action="contacts_set_aside").count() == 1


def test_erased_request_cannot_be_refused(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "erasure", [person])
    request_erase(request=request, actor=dpo)

    with pytest.raises(RequestError, match="it was already carried out"):
        request_refuse(request=request, reason="Demande excessive", actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


def test_rectified_request_cannot_be_refused(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "rectification", [person])
    request_rectify(
        request=request,
        contact_id=person.pk,
        changes={"job_title": "Directrice des achats"},
        actor=dpo,
    )

    with pytest.raises(RequestError, match="it was already carried out"):
        request_refuse(request=request, reason="Demande excessive", actor=dpo)


def test_restricted_request_refused_after_lifting(make_request, dpo, person):
    request = _linked_request(make_request, dpo, "restriction", [person])
    request_restrict(request=request, actor=dpo)

    with pytest.raises(RequestError, match="lift the restriction first"):
        request_refuse(request=request, reason="Demande infondée", actor=dpo)
    restriction_lift(request, dpo)
    request_refuse(request=request, reason="Demande infondée", actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.REFUSED


def test_namesake_set_aside_after_package_allows_close(make_request, dpo, person):
    """GIVEN a package built for the linked contact, WHEN the DPO then sets
    aside a namesake that the package left out, THEN the request closes:
    the package still covers exactly what it covered."""
    namesake = Contact.objects.create(
        first_name=PERSON["first_name"],
        last_name=PERSON["last_name"],
        email="homonyme@autre-exemple.fr",
        processing_activity=person.processing_activity,
        collected_at=timezone.now(),
    )
    request = _linked_request(make_request, dpo, "access", [person])
    request_search(request=request, actor=dpo)
    request_build_package(request=request, actor=dpo)
    request_set_aside_contacts(request=request, contact_ids=[namesake.pk], actor=dpo)

    request_close(request=request, actor=dpo)

    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_covered_contact_set_aside_after_package_blocks_close(
    make_request, dpo, person
):
    request = make_request(kind="access", verified_by=dpo)
    request_search(request=request, actor=dpo)
    request_build_package(request=request, actor=dpo)
    request_set_aside_contacts(request=request, contact_ids=[person.pk], actor=dpo)

    with pytest.raises(RequestError, match="changed after the last package"):
        request_close(request=request, actor=dpo)
