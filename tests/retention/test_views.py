"""The retention page, its actions, navigation and dashboard panel."""

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.contacts.models import Contact
from apps.core.models import AuditEvent
from apps.core.navigation import navigation_for
from apps.retention.models import RetentionRun
from apps.retention.services import retention_apply
from tests.retention.dates import AS_OF
from tests.retention.factories import ContactFactory

pytestmark = pytest.mark.postgres

OVERVIEW = reverse("retention:overview")
RUN_REQUEST = reverse("retention:run-request")


@pytest.fixture
def finished_runs(contact_rule, expired_at):
    for _ in range(2):
        ContactFactory(
            processing_activity=contact_rule.activity, collected_at=expired_at
        )
    preview, _ = retention_apply(trigger="command", dry_run=True)
    applied, _ = retention_apply(trigger="command")
    return preview, applied


def test_overview_shows_runs_to_compliance_officer(
    client_for, compliance_officer, finished_runs
):
    preview, applied = finished_runs

    response = client_for(compliance_officer).get(OVERVIEW)

    assert response.status_code == 200
    assert response.context["next_run"] is not None
    assert response.context["preview"] == preview
    assert response.context["last_run"] == applied
    assert response.context["can_run"] is True
    page = response.content.decode()
    assert f'action="{RUN_REQUEST}"' in page
    assert 'data-removed="2"' in page
    assert 'data-would-remove="2"' in page


def test_overview_labels_dry_and_real_counts(
    client_for, compliance_officer, finished_runs
):
    response = client_for(compliance_officer).get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert "<strong>2</strong> records would be deleted or anonymised" in page
    assert "2 would be deleted or anonymised" in page
    assert "<strong>2</strong> records deleted or anonymised" in page


def test_overview_counts_in_french(client_for, compliance_officer, finished_runs):
    preview, _applied = finished_runs
    not_previewed = [
        step for step in preview.steps if step.get("status") == "not_previewed"
    ]

    page = client_for(compliance_officer).get(OVERVIEW).content.decode()

    assert "<strong>2</strong> enregistrements supprimés ou anonymisés" in page
    assert "Seraient supprimés ou anonymisés" in page
    assert not_previewed
    assert page.count('data-would-remove="">—') == len(not_previewed)


def test_preview_older_than_last_run_is_flagged(
    client_for, compliance_officer, finished_runs
):
    response = client_for(compliance_officer).get(OVERVIEW)

    assert response.context["preview_outdated"] is True
    assert 'id="preview-outdated"' in response.content.decode()


def test_dpo_reads_without_run_buttons(client_for, dpo, finished_runs):
    response = client_for(dpo).get(OVERVIEW)

    assert response.status_code == 200
    assert response.context["can_run"] is False
    assert f'action="{RUN_REQUEST}"' not in response.content.decode()


@pytest.mark.parametrize("persona", ["sales_user", "outsider"])
def test_overview_forbidden_without_permission(request, client_for, persona):
    user = request.getfixturevalue(persona)

    response = client_for(user).get(OVERVIEW)

    assert response.status_code == 403


def test_overview_requires_login(client, db):
    response = client.get(OVERVIEW)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_preview_request_runs_dry_run(
    client_for,
    compliance_officer,
    contact_rule,
    expired_at,
    django_capture_on_commit_callbacks,
):
    contact = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(compliance_officer).post(RUN_REQUEST, {"kind": "preview"})

    assert response.status_code == 302
    run = RetentionRun.objects.get()
    assert run.dry_run is True
    assert run.status == "succeeded"
    assert run.requested_by == compliance_officer
    assert run.total_would_remove == 1
    assert run.total_removed == 0
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert AuditEvent.objects.filter(
        action="retention.run.requested", actor=compliance_officer
    ).exists()


def test_apply_request_removes_due_contacts(
    client_for,
    compliance_officer,
    contact_rule,
    expired_at,
    django_capture_on_commit_callbacks,
):
    contact = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    preview, _ = retention_apply(trigger="command", dry_run=True)
    confirmed = {"kind": "apply", "confirm": "on", "preview": preview.pk}

    with django_capture_on_commit_callbacks(execute=True):
        client_for(compliance_officer).post(RUN_REQUEST, confirmed)

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert RetentionRun.objects.filter(dry_run=False, status="succeeded").count() == 1


def test_dpo_cannot_request_run(client_for, dpo):
    response = client_for(dpo).post(RUN_REQUEST, {"kind": "apply"})

    assert response.status_code == 403
    assert not RetentionRun.objects.exists()


def test_invalid_kind_is_rejected(client_for, compliance_officer):
    response = client_for(compliance_officer).post(RUN_REQUEST, {"kind": "everything"})

    assert response.status_code == 400
    assert "everything" in response.content.decode()
    assert not RetentionRun.objects.exists()


