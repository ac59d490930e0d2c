"""Breach pages: permissions, notification form, draft, people to inform."""

import csv
import io
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from apps.breaches import selectors
from apps.breaches import services
from apps.breaches.dashboard import dashboard_panels
from apps.breaches.models import Breach
from apps.breaches.models import BreachCommunication
from apps.contacts.models import Audience
from apps.contacts.models import Contact
from apps.core.dates import format_datetime
from apps.core.models import AuditEvent
from apps.core.navigation import navigation_for
from apps.register.models import ProcessingActivity

from .factories import ActivityFactory
from .factories import BreachFactory
from .factories import ContactFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def breach(db):
    return BreachFactory(
        aware_at=timezone.now() - timedelta(hours=30),
        subject_categories="B2B prospects",
        subjects_approx=120,
        data_categories="Professional e-mail addresses",
        records_approx=130,
        likely_consequences="Phishing attempts.",
        measures_taken="Passwords reset.",
        measures_proposed="Encrypt every export.",
    )


def _pages(breach) -> list[str]:
    return [
        reverse("breaches:breach-list"),
        reverse("breaches:breach-register-export"),
        reverse("breaches:breach-create"),
        reverse("breaches:breach-detail", args=[breach.pk]),
        reverse("breaches:breach-update", args=[breach.pk]),
        reverse("breaches:breach-notify", args=[breach.pk]),
        reverse("breaches:breach-draft", args=[breach.pk]),
        reverse("breaches:breach-subjects", args=[breach.pk]),
        reverse("breaches:breach-subjects-export", args=[breach.pk]),
    ]


def test_sales_forbidden_everywhere(client_for, sales_user, breach):
    client = client_for(sales_user)

    statuses = {url: client.get(url).status_code for url in _pages(breach)}

    assert set(statuses.values()) == {403}


def test_outsider_forbidden(client_for, outsider, breach):
    client = client_for(outsider)

    response = client.get(reverse("breaches:breach-detail", args=[breach.pk]))

    assert response.status_code == 403


def test_anonymous_redirected_to_login(client, breach):
    response = client.get(reverse("breaches:breach-list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_dpo_opens_every_page(client_for, dpo, breach):
    client = client_for(dpo)

    statuses = {url: client.get(url).status_code for url in _pages(breach)[:-1]}

    assert set(statuses.values()) == {200}


def test_compliance_officer_sees_breach(client_for, compliance_officer, breach):
    client = client_for(compliance_officer)

    response = client.get(reverse("breaches:breach-detail", args=[breach.pk]))

    assert response.status_code == 200


def test_compliance_officer_no_contact_list(client_for, compliance_officer, breach):
    client = client_for(compliance_officer)

    response = client.get(reverse("breaches:breach-subjects", args=[breach.pk]))

    assert response.status_code == 403


def test_navigation_entry_by_role(dpo, sales_user):
    dpo_urls = [entry["url_name"] for entry in navigation_for(dpo)]
    sales_urls = [entry["url_name"] for entry in navigation_for(sales_user)]

    assert "breaches:breach-list" in dpo_urls
    assert "breaches:breach-list" not in sales_urls


def test_detail_shows_countdown(client_for, dpo, breach):
    response = client_for(dpo).get(reverse("breaches:breach-detail", args=[breach.pk]))

    content = response.content.decode()
    assert "breach-countdown" in content
    assert "41 h" in content or "42 h" in content


def test_notify_late_without_reasons_shows_error(client_for, dpo):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=80))
    client = client_for(dpo)
    submitted = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        reverse("breaches:breach-notify", args=[breach.pk]),
        {"phase": "initial", "submitted_at": submitted},
    )

    assert response.status_code == 200
    assert "state the reasons for the delay" in response.content.decode()
    breach.refresh_from_db()
    assert breach.notified_at is None


def test_notify_records_notification(client_for, dpo, breach):
    client = client_for(dpo)
    submitted = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        reverse("breaches:breach-notify", args=[breach.pk]),
        {"phase": "initial", "submitted_at": submitted, "authority_reference": "N-1"},
    )

    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.status == Breach.Status.NOTIFIED
    assert breach.authority_reference == "N-1"


def test_close_view_reports_rule(client_for, dpo, breach):
    client = client_for(dpo)

    response = client.post(
        reverse("breaches:breach-close", args=[breach.pk]), follow=True
    )

    assert "is not notified" in response.content.decode()
    breach.refresh_from_db()
    assert breach.status == Breach.Status.OPEN


def test_draft_contains_every_article_33_item(client_for, dpo, breach, organisation):
    response = client_for(dpo).get(reverse("breaches:breach-draft", args=[breach.pk]))

    content = response.content.decode()
    for expected in (
        "Exemple Industries SAS",
        "Dana Fictive",
        "dpo@example.test",
        "B2B prospects",
        "120",
        "Professional e-mail addresses",
        "130",
        "Phishing attempts.",
        "Passwords reset.",
        "Encrypt every export.",
        breach.reference,
    ):
        assert expected in content, expected


def test_draft_pdf_download(client_for, dpo, breach, organisation):
    url = reverse("breaches:breach-draft", args=[breach.pk])

    response = client_for(dpo).get(url, {"format": "pdf"})

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert breach.reference in response["Content-Disposition"]


def test_draft_pdf_splits_long_description(client_for, dpo, breach, organisation):
    Breach.objects.filter(pk=breach.pk).update(
        description="Un export de prospects a été envoyé au mauvais client. " * 200
    )
    url = reverse("breaches:breach-draft", args=[breach.pk])

    response = client_for(dpo).get(url, {"format": "pdf"})

    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 3


