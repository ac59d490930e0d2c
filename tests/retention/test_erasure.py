"""The bulk erasure of a chunk: the rows that refer to contacts, campaign files."""

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from apps.contacts.erasure import DELETE
from apps.contacts.erasure import UNLINK
from apps.contacts.erasure import contact_references
from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.register.models import RetentionRule
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
    settings.MEDIA_ROOT = tmp_path
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