def test_invalid_kind_is_not_rendered_as_html(client_for, compliance_officer):
    response = client_for(compliance_officer).post(RUN_REQUEST, {"kind": "<b>x</b>"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


def test_run_request_refuses_get(client_for, compliance_officer):
    response = client_for(compliance_officer).get(RUN_REQUEST)

    assert response.status_code == 405


def test_run_detail_lists_steps(client_for, dpo, finished_runs):
    _, applied = finished_runs

    response = client_for(dpo).get(reverse("retention:run-detail", args=[applied.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    for step in applied.steps:
        assert f'data-step="{step["key"]}"' in page


def test_dry_run_detail_labels_count(client_for, dpo, finished_runs):
    preview, _ = finished_runs

    response = client_for(dpo).get(
        reverse("retention:run-detail", args=[preview.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Records that would be deleted or anonymised" in page
    assert "Records deleted or anonymised" not in page
    assert 'data-would-remove="2"' in page
    assert "data-removed=" not in page


def test_navigation_shows_retention_to_roles(compliance_officer, dpo, sales_user):
    def names(user):
        return {entry["url_name"] for entry in navigation_for(user)}

    assert "retention:overview" in names(compliance_officer)
    assert "retention:overview" in names(dpo)
    assert "retention:overview" not in names(sales_user)


def test_dashboard_panel_for_compliance_officer(
    client_for, compliance_officer, sales_user, finished_runs
):
    officer_page = client_for(compliance_officer).get(reverse("core:dashboard"))
    officer_titles = [str(panel.title) for panel in officer_page.context["panels"]]
    sales_page = client_for(sales_user).get(reverse("core:dashboard"))
    sales_titles = [str(panel.title) for panel in sales_page.context["panels"]]

    assert any(title in {"Retention", "Conservation"} for title in officer_titles)
    assert not any(title in {"Retention", "Conservation"} for title in sales_titles)
    assert OVERVIEW in officer_page.content.decode()


def test_dry_run_detail_in_french(client_for, dpo, finished_runs):
    preview, applied = finished_runs
    detail = "retention:run-detail"

    preview_page = client_for(dpo).get(reverse(detail, args=[preview.pk]))
    applied_page = client_for(dpo).get(reverse(detail, args=[applied.pk]))

    assert "Enregistrements qui seraient supprimés" in preview_page.content.decode()
    assert "Enregistrements supprimés" in applied_page.content.decode()


def test_run_detail_labels_other_apps_counts(client_for, dpo):
    run = RetentionRun.objects.create(
        trigger="command",
        as_of=AS_OF,
        status="succeeded",
        steps=[
            {
                "key": "contacts:default",
                "kind": "contacts",
                "status": "done",
                "removed": 1,
                "erased": {"import_row_result_unlinked": 3},
            }
        ],
    )

    response = client_for(dpo).get(
        reverse("retention:run-detail", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    page = response.content.decode()
    assert "import row result unlinked: 3" in page
    assert "import_row_result_unlinked" not in page


def test_look_back_dry_run_is_not_the_preview(
    client_for, compliance_officer, finished_runs
):
    preview, _ = finished_runs
    retention_apply(trigger="command", dry_run=True, as_of=AS_OF.replace(year=2020))

    response = client_for(compliance_officer).get(OVERVIEW)

    assert response.context["preview"] == preview


def test_running_preview_shows_it_is_counted(client_for, compliance_officer, db):
    RetentionRun.objects.create(
        trigger="page",
        dry_run=True,
        as_of=timezone.localdate(),
        status=RetentionRun.Status.RUNNING,
        started_at=timezone.now(),
    )
    client = client_for(compliance_officer)

    overview = client.get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    dashboard = client.get(reverse("core:dashboard"), HTTP_ACCEPT_LANGUAGE="en")

    assert 'id="preview-running"' in overview
    assert "is being counted" in overview
    assert "would be deleted or anonymised." not in overview
    assert "being counted" in dashboard.content.decode()


def test_preview_counts_unsubscribed_as_such(
    client_for, compliance_officer, contact_rule, expired_at
):
    ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=expired_at,
        status=Contact.Status.UNSUBSCRIBED,
    )
    retention_apply(trigger="command", dry_run=True)

    response = client_for(compliance_officer).get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en")

    assert "1 person who objected or unsubscribed" in response.content.decode()


def test_preview_request_with_queue_down_fails_the_run(
    client_for, compliance_officer, django_capture_on_commit_callbacks
):
    """The broker is down: Celery cannot send the task (no shared Redis is stopped)."""
    with (
        mock.patch(
            "apps.retention.tasks.preview_retention.delay",
            side_effect=OperationalError("Error 111 connecting to 127.0.0.1:6399."),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(compliance_officer).post(
            RUN_REQUEST, {"kind": "preview"}, HTTP_ACCEPT_LANGUAGE="en"
        )

    assert response.status_code == 302
    run = RetentionRun.objects.get()
    assert run.status == RetentionRun.Status.FAILED
    assert "task queue could not be reached" in run.error


@pytest.mark.django_db(transaction=True)
def test_preview_queue_down_message(client_for, compliance_officer):
    """Outside a test transaction the task is sent before the view returns."""
    with mock.patch(
        "apps.retention.tasks.preview_retention.delay",
        side_effect=OperationalError("Error 111 connecting to 127.0.0.1:6399."),
    ):
        response = client_for(compliance_officer).post(
            RUN_REQUEST, {"kind": "preview"}, HTTP_ACCEPT_LANGUAGE="en", follow=True
        )

    page = response.content.decode()
    assert "task queue could not be reached" in page
    assert "Preview #" not in page


@pytest.mark.django_db
def test_failed_preview_keeps_last(client_for, compliance_officer):
    today = timezone.localdate()
    counted = RetentionRun.objects.create(
        trigger="page", dry_run=True, as_of=today, status="succeeded", steps=[]
    )
    RetentionRun.objects.create(
        trigger="page",
        dry_run=True,
        as_of=today,
        status="failed",
        error="The task queue could not be reached.",
        steps=[],
    )

    response = client_for(compliance_officer).get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.context["preview"] == counted
    assert 'id="preview-failed"' in page
    assert "failed and counted nothing. The task queue could not be reached." in page