def test_processor_breach_names_controller_to_notify(client_for, dpo, breach):
    """GIVEN a breach whose only activity is run as a processor for Client SA
    WHEN the DPO opens the breach and its draft
    THEN both tell the DPO to notify Client SA, and the draft names it as controller.
    """
    activity = ActivityFactory(
        role=ProcessingActivity.Role.PROCESSOR, controllers_served="Client SA"
    )
    breach.activities.set([activity])
    client = client_for(dpo)

    detail = client.get(
        reverse("breaches:breach-detail", args=[breach.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    draft = client.get(
        reverse("breaches:breach-draft", args=[breach.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    for page in (detail, draft):
        text = page.content.decode()
        assert 'id="processor-breach"' in text
        assert "Notify the controller (Client SA)" in text
    section = draft.context["sections"][0]
    assert ("Controller", "Client SA") in section.rows
    assert "for the controller, who notifies the authority" in draft.content.decode()
    assert "CNIL's online form" not in draft.content.decode()


def test_controller_breach_has_no_processor_notice(client_for, dpo, breach):
    breach.activities.set([ActivityFactory()])

    detail = client_for(dpo).get(reverse("breaches:breach-detail", args=[breach.pk]))

    assert 'id="processor-breach"' not in detail.content.decode()


@pytest.fixture
def affected(db, breach):
    activity = ActivityFactory()
    breach.activities.add(activity)
    contacts = ContactFactory.create_batch(2, processing_activity=activity)
    ContactFactory(processing_activity=ActivityFactory())
    return activity, contacts


def test_subjects_page_lists_affected(client_for, dpo, breach, affected):
    activity, contacts = affected
    url = reverse("breaches:breach-subjects", args=[breach.pk])

    response = client_for(dpo).get(url, {"selected": "1", "activities": activity.pk})

    assert response.context["contact_count"] == 2
    assert contacts[0].email in response.content.decode()


def test_subjects_page_requires_activity(client_for, dpo, breach):
    url = reverse("breaches:breach-subjects", args=[breach.pk])

    response = client_for(dpo).get(url, {"selected": "1"})

    assert "Choose at least one processing activity." in response.content.decode()


def test_export_csv_and_audit(client_for, dpo, breach, affected):
    activity, contacts = affected
    url = reverse("breaches:breach-subjects-export", args=[breach.pk])

    response = client_for(dpo).get(url, {"activities": activity.pk, "format": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert {row[3] for row in rows[1:]} == {contact.email for contact in contacts}
    event = AuditEvent.objects.get(action="breaches.subjects.exported")
    assert event.count == 2
    assert contacts[0].email not in str(event.details)


def test_export_xlsx(client_for, dpo, breach, affected):
    activity, _contacts = affected
    url = reverse("breaches:breach-subjects-export", args=[breach.pk])

    response = client_for(dpo).get(url, {"activities": activity.pk, "format": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 3


def test_export_unknown_format_rejected(client_for, dpo, breach, affected):
    activity, _contacts = affected
    url = reverse("breaches:breach-subjects-export", args=[breach.pk])

    response = client_for(dpo).get(
        url, {"activities": activity.pk, "format": "ods"}, follow=True
    )

    assert "Unknown export format &#x27;ods&#x27;" in response.content.decode()
    assert not AuditEvent.objects.filter(action="breaches.subjects.exported").exists()


def test_communication_recorded(client_for, dpo, breach, affected):
    activity, _contacts = affected
    url = reverse("breaches:breach-communication", args=[breach.pk])

    response = client_for(dpo).post(
        url,
        {
            "activities": [activity.pk],
            "communicated_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "method": "E-mail from the DPO",
        },
    )

    assert response.status_code == 302
    communication = BreachCommunication.objects.get(breach=breach)
    assert communication.recipient_count == 2


def test_panel_orders_by_time_left(dpo):
    now = timezone.now()
    later = BreachFactory(aware_at=now - timedelta(hours=2))
    sooner = BreachFactory(aware_at=now - timedelta(hours=60))
    notified = BreachFactory(
        aware_at=now - timedelta(hours=70),
        status=Breach.Status.NOTIFIED,
        notified_at=now,
    )
    BreachFactory(status=Breach.Status.CLOSED, closed_at=now)

    panel = dashboard_panels(dpo)[0]

    assert panel.context["breaches"] == [sooner, later, notified]
    html = render_to_string(panel.template, {"panel": panel.context})
    assert html.index(sooner.reference) < html.index(later.reference)


def test_panel_hidden_from_sales(sales_user):
    assert dashboard_panels(sales_user) == []


def test_note_form_adds_event(client_for, dpo, breach):
    url = reverse("breaches:breach-note", args=[breach.pk])

    response = client_for(dpo).post(url, {"text": "Called the processor."}, follow=True)

    assert "Called the processor." in response.content.decode()
    assert breach.events.filter(kind="note").count() == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "The note is empty"),
        ("x" * 5001, "at most 5000 characters"),
        ("Appel\x00", "Null characters are not allowed"),
    ],
)
def test_note_form_names_its_problem(client_for, dpo, breach, text, expected):
    url = reverse("breaches:breach-note", args=[breach.pk])

    response = client_for(dpo).post(url, {"text": text}, HTTP_ACCEPT_LANGUAGE="en")

    errors = str(response.context["note_form"].errors["text"])
    assert response.status_code == 400
    assert expected in errors
    assert breach.events.filter(kind="note").count() == 0


def test_dashboard_lists_open_breaches(client_for, dpo):
    now = timezone.now()
    later = BreachFactory(aware_at=now - timedelta(hours=2))
    sooner = BreachFactory(aware_at=now - timedelta(hours=60))

    response = client_for(dpo).get(reverse("core:dashboard"))

    content = response.content.decode()
    assert response.status_code == 200
    assert content.index(sooner.reference) < content.index(later.reference)
    assert "breach-countdown" in content


def test_edit_form_saves_changes(client_for, dpo, breach):
    aware_at = breach.aware_at.replace(second=17, microsecond=250)
    Breach.objects.filter(pk=breach.pk).update(detected_at=aware_at, aware_at=aware_at)
    url = reverse("breaches:breach-update", args=[breach.pk])
    data = _edit_form(client_for(dpo), breach)
    data["records_approx"] = 999

    response = client_for(dpo).post(url, data)

    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.records_approx == 999
    assert breach.events.filter(kind="updated").count() == 1
    assert breach.aware_at == aware_at


def test_edit_keeps_awareness_in_repeated_hour(client_for, dpo, breach, settings):
    """GIVEN a breach whose awareness is 02:30 in the second of the two 02:30s
    of the night the clocks go back in Paris
    WHEN the DPO saves its edit form without touching the times
    THEN the awareness time and the deadline stay as they were.
    """
    settings.TIME_ZONE = "Europe/Paris"
    second_half_past_two = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    Breach.objects.filter(pk=breach.pk).update(
        detected_at=second_half_past_two, aware_at=second_half_past_two
    )
    breach.refresh_from_db()
    url = reverse("breaches:breach-update", args=[breach.pk])
    data = _edit_form(client_for(dpo), breach)
    data["records_approx"] = 999

    response = client_for(dpo).post(url, data)

    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.aware_at == second_half_past_two
    assert breach.detected_at == second_half_past_two


def test_stale_edit_rejected(client_for, dpo, compliance_officer, breach):
    """GIVEN the DPO and the compliance officer on the same breach's edit page
    WHEN the officer saves, then the DPO saves the page opened before
    THEN the DPO's save is rejected and the officer's change stays.
    """
    url = reverse("breaches:breach-update", args=[breach.pk])

    officer_data = _edit_form(client_for(compliance_officer), breach)
    dpo_data = _edit_form(client_for(dpo), breach)
    officer_data["description"] = "Described by the officer."
    dpo_data["measures_taken"] = "Measures by the DPO."

    first = client_for(compliance_officer).post(url, officer_data)
    second = client_for(dpo).post(url, dpo_data)

    breach.refresh_from_db()
    assert first.status_code == 302
    assert second.status_code == 200
    assert "after you opened the page" in second.content.decode()
    assert breach.description == "Described by the officer."
    assert breach.measures_taken != "Measures by the DPO."


def test_edit_form_moves_awareness_to_the_typed_minute(client_for, dpo, breach):
    url = reverse("breaches:breach-update", args=[breach.pk])
    data = _edit_form(client_for(dpo), breach)
    typed = timezone.localtime(breach.aware_at).replace(
        second=0, microsecond=0
    ) + timedelta(minutes=5)
    data["aware_at"] = _local_input(typed)
    data["aware_at_change_reason"] = "The log review gave the exact minute."

    response = client_for(dpo).post(url, data)

    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.aware_at == typed


def test_edit_form_asks_why_awareness_moves(client_for, dpo, breach):
    url = reverse("breaches:breach-update", args=[breach.pk])
    data = _edit_form(client_for(dpo), breach)
    before = breach.aware_at
    data["aware_at"] = _local_input(timezone.localtime(before) + timedelta(hours=5))

    response = client_for(dpo).post(url, data, HTTP_ACCEPT_LANGUAGE="en")

    errors = response.context["form"].errors
    assert "Say why the awareness time changes" in str(errors["aware_at_change_reason"])
    breach.refresh_from_db()
    assert breach.aware_at == before


def test_new_breach_form_has_no_change_reason(client_for, dpo):
    response = client_for(dpo).get(reverse("breaches:breach-create"))

    assert "aware_at_change_reason" not in response.context["form"].fields


@pytest.mark.parametrize("version", [None, "not-a-date"])
def test_edit_without_version_rejected(client_for, dpo, breach, version):
    url = reverse("breaches:breach-update", args=[breach.pk])
    data = _edit_form(client_for(dpo), breach)
    del data["loaded_version"]
    if version is not None:
        data["loaded_version"] = version
    data["records_approx"] = 999

    response = client_for(dpo).post(url, data, HTTP_ACCEPT_LANGUAGE="en")

    breach.refresh_from_db()
    assert response.status_code == 200
    assert "does not say which version" in response.content.decode()
    assert breach.records_approx != 999


def test_export_without_activity_explains(client_for, dpo, breach):
    url = reverse("breaches:breach-subjects-export", args=[breach.pk])

    response = client_for(dpo).get(url, {"format": "csv"}, follow=True)

    assert "Choose at least one processing activity." in response.content.decode()


def test_list_unknown_status_warns(client_for, dpo, breach):
    response = client_for(dpo).get(reverse("breaches:breach-list"), {"status": "lost"})

    assert "Unknown status “lost”: showing every breach" in response.content.decode()
    assert list(response.context["breaches"]) == [breach]


def _local_input(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_create_form_rejects_future_awareness(client_for, dpo):
    now = timezone.now()
    data = {
        "title": "Misdirected prospect file",
        "description": "A prospect file was sent to a wrong address.",
        "detected_at": _local_input(now - timedelta(hours=1)),
        "aware_at": _local_input(now + timedelta(days=6)),
        "affects_confidentiality": "on",
        "risk_level": Breach.RiskLevel.RISK,
        "notification_decision": Breach.NotificationDecision.PENDING,
    }

    response = client_for(dpo).post(reverse("breaches:breach-create"), data)

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "aware_at" in errors
    assert "is in the future" in str(errors["aware_at"])
    assert not Breach.objects.exists()


def test_edit_form_rejects_future_detection(client_for, dpo, breach):
    url = reverse("breaches:breach-update", args=[breach.pk])
    form = client_for(dpo).get(url).context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "activities"
    }
    future = timezone.now() + timedelta(days=1)
    data["detected_at"] = _local_input(future)
    data["aware_at"] = _local_input(future)
    data["aware_at_change_reason"] = "Typed by mistake."

    response = client_for(dpo).post(url, data)

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "detected_at" in errors
    assert "is in the future" in str(errors["detected_at"])
    breach.refresh_from_db()
    assert breach.aware_at < timezone.now()


@pytest.fixture
def french_contact(db, breach, settings):
    """A contact affected by ``breach``, with the site in French by default."""
    settings.LANGUAGE_CODE = "fr"
    activity = ActivityFactory()
    breach.activities.add(activity)
    contact = ContactFactory(
        processing_activity=activity,
        phone="+33610000000",
        status=Contact.Status.RESTRICTED,
        audience=Audience.B2C,
    )
    return activity, contact


def test_export_csv_shows_labels(client_for, dpo, breach, french_contact):
    activity, contact = french_contact
    url = reverse("breaches:breach-subjects-export", args=[breach.pk])

    response = client_for(dpo).get(url, {"activities": activity.pk, "format": "csv"})

    text = response.content.decode("utf-8-sig")
    headers, row = list(csv.reader(io.StringIO(text), delimiter=";"))
    cells = dict(zip(headers, row, strict=True))
    assert cells["Statut"] == "limité"
    assert cells["Cible"] == "B2C (particuliers)"
    assert cells["Téléphone"] == "+33610000000"


def test_export_xlsx_shows_labels(client_for, dpo, breach, french_contact):
    activity, contact = french_contact
    url = reverse("breaches:breach-subjects-export", args=[breach.pk])

    response = client_for(dpo).get(url, {"activities": activity.pk, "format": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    headers, row = sheet.iter_rows(values_only=True)
    cells = dict(zip(headers, row, strict=True))
    assert cells["Statut"] == "limité"
    assert cells["Cible"] == "B2C (particuliers)"
    assert cells["Téléphone"] == "+33610000000"


def test_subjects_preview_shows_labels(client_for, dpo, breach, french_contact):
    activity, contact = french_contact
    url = reverse("breaches:breach-subjects", args=[breach.pk])

    response = client_for(dpo).get(url, {"selected": "1", "activities": activity.pk})

    content = response.content.decode()
    assert "<td>limité</td>" in content
    assert "<td>B2C (particuliers)</td>" in content


def test_admin_cannot_change_clock_times(admin_client, breach):
    url = reverse("admin:breaches_breach_change", args=[breach.pk])

    content = admin_client.get(url).content.decode()

    assert 'name="title"' in content
    assert 'name="aware_at' not in content
    assert 'name="detected_at' not in content


def test_notify_form_rejects_future_time(client_for, dpo, breach):
    url = reverse("breaches:breach-notify", args=[breach.pk])
    future = _local_input(timezone.now() + timedelta(days=1))

    response = client_for(dpo).post(url, {"phase": "initial", "submitted_at": future})

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "is in the future" in str(errors["submitted_at"])
    breach.refresh_from_db()
    assert breach.notified_at is None


def test_communication_form_rejects_future_time(client_for, dpo, breach, affected):
    activity, _contacts = affected
    url = reverse("breaches:breach-communication", args=[breach.pk])
    data = {
        "activities": activity.pk,
        "communicated_at": _local_input(timezone.now() + timedelta(days=1)),
        "method": "Letter",
    }

    response = client_for(dpo).post(url, data)

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "is in the future" in str(errors["communicated_at"])
    assert not BreachCommunication.objects.exists()


def _edit_form(client, breach) -> dict:
    """Return the edit form's values with its times as the browser posts them."""
    data = _edit_data(client, breach)
    for name in ("detected_at", "aware_at"):
        data[name] = _local_input(data[name])
    return data


def _edit_data(client, breach) -> dict:
    """Return the edit form's current values, ready to post back."""
    url = reverse("breaches:breach-update", args=[breach.pk])
    form = client.get(url).context["form"]
    return {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "activities"
    }


def test_create_form_rejects_awareness_before_gdpr(client_for, dpo):
    data = {
        "title": "Old incident",
        "description": "A prospect file was sent to a wrong address.",
        "detected_at": "2010-03-01T10:00",
        "aware_at": "2010-03-01T10:00",
        "affects_confidentiality": "on",
        "risk_level": Breach.RiskLevel.RISK,
        "notification_decision": Breach.NotificationDecision.PENDING,
    }

    response = client_for(dpo).post(reverse("breaches:breach-create"), data)

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "when the GDPR began to apply" in str(errors["aware_at"])
    assert "2010" in str(errors["aware_at"])
    assert not Breach.objects.exists()


def test_notified_edit_rejects_not_required(client_for, dpo, breach):
    services.breach_notify_authority(
        breach=breach,
        phase="initial",
        submitted_at=breach.aware_at + timedelta(hours=2),
        authority_reference="CNIL-REF-1",
    )
    client = client_for(dpo)
    data = _edit_data(client, breach)
    data["risk_level"] = Breach.RiskLevel.NONE
    data["notification_decision"] = Breach.NotificationDecision.NOT_REQUIRED
    data["no_notification_reason"] = "No risk."

    response = client.post(reverse("breaches:breach-update", args=[breach.pk]), data)

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "was notified to the authority" in str(errors["notification_decision"])
    breach.refresh_from_db()
    assert breach.notification_decision == Breach.NotificationDecision.REQUIRED


def test_notify_form_rejects_early_complementary(client_for, dpo, breach):
    initial_at = breach.aware_at + timedelta(hours=2)
    services.breach_notify_authority(
        breach=breach, phase="initial", submitted_at=initial_at
    )

    response = client_for(dpo).post(
        reverse("breaches:breach-notify", args=[breach.pk]),
        {
            "phase": "complementary",
            "submitted_at": _local_input(initial_at - timedelta(hours=1)),
            "authority_reference": "R2",
        },
    )

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "before the initial notification" in str(errors["submitted_at"])
    assert breach.notifications.count() == 1


def test_detail_and_draft_after_complementary(client_for, dpo, breach, organisation):
    initial_at = breach.aware_at + timedelta(hours=2)
    for phase, submitted_at, reference in (
        ("initial", initial_at, "CNIL-REF-1"),
        ("complementary", initial_at + timedelta(hours=5), "CNIL-REF-1c"),
        ("complementary", initial_at, "CNIL-REF-1b"),
    ):
        services.breach_notify_authority(
            breach=breach,
            phase=phase,
            submitted_at=submitted_at,
            authority_reference=reference,
        )
    client = client_for(dpo)

    detail = client.get(reverse("breaches:breach-detail", args=[breach.pk]))
    sections = selectors.breach_notification_draft(breach=breach)

    clock = detail.content.decode().split('aria-labelledby="clock-title"')[1]
    header = clock.split("</section>")[0]
    assert "(CNIL-REF-1)" in header
    assert "CNIL-REF-1c" not in header
    timeline = dict(sections[2].rows)
    notifications_made = timeline["Notifications already made"]
    assert notifications_made.index("(CNIL-REF-1)") < notifications_made.index(
        "(CNIL-REF-1b)"
    )
    assert notifications_made.index("(CNIL-REF-1b)") < notifications_made.index(
        "(CNIL-REF-1c)"
    )


def test_closed_breach_edit_redirects(client_for, dpo, breach):
    breach.status = Breach.Status.CLOSED
    breach.closed_at = timezone.now()
    breach.save()
    url = reverse("breaches:breach-update", args=[breach.pk])
    detail = reverse("breaches:breach-detail", args=[breach.pk])
    client = client_for(dpo)

    response = client.get(url, follow=True)

    assert response.redirect_chain == [(detail, 302)]
    messages = [str(message) for message in response.context["messages"]]
    assert f"Breach {breach.reference} is closed" in " ".join(messages)
    assert f'href="{url}"' not in response.content.decode()


def test_closed_breach_edit_post_redirects(client_for, dpo, breach):
    breach.status = Breach.Status.CLOSED
    breach.closed_at = timezone.now()
    breach.save()
    url = reverse("breaches:breach-update", args=[breach.pk])

    response = client_for(dpo).post(url, {"title": "Changed"})

    assert response.status_code == 302
    assert response["Location"] == reverse("breaches:breach-detail", args=[breach.pk])
    breach.refresh_from_db()
    assert breach.title != "Changed"


def test_closed_edit_forbidden_to_sales(client_for, sales_user, breach):
    breach.status = Breach.Status.CLOSED
    breach.closed_at = timezone.now()
    breach.save()

    response = client_for(sales_user).get(
        reverse("breaches:breach-update", args=[breach.pk])
    )

    assert response.status_code == 403


def test_open_breach_detail_links_edit_form(client_for, dpo, breach):
    url = reverse("breaches:breach-update", args=[breach.pk])

    response = client_for(dpo).get(reverse("breaches:breach-detail", args=[breach.pk]))

    assert f'href="{url}"' in response.content.decode()


def _new_breach_form(**overrides) -> dict:
    aware_at = _local_input(timezone.now() - timedelta(hours=1))
    return {
        "title": "Laptop of a sales employee lost",
        "description": "The laptop was left on a train.",
        "detected_at": aware_at,
        "aware_at": aware_at,
        "affects_confidentiality": "on",
        "risk_level": Breach.RiskLevel.RISK,
        "notification_decision": Breach.NotificationDecision.PENDING,
        **overrides,
    }


def test_create_posted_twice_records_once(client_for, dpo):
    client = client_for(dpo)
    page = client.get(reverse("breaches:breach-create"))
    assert page.content.decode().count('name="submission_token"') == 1
    token = page.context["form"]["submission_token"].value()
    data = _new_breach_form(submission_token=token)

    first = client.post(reverse("breaches:breach-create"), data)
    second = client.post(reverse("breaches:breach-create"), data)

    breach = Breach.objects.get()
    detail = reverse("breaches:breach-detail", args=[breach.pk])
    assert first["Location"] == detail
    assert second["Location"] == detail


def test_create_with_damaged_token_saves(client_for, dpo):
    data = _new_breach_form(submission_token="not-a-token")

    response = client_for(dpo).post(reverse("breaches:breach-create"), data)

    assert response.status_code == 302
    assert Breach.objects.count() == 1


def test_form_rejects_identifying_title(client_for, dpo):
    title = (
        "Perte du portable de Jean Exemple (jean.exemple@example.com, 06 12 34 56 78)"
    )

    response = client_for(dpo).post(
        reverse("breaches:breach-create"), _new_breach_form(title=title)
    )

    errors = str(response.context["form"].errors["title"])
    assert response.status_code == 200
    assert "jean.exemple@example.com" in errors
    assert "06 12 34 56 78" in errors
    assert "appear on the dashboard" in errors
    assert "without identifying anyone" in errors
    assert not Breach.objects.exists()


def test_description_identifiers_warn_then_save(client_for, dpo):
    description = "The thief called the helpdesk from 06 12 34 56 78."
    client = client_for(dpo)
    url = reverse("breaches:breach-create")

    warned = client.post(url, _new_breach_form(description=description))
    confirmed = client.post(
        url, _new_breach_form(description=description, keep_identifiers="on")
    )

    errors = str(warned.context["form"].errors["description"])
    assert warned.status_code == 200
    assert "06 12 34 56 78" in errors
    assert "tick the box" in errors
    assert 'name="keep_identifiers"' in warned.content.decode()
    assert confirmed.status_code == 302
    assert Breach.objects.get().description == description


def test_other_draft_fields_warn_too(client_for, dpo):
    client = client_for(dpo)
    url = reverse("breaches:breach-create")
    fields = {
        "likely_consequences": "Phishing of jane.roe@example.com.",
        "measures_taken": "Called 06 11 22 33 44 back.",
    }

    warned = client.post(url, _new_breach_form(**fields))
    confirmed = client.post(url, _new_breach_form(**fields, keep_identifiers="on"))

    errors = warned.context["form"].errors
    assert "jane.roe@example.com" in str(errors["likely_consequences"])
    assert "06 11 22 33 44" in str(errors["measures_taken"])
    assert confirmed.status_code == 302
    assert Breach.objects.get().measures_taken == fields["measures_taken"]


def test_keep_box_hidden_by_default(client_for, dpo):
    response = client_for(dpo).get(reverse("breaches:breach-create"))

    assert 'name="keep_identifiers"' not in response.content.decode()


def test_edit_keeps_saved_description_identifiers(client_for, dpo, breach):
    breach.description = "The phishing mail came from attacker@example.org."
    breach.save()
    client = client_for(dpo)
    data = _edit_data(client, breach)
    for name in ("detected_at", "aware_at"):
        data[name] = _local_input(data[name])
    data["records_approx"] = 999

    response = client.post(reverse("breaches:breach-update", args=[breach.pk]), data)

    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.records_approx == 999


def test_timeline_shows_awareness_change(client_for, dpo, breach):
    client = client_for(dpo)
    data = _edit_data(client, breach)
    earlier = breach.aware_at - timedelta(hours=2)
    data["aware_at"] = _local_input(earlier)
    data["aware_at_change_reason"] = "The supplier's e-mail arrived earlier."
    data["detected_at"] = _local_input(earlier)

    client.post(reverse("breaches:breach-update", args=[breach.pk]), data)
    page = client.get(reverse("breaches:breach-detail", args=[breach.pk]))

    event = breach.events.get(kind="updated")
    assert "aware_at (" in event.text
    assert "→" in page.content.decode()


def test_detail_first_day_in_french(client_for, dpo):
    aware_at = timezone.make_aware(
        timezone.datetime(2026, 3, 1, 9, 30), timezone.get_fixed_timezone(60)
    )
    breach = BreachFactory(aware_at=aware_at, detected_at=aware_at)

    response = client_for(dpo).get(
        reverse("breaches:breach-detail", args=[breach.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert "1er mars 2026 09:30" in response.content.decode()


def _notify_late(breach) -> None:
    """Record an initial notification 80 hours after awareness, with reasons."""
    Breach.objects.filter(pk=breach.pk).update(
        aware_at=breach.aware_at - timedelta(hours=60),
        detected_at=breach.aware_at - timedelta(hours=60),
    )
    breach.refresh_from_db()
    services.breach_notify_authority(
        breach=breach,
        phase="initial",
        submitted_at=breach.aware_at + timedelta(hours=80),
        delay_reasons="The processor told us only on day 3.",
    )
    breach.refresh_from_db()


def test_notified_edit_form_shows_facts_fixed(client_for, dpo, breach):
    _notify_late(breach)

    response = client_for(dpo).get(reverse("breaches:breach-update", args=[breach.pk]))

    form = response.context["form"]
    for name in ("detected_at", "aware_at", "delay_reasons"):
        assert form.fields[name].disabled, name
        assert "add a note to the timeline" in str(form.fields[name].help_text)
    assert not form.fields["measures_taken"].disabled


def test_notified_edit_form_keeps_facts(client_for, dpo, breach):
    """GIVEN a breach notified late, with the reasons for the delay
    WHEN the DPO posts the edit form with a later awareness time, no delay
    reasons and a new measure
    THEN the measure is saved, the facts stay and the list still shows late.
    """
    _notify_late(breach)
    aware_at = breach.aware_at
    client = client_for(dpo)
    data = _edit_form(client, breach)
    data["aware_at"] = _local_input(breach.notified_at - timedelta(hours=1))
    data["detected_at"] = data["aware_at"]
    data["delay_reasons"] = ""
    data["measures_taken"] = "Access revoked."

    response = client.post(reverse("breaches:breach-update", args=[breach.pk]), data)

    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.measures_taken == "Access revoked."
    assert breach.aware_at == aware_at
    assert breach.delay_reasons == "The processor told us only on day 3."
    assert breach.notified_late is True
    listing = client.get(reverse("breaches:breach-list")).content.decode()
    assert re.search(r"notified \d+ h \d\d min late", listing)


def test_notified_edit_form_unchanged_facts_save(client_for, dpo, breach):
    _notify_late(breach)
    client = client_for(dpo)
    data = _edit_form(client, breach)
    data["records_approx"] = 999

    response = client.post(reverse("breaches:breach-update", args=[breach.pk]), data)

    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.records_approx == 999


def test_admin_cannot_change_delay_reasons(admin_client, breach):
    url = reverse("admin:breaches_breach_change", args=[breach.pk])

    content = admin_client.get(url).content.decode()

    assert 'name="title"' in content
    assert 'name="delay_reasons"' not in content


def test_overdue_detail_reads_overdue_by(client_for, dpo):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=98, minutes=1))

    response = client_for(dpo).get(reverse("breaches:breach-detail", args=[breach.pk]))

    content = response.content.decode()
    assert "overdue by 26 h 0" in content
    assert "Time left" not in content
    assert "<dt>Notification status</dt>" in content


def test_dashboard_overdue_has_no_time_left(client_for, dpo):
    BreachFactory(aware_at=timezone.now() - timedelta(hours=98, minutes=1))

    content = client_for(dpo).get(reverse("core:dashboard")).content.decode()

    assert "overdue by 26 h 0" in content
    assert "Time left" not in content


def test_list_shows_pending_communication(client_for, dpo, breach):
    Breach.objects.filter(pk=breach.pk).update(
        risk_level=Breach.RiskLevel.HIGH, subjects_must_be_informed=True
    )
    services.breach_notify_authority(
        breach=breach, phase="initial", submitted_at=timezone.now()
    )

    content = client_for(dpo).get(reverse("breaches:breach-list")).content.decode()

    assert "Notified" in content
    assert "Data subjects not informed yet" in content


def test_list_hides_pending_once_informed(client_for, dpo, breach):
    Breach.objects.filter(pk=breach.pk).update(
        subjects_must_be_informed=True, communicated_at=timezone.now()
    )

    content = client_for(dpo).get(reverse("breaches:breach-list")).content.decode()

    assert "Data subjects not informed yet" not in content


def test_list_hides_pending_with_exception(client_for, dpo, breach):
    Breach.objects.filter(pk=breach.pk).update(
        subjects_must_be_informed=True,
        no_communication_reason="The data was encrypted (Art. 34(3)(a)).",
    )

    content = client_for(dpo).get(reverse("breaches:breach-list")).content.decode()

    assert "Data subjects not informed yet" not in content


def test_admin_shows_notified_breach_read_only(admin_client, breach):
    Breach.objects.filter(pk=breach.pk).update(
        notified_at=timezone.now(), status=Breach.Status.NOTIFIED
    )
    url = reverse("admin:breaches_breach_change", args=[breach.pk])

    content = admin_client.get(url).content.decode()

    assert 'name="title"' not in content
    assert 'name="risk_level"' not in content
    assert 'name="notification_decision"' not in content


def test_notify_form_prefills_delay_reasons(client_for, dpo, breach):
    Breach.objects.filter(pk=breach.pk).update(delay_reasons="Supplier audit pending.")
    url = reverse("breaches:breach-notify", args=[breach.pk])

    form = client_for(dpo).get(url).context["form"]

    assert form.initial["delay_reasons"] == "Supplier audit pending."


def test_late_notification_says_by_how_much(client_for, dpo, breach):
    _notify_late(breach)

    page = client_for(dpo).get(reverse("breaches:breach-detail", args=[breach.pk]))

    content = page.content.decode()
    assert "notified 8 h 00 min late" in content
    assert "<dt>Notification status</dt>" in content


def test_delay_reasons_shown_before_notification(client_for, dpo, breach):
    Breach.objects.filter(pk=breach.pk).update(
        delay_reasons="The processor told us only on day 3."
    )

    page = client_for(dpo).get(reverse("breaches:breach-detail", args=[breach.pk]))

    assert "The processor told us only on day 3." in page.content.decode()


def test_awareness_reason_checked_for_identifiers(client_for, dpo, breach):
    url = reverse("breaches:breach-update", args=[breach.pk])
    data = _edit_form(client_for(dpo), breach)
    data["aware_at"] = _local_input(
        timezone.localtime(breach.aware_at) + timedelta(hours=2)
    )
    data["aware_at_change_reason"] = "Jean wrote from jean.dupont@example.com"

    response = client_for(dpo).post(url, data, HTTP_ACCEPT_LANGUAGE="en")

    errors = response.context["form"].errors
    assert "This reason contains an e-mail address" in str(
        errors["aware_at_change_reason"]
    )


def test_repeat_communication_warns(client_for, dpo, breach, affected):
    from django.contrib.messages import get_messages

    activity, _contacts = affected
    url = reverse("breaches:breach-communication", args=[breach.pk])
    data = {
        "activities": [activity.pk],
        "communicated_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "method": "E-mail from the DPO",
    }
    client = client_for(dpo)
    client.post(url, data)

    response = client.post(url, {**data, "method": "Reminder letter"})

    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("2 of them had already been informed" in text for text in texts)
    assert breach.communications.latest("pk").newly_informed_count == 0


def test_communication_means_warns_then_saves(client_for, dpo, breach, affected):
    activity, _contacts = affected
    client = client_for(dpo)
    url = reverse("breaches:breach-communication", args=[breach.pk])
    method = "E-mail sent from dpo.perso@example.com"
    data = {
        "activities": [activity.pk],
        "communicated_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "method": method,
    }

    warned = client.post(url, data)
    confirmed = client.post(url, {**data, "keep_identifiers": "on"})

    errors = str(warned.context["form"].errors["method"])
    page = warned.content.decode()
    assert warned.status_code == 200
    assert "dpo.perso@example.com" in errors
    assert "access package of every person informed" in errors
    assert 'name="keep_identifiers"' in page
    assert f'value="{method}"' in page
    assert confirmed.status_code == 302
    assert breach.communications.get().method == method


def test_communication_means_phone_warns(client_for, dpo, breach, affected):
    activity, _contacts = affected
    url = reverse("breaches:breach-communication", args=[breach.pk])

    response = client_for(dpo).post(
        url,
        {
            "activities": [activity.pk],
            "communicated_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "method": "Call from 06 12 34 56 78",
        },
    )

    assert "06 12 34 56 78" in str(response.context["form"].errors["method"])
    assert not BreachCommunication.objects.exists()


def test_subjects_page_hides_keep_box(client_for, dpo, breach, affected):
    activity, _contacts = affected
    url = reverse("breaches:breach-subjects", args=[breach.pk])

    response = client_for(dpo).get(url, {"selected": "1", "activities": activity.pk})

    assert 'name="method"' in response.content.decode()
    assert 'name="keep_identifiers"' not in response.content.decode()


def test_note_identifiers_warn_then_save(client_for, dpo, breach):
    text = "Appel de jean.dupont@example.com au 06 12 34 56 78"
    client = client_for(dpo)
    url = reverse("breaches:breach-note", args=[breach.pk])

    warned = client.post(url, {"text": text})
    confirmed = client.post(url, {"text": text, "keep_identifiers": "on"})

    errors = str(warned.context["note_form"].errors["text"])
    assert warned.status_code == 400
    assert "jean.dupont@example.com, 06 12 34 56 78" in errors
    assert "tick the box below the note" in errors
    assert 'name="keep_identifiers"' in warned.content.decode()
    assert text in warned.content.decode()
    assert confirmed.status_code == 302
    assert breach.events.get(kind="note").text == text


def test_note_keep_box_hidden_by_default(client_for, dpo, breach):
    response = client_for(dpo).get(reverse("breaches:breach-detail", args=[breach.pk]))

    assert 'name="keep_identifiers"' not in response.content.decode()


def test_notification_identifiers_warn_then_save(client_for, dpo):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=80))
    client = client_for(dpo)
    url = reverse("breaches:breach-notify", args=[breach.pk])
    data = {
        "phase": "initial",
        "submitted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "content": "Leak reported by 06 12 34 56 78.",
        "delay_reasons": "Waiting for contact jean.dupont@example.com",
    }

    warned = client.post(url, data)
    confirmed = client.post(url, {**data, "keep_identifiers": "on"})

    errors = warned.context["form"].errors
    assert warned.status_code == 200
    assert "06 12 34 56 78" in str(errors["content"])
    assert "jean.dupont@example.com" in str(errors["delay_reasons"])
    assert "record the notification again" in str(errors["delay_reasons"])
    assert 'name="keep_identifiers"' in warned.content.decode()
    assert confirmed.status_code == 302
    breach.refresh_from_db()
    assert breach.delay_reasons == data["delay_reasons"]
    assert breach.notifications.get().content == data["content"]


def test_notification_keeps_accepted_reasons(client_for, dpo):
    """GIVEN reasons for the delay whose phone number the breach form let the
    user keep, WHEN the notification sends them as they are, THEN the
    notification form does not warn about the number again."""
    reasons = "The processor's hotline, 01 23 45 67 89, answered on day 4."
    breach = BreachFactory(
        aware_at=timezone.now() - timedelta(hours=80), delay_reasons=reasons
    )
    url = reverse("breaches:breach-notify", args=[breach.pk])

    response = client_for(dpo).post(
        url,
        {
            "phase": "initial",
            "submitted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "delay_reasons": reasons,
        },
    )

    assert response.status_code == 302
    assert breach.notifications.get().delay_reasons == reasons


def test_notify_keep_box_hidden_by_default(client_for, dpo, breach):
    response = client_for(dpo).get(reverse("breaches:breach-notify", args=[breach.pk]))

    assert 'name="keep_identifiers"' not in response.content.decode()


def test_detail_lists_each_communication(client_for, dpo, breach, affected):
    activity, _contacts = affected
    email_at = breach.aware_at + timedelta(hours=1)
    letter_at = email_at + timedelta(minutes=30)
    for communicated_at, method in (
        (email_at, "E-mail du DPO"),
        (letter_at, "Courrier de rappel"),
    ):
        services.breach_record_communication(
            breach=breach,
            communicated_at=communicated_at,
            method=method,
            activity_ids=[activity.pk],
        )

    page = client_for(dpo).get(reverse("breaches:breach-detail", args=[breach.pk]))
    sections = selectors.breach_notification_draft(breach=breach)

    content = page.content.decode()
    assert f"{format_datetime(email_at)} · E-mail du DPO · 2 people informed" in (
        content
    )
    assert f"{format_datetime(letter_at)} · Courrier de rappel · 2 people" in (content)
    assert f"{format_datetime(email_at)} · Courrier de rappel" not in content
    draft = dict(sections[-1].rows)["Communications to data subjects"]
    assert draft.splitlines() == [
        f"{format_datetime(email_at)} · E-mail du DPO · 2 people informed",
        f"{format_datetime(letter_at)} · Courrier de rappel · 2 people informed",
    ]
