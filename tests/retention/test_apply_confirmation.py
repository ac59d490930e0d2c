"""The confirmation that "Apply the rules now" requires on the retention page."""

from datetime import datetime
from datetime import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.contacts.models import Contact
from apps.core.models import AuditEvent
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.retention.models import RetentionRun
from apps.retention.policy import RETENTION_TIME_ZONE
from apps.retention.policy import local_today
from apps.retention.services import retention_apply
from tests.retention.factories import ContactFactory
from tests.retention.factories import RuleFactory

pytestmark = pytest.mark.postgres

OVERVIEW = reverse("retention:overview")
RUN_REQUEST = reverse("retention:run-request")


@pytest.fixture
def due_contacts(contact_rule, expired_at):
    return [
        ContactFactory(
            processing_activity=contact_rule.activity, collected_at=expired_at
        )
        for _ in range(2)
    ]


@pytest.fixture
def preview(due_contacts):
    run, _ = retention_apply(trigger="command", dry_run=True)
    return run


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _post_apply(client, data, capture, **headers):
    with capture(execute=True):
        return client.post(
            RUN_REQUEST, {"kind": "apply", **data}, follow=True, **headers
        )


@pytest.fixture
def rule_shortened(activity, django_capture_on_commit_callbacks):
    """GIVEN a preview that counts 0 contacts under a 1-year rule
    WHEN the register shortens the rule to 64 days
    THEN two contacts collected 100 days ago become due.
    """
    rule = RuleFactory(activity=activity, duration=1)
    contacts = [
        ContactFactory(
            processing_activity=activity,
            collected_at=timezone.now() - timedelta(days=100),
        )
        for _ in range(2)
    ]
    preview, _ = retention_apply(trigger="command", dry_run=True)
    assert preview.total_would_remove == 0
    RetentionRule.objects.filter(pk=rule.pk).update(
        duration=64, unit=RetentionRule.Unit.DAYS
    )
    return preview, contacts


def test_overview_shows_counts_and_box(client_for, compliance_officer, preview):
    response = client_for(compliance_officer).get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.context["apply_preview"] == preview
    assert "counted <strong>2</strong> records to remove" in page
    assert 'name="confirm"' in page
    assert f'name="preview" value="{preview.pk}"' in page


@pytest.mark.parametrize(("days_ahead", "warned"), [(0, False), (1, True)])
def test_fewer_removals_warned_for_later_preview(
    client_for, compliance_officer, due_contacts, days_ahead, warned
):
    as_of = local_today() + timedelta(days=days_ahead)
    retention_apply(trigger="command", dry_run=True, as_of=as_of)

    response = client_for(compliance_officer).get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en")

    assert response.context["apply_preview"].as_of == as_of
    assert ("so it can remove fewer" in response.text) is warned


def test_later_preview_dates_import_leftovers_from_its_day(due_contacts):
    tomorrow = local_today() + timedelta(days=1)
    run, _ = retention_apply(trigger="command", dry_run=True, as_of=tomorrow)

    step = next(step for step in run.steps if step["key"] == "import-leftovers")

    hours = timedelta(hours=settings.IMPORT_FILE_RETENTION_HOURS)
    cutoff = datetime.fromisoformat(step["cutoff"])
    assert cutoff == datetime.combine(tomorrow, time.min, RETENTION_TIME_ZONE) - hours


