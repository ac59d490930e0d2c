"""The bulk erasure of a chunk: references to contacts, campaign files, re-checks."""

import pytest
from django.apps import apps as django_apps
from django.db import transaction
from django.utils import timezone

from apps.contacts.erasure import DELETE
from apps.contacts.erasure import UNLINK
from apps.contacts.erasure import contact_references
from apps.contacts.locks import contacts_write_lock
from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.core.identifiers import identifier_hash
from apps.register.models import RetentionRule
from apps.retention.erasure import contacts_anonymise
from apps.retention.erasure import contacts_delete
from apps.retention.models import RetentionRun
from apps.retention.services import retention_apply
from tests.retention.dates import AS_OF
from tests.retention.factories import ContactFactory
from tests.retention.factories import RuleFactory

pytestmark = pytest.mark.postgres


def _apply():
    run, _ = retention_apply(trigger="command", as_of=AS_OF)
    assert run.status == RetentionRun.Status.SUCCEEDED, run.error
    return run


def test_contact_references_cover_every_app():
    references = {(r.table, r.column): r for r in contact_references()}

    assert references[("imports_rowresult", "contact_id")].action == UNLINK
    assert references[("imports_stagingrow", "contact_id")].action == DELETE
    assert references[("breaches_breachrecipient", "contact_id")].kind == (
        "breach_recipient"
    )
    through = django_apps.get_model("subject_requests", "SubjectRequest").contacts
    link = references[(through.through._meta.db_table, "contact_id")]
    assert link.kind == "subject_request_link"


def test_linked_request_loses_its_link(contact_rule, expired_at, dpo):
    from apps.subject_requests.services import request_create
    from apps.subject_requests.services import request_link_contacts

    linked = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    ContactFactory(processing_activity=contact_rule.activity, collected_at=expired_at)
    request = request_create(
        kind="access",
        channel="email",
        requester_name="Camille Exemple",
        requester_email="demandeur@example.com",
        received_at=timezone.now(),
        handler=dpo,
    )
    request_link_contacts(request=request, contact_ids=[linked.pk], actor=dpo)

    run = _apply()

    step = next(step for step in run.steps if step.get("rule_id") == contact_rule.pk)
    assert step["deleted"] == 2
    assert step["erased"]["subject_request_link"] == 1
    assert not request.contacts.exists()
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "action", [RetentionRule.Action.DELETE, RetentionRule.Action.ANONYMISE]
)
def test_campaign_file_deleted_with_contact(
    activity, expired_at, settings, tmp_path, action
):
    settings.CAMPAIGN_EXPORT_ROOT = tmp_path
    rule = RuleFactory(activity=activity, action=action)
    contact = ContactFactory(processing_activity=activity, collected_at=expired_at)
    export = CampaignExport.objects.create(file_path="campaigns/spring.csv")
    CampaignExportContact.objects.create(export=export, contact_id=contact.pk)
    path = tmp_path / "campaigns" / "spring.csv"
    path.parent.mkdir()
    path.write_text("email\nprospect@example.test\n")

    run = _apply()

    export.refresh_from_db()
    step = next(step for step in run.steps if step.get("rule_id") == rule.pk)
    assert not path.exists()
    assert export.file_deleted_at is not None
    assert export.file_deleted_reason == "retention"
    assert not CampaignExportContact.objects.filter(contact_id=contact.pk).exists()
    assert step["erased"]["campaign_export_file"] == 1


def _chunk_apply(act, ids):
    with transaction.atomic():
        contacts_write_lock()
        return act(
            ids=ids,
            within=Contact.objects.exclude(status=Contact.Status.ANONYMISED),
        )


@pytest.mark.parametrize("act", [contacts_delete, contacts_anonymise])
def test_chunk_leaves_contacts_no_longer_due(activity, expired_at, act):
    due = ContactFactory(processing_activity=activity, collected_at=expired_at)
    changed = ContactFactory(processing_activity=activity, collected_at=expired_at)
    # Anonymised by another run after this batch read its candidates.
    Contact.objects.filter(pk=changed.pk).update(
        status=Contact.Status.ANONYMISED, first_name="Kept"
    )

    applied = _chunk_apply(act, [due.pk, changed.pk])

    assert applied.contact_ids == [due.pk]
    changed.refresh_from_db()
    assert changed.first_name == "Kept"


def test_anonymised_chunk_suppresses_only_people_who_objected(activity, expired_at):
    objected = ContactFactory(
        processing_activity=activity,
        collected_at=expired_at,
        status=Contact.Status.OBJECTED,
    )
    active = ContactFactory(processing_activity=activity, collected_at=expired_at)

    applied = _chunk_apply(contacts_anonymise, [objected.pk, active.pk])

    assert sorted(applied.contact_ids) == sorted([objected.pk, active.pk])
    assert applied.counts["anonymised"] == 2
    assert applied.counts["suppressed"] == 2
    reasons = dict(SuppressionEntry.objects.values_list("identifier_hash", "reason"))
    assert reasons == {
        identifier_hash(objected.email): "objected",
        identifier_hash(objected.phone): "objected",
    }
