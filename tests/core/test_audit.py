import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from apps.core import audit
from apps.core.audit import audit_action_label
from apps.core.audit import audit_record
from apps.core.models import AuditEvent


@pytest.fixture
def event(db, dpo):
    return audit_record(
        action="contacts.list.imported",
        actor=dpo,
        target_type="contacts.contactlist",
        target_id=7,
        count=120,
        details={"created": 100, "merged": 20},
    )


def test_audit_record_stores_event(event, dpo):
    stored = AuditEvent.objects.get(pk=event.pk)

    assert stored.actor == dpo
    assert stored.action == "contacts.list.imported"
    assert stored.target_id == "7"
    assert stored.count == 120


def test_audit_event_cannot_be_changed(event):
    event.count = 1

    with pytest.raises(PermissionError):
        event.save()


def test_audit_event_cannot_be_deleted(event):
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_queryset_cannot_update_or_delete(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(count=0)
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).count == 120


def test_admin_offers_no_change_or_delete(event, admin_client):
    change_url = reverse("admin:core_auditevent_change", args=[event.pk])
    delete_url = reverse("admin:core_auditevent_delete", args=[event.pk])

    response = admin_client.post(change_url, {"action": "tampered"})
    delete_response = admin_client.post(delete_url, {"post": "yes"})

    assert response.status_code == 403
    assert delete_response.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "contacts.list.imported"


def test_audit_list_filters_by_action(event, client_for, compliance_officer):
    audit_record(action="register.activity.changed", actor=compliance_officer)
    client = client_for(compliance_officer)

    response = client.get(reverse("core:audit-list"), {"action": "contacts."})

    assert response.status_code == 200
    assert list(response.context["events"]) == [event]


def test_audit_list_forbidden_to_sales(client_for, sales_user):
    response = client_for(sales_user).get(reverse("core:audit-list"))

    assert response.status_code == 403


def _recorded_action_codes() -> set[str]:
    """Return the action codes that the apps' source passes to audit_record."""
    codes = set()
    for path in (settings.BASE_DIR / "apps").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        codes.update(re.findall(r'action="([a-z_]+\.[a-z_.]+)"', path.read_text()))
    return codes


def test_every_recorded_action_has_a_label():
    labels = audit._action_labels()

    missing = sorted(_recorded_action_codes() - set(labels))

    assert missing == []


def test_action_label_is_translated():
    with translation.override("fr"):
        label = audit_action_label("retention.contacts.applied")

    assert label == "Durées de conservation appliquées aux contacts"


def test_unknown_action_shows_its_code():
    assert audit_action_label("other.thing.done") == "other.thing.done"


def test_audit_list_shows_labels(event, client_for, compliance_officer):
    audit_record(action="retention.run.finished", count=3)
    client = client_for(compliance_officer)

    with translation.override("en"):
        response = client.get(reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="en")

    assert "Retention run finished" in response.content.decode()
    assert "retention.run.finished" in response.content.decode()