def test_apply_without_tick_removes_nothing(
    client_for,
    compliance_officer,
    preview,
    due_contacts,
    django_capture_on_commit_callbacks,
):
    client = client_for(compliance_officer)

    response = _post_apply(
        client, {"preview": preview.pk}, django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    assert any("Cochez la case de confirmation" in text for text in _messages(response))
    assert not RetentionRun.objects.filter(dry_run=False).exists()
    assert Contact.objects.filter(pk__in=[c.pk for c in due_contacts]).count() == 2


def test_apply_with_tick_removes_due_contacts(
    client_for,
    compliance_officer,
    preview,
    due_contacts,
    django_capture_on_commit_callbacks,
):
    client = client_for(compliance_officer)

    _post_apply(
        client,
        {"confirm": "on", "preview": preview.pk},
        django_capture_on_commit_callbacks,
    )

    run = RetentionRun.objects.get(dry_run=False)
    assert run.status == RetentionRun.Status.SUCCEEDED
    assert run.requested_by == compliance_officer
    assert not Contact.objects.filter(pk__in=[c.pk for c in due_contacts]).exists()


def test_plan_change_before_worker_skips_run(
    client_for,
    compliance_officer,
    contact_rule,
    preview,
    due_contacts,
    django_capture_on_commit_callbacks,
):
    """GIVEN a confirmed preview whose run waits for a worker
    WHEN the register shortens a rule before the worker starts
    THEN the worker skips the run, removes nothing and records why.
    """
    client = client_for(compliance_officer)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(
            RUN_REQUEST, {"kind": "apply", "confirm": "on", "preview": preview.pk}
        )
    RetentionRule.objects.filter(pk=contact_rule.pk).update(
        duration=64, unit=RetentionRule.Unit.DAYS
    )

    for callback in queued:
        callback()

    run = RetentionRun.objects.get(dry_run=False)
    assert run.confirmed_preview == preview
    assert run.status == RetentionRun.Status.SKIPPED
    assert f"after preview #{preview.pk} was confirmed" in run.error
    assert Contact.objects.filter(pk__in=[c.pk for c in due_contacts]).count() == 2
    assert AuditEvent.objects.filter(action="retention.run.skipped").count() == 1


def test_preview_confirms_one_run_only(
    client_for,
    compliance_officer,
    preview,
    due_contacts,
    django_capture_on_commit_callbacks,
):
    client = client_for(compliance_officer)
    confirmed = {"confirm": "on", "preview": preview.pk}
    client.post(RUN_REQUEST, {"kind": "apply", **confirmed})

    response = _post_apply(client, confirmed, django_capture_on_commit_callbacks)

    assert any("Recalculez l'aperçu" in text for text in _messages(response))
    assert RetentionRun.objects.filter(dry_run=False).count() == 1


@pytest.mark.parametrize("posted", [{"preview": "abc"}, {}])
def test_apply_with_bad_preview_id_gets_one_message(
    client_for,
    compliance_officer,
    preview,
    due_contacts,
    django_capture_on_commit_callbacks,
    posted,
):
    client = client_for(compliance_officer)

    response = _post_apply(
        client, {"confirm": "on", **posted}, django_capture_on_commit_callbacks
    )

    messages = _messages(response)
    assert len(messages) == 1
    assert "Rechargez la page" in messages[0]
    assert not RetentionRun.objects.filter(dry_run=False).exists()


def test_apply_without_preview_rejected(
    client_for,
    compliance_officer,
    due_contacts,
    django_capture_on_commit_callbacks,
):
    client = client_for(compliance_officer)

    response = _post_apply(
        client, {"confirm": "on"}, django_capture_on_commit_callbacks
    )

    assert any("Recalculez l'aperçu" in text for text in _messages(response))
    assert not RetentionRun.objects.exists()
    assert Contact.objects.count() == 2


def test_apply_after_preview_changed_rejected(
    client_for,
    compliance_officer,
    preview,
    django_capture_on_commit_callbacks,
):
    newer, _ = retention_apply(trigger="command", dry_run=True)
    client = client_for(compliance_officer)

    response = _post_apply(
        client,
        {"confirm": "on", "preview": preview.pk},
        django_capture_on_commit_callbacks,
    )

    messages = " ".join(_messages(response))
    assert f"n° {preview.pk}" in messages
    assert f"n° {newer.pk}" in messages
    assert not RetentionRun.objects.filter(dry_run=False).exists()


def test_outdated_preview_offers_no_apply(
    client_for, compliance_officer, preview, django_capture_on_commit_callbacks
):
    retention_apply(trigger="command")
    client = client_for(compliance_officer)

    page = client.get(OVERVIEW)
    response = _post_apply(
        client,
        {"confirm": "on", "preview": preview.pk},
        django_capture_on_commit_callbacks,
    )

    assert page.context["apply_preview"] is None
    assert 'id="apply-needs-preview"' in page.content.decode()
    assert 'name="confirm"' not in page.content.decode()
    assert RetentionRun.objects.filter(dry_run=False).count() == 1
    assert any("Recalculez l'aperçu" in text for text in _messages(response))


def test_past_day_preview_offers_no_apply(client_for, compliance_officer, preview):
    yesterday = local_today() - timedelta(days=1)
    RetentionRun.objects.filter(pk=preview.pk).update(
        as_of=yesterday, created_at=preview.created_at - timedelta(days=2)
    )

    response = client_for(compliance_officer).get(OVERVIEW)

    assert response.context["preview"] == preview
    assert response.context["apply_preview"] is None


def test_failed_preview_offers_no_apply(client_for, compliance_officer, preview):
    RetentionRun.objects.filter(pk=preview.pk).update(status=RetentionRun.Status.FAILED)

    response = client_for(compliance_officer).get(OVERVIEW)

    assert response.context["apply_preview"] is None


def test_dpo_cannot_apply_even_confirmed(client_for, dpo, preview):
    response = client_for(dpo).post(
        RUN_REQUEST, {"kind": "apply", "confirm": "on", "preview": preview.pk}
    )

    assert response.status_code == 403
    assert not RetentionRun.objects.filter(dry_run=False).exists()


def test_apply_after_rule_changed_rejected(
    client_for, compliance_officer, rule_shortened, django_capture_on_commit_callbacks
):
    preview, contacts = rule_shortened
    client = client_for(compliance_officer)

    response = _post_apply(
        client,
        {"confirm": "on", "preview": preview.pk},
        django_capture_on_commit_callbacks,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    messages = _messages(response)
    assert len(messages) == 1
    assert "The register changed after the preview" in messages[0]
    assert "Refresh the preview" in messages[0]
    assert not RetentionRun.objects.filter(dry_run=False).exists()
    assert Contact.objects.filter(pk__in=[c.pk for c in contacts]).count() == 2


def test_overview_flags_changed_plan(client_for, compliance_officer, rule_shortened):
    response = client_for(compliance_officer).get(OVERVIEW)

    page = response.content.decode()
    assert response.context["apply_preview"] is None
    assert response.context["preview_plan_changed"] is True
    assert 'id="preview-plan-changed"' in page
    assert 'name="confirm"' not in page


def test_unchanged_plan_flags_nothing(client_for, compliance_officer, preview):
    response = client_for(compliance_officer).get(OVERVIEW)

    assert response.context["preview_plan_changed"] is False
    assert 'id="preview-plan-changed"' not in response.content.decode()


def test_retiring_activity_keeps_preview_current(
    client_for, compliance_officer, contact_rule, preview
):
    ProcessingActivity.objects.filter(pk=contact_rule.activity_id).update(
        status=ProcessingActivity.Status.RETIRED
    )

    response = client_for(compliance_officer).get(OVERVIEW)

    assert response.context["apply_preview"] == preview


def test_preview_without_codes_counts_as_changed(
    client_for, compliance_officer, preview
):
    codes = {"label_code", "label_params", "not_applied_code", "not_applied_params"}
    steps = [
        {key: value for key, value in step.items() if key not in codes}
        for step in preview.steps
    ]
    RetentionRun.objects.filter(pk=preview.pk).update(steps=steps)

    response = client_for(compliance_officer).get(OVERVIEW)

    assert response.context["apply_preview"] is None
    assert response.context["preview_plan_changed"] is True


def test_apply_with_real_run_id_names_it(
    client_for, compliance_officer, preview, django_capture_on_commit_callbacks
):
    real, _ = retention_apply(trigger="command")
    current, _ = retention_apply(trigger="command", dry_run=True)
    client = client_for(compliance_officer)

    response = _post_apply(
        client,
        {"confirm": "on", "preview": real.pk},
        django_capture_on_commit_callbacks,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    messages = _messages(response)
    assert len(messages) == 1
    assert f"Run #{real.pk} is a real run, not a preview" in messages[0]
    assert f"preview #{current.pk}" in messages[0]
    assert RetentionRun.objects.filter(dry_run=False).count() == 1
