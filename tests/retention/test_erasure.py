"""The bulk erasure of a chunk: which erasers run, and campaign files."""

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.register.models import RetentionRule
from apps.retention import erasure
from apps.retention.models import RetentionRun
from apps.retention.services import retention_apply
from tests.retention.dates import AS_OF
from tests.retention.factories import ContactFactory
from tests.retention.factories import RuleFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def eraser_calls(monkeypatch):
    """Record the contact ids passed to the subject-requests app's eraser."""
    from apps.subject_requests import personal_data

    calls = []
    real_erase = personal_data.erase

    def erase_spy(**arguments):
        calls.append(sorted(arguments["contact_ids"]))
        return real_erase(**arguments)

    monkeypatch.setattr(personal_data, "erase", erase_spy)
    erasure._personal_data_erasers.cache_clear()
    yield calls
    erasure._personal_data_erasers.cache_clear()


def _apply():
    run, _ = retention_apply(trigger="command", as_of=AS_OF)
    assert run.status == RetentionRun.Status.SUCCEEDED, run.error
    return run


def test_contact_id_columns_found_per_app():
    def columns(label):
        return set(erasure._contact_id_columns(django_apps.get_app_config(label)))

    assert ("imports_rowresult", "contact_id") in columns("imports")
    assert ("imports_stagingrow", "contact_id") in columns("imports")
    assert ("breaches_breachrecipient", "contact_id") in columns("breaches")
    through = django_apps.get_model("subject_requests", "SubjectRequest").contacts
    assert (through.through._meta.db_table, "contact_id") in columns("subject_requests")


def test_eraser_skipped_for_unreferenced_chunk(contact_rule, expired_at, eraser_calls):
    ContactFactory(processing_activity=contact_rule.activity, collected_at=expired_at)

    _apply()

    assert eraser_calls == []
    assert not Contact.objects.exists()


def test_eraser_runs_for_referenced_chunk(contact_rule, expired_at, eraser_calls, dpo):
    from apps.subject_requests.services import request_create
    from apps.subject_requests.services import request_link_contacts

    linked = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    other = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    request = request_create(
        kind="access",
        channel="email",
        requester_name="Camille Exemple",
        requester_email="demandeur@example.com",
        received_at=timezone.now(),
        handler=dpo,
    )
    request_link_contacts(request=request, contact_ids=[linked.pk], actor=dpo)

    _apply()

    assert eraser_calls == [sorted([linked.pk, other.pk])]
    assert not request.contacts.exists()


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
