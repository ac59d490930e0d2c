import re

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from apps.core import audit
from apps.core.audit import audit_action_label
from apps.core.audit import audit_detail_label
from apps.core.audit import audit_record
from apps.core.models import AuditEvent
from apps.register.deletion import activity_delete
from apps.register.models import ProcessingActivity
from tests.breaches.factories import BreachFactory
from tests.contacts.factories import ContactFactory
from tests.register.factories import ActivityFactory


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


@pytest.mark.parametrize(
    ("actor_label", "shown"),
    [
        ("unsubscribe link", "lien de désinscription"),
        ("retention job", "tâche de conservation"),
        ("breach deadline check", "contrôle des délais de notification"),
        ("manage.py export_register", "manage.py export_register"),
    ],
)
def test_audit_list_actor_in_reader_language(
    client_for, compliance_officer, actor_label, shown
):
    audit_record(action="retention.run.finished", actor_label=actor_label)

    response = client_for(compliance_officer).get(
        reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert f"<td>{shown}</td>" in response.content.decode()


def _audit_list(client):
    response = client.get(reverse("core:audit-list"))
    assert response.status_code == 200
    return response.content.decode()


def test_audit_list_links_permitted_targets(client_for, compliance_officer, dpo):
    breach = BreachFactory()
    contact = ContactFactory()
    audit_record(action="breaches.breach.recorded", target=breach)
    audit_record(action="contacts.contact.objected", target=contact)
    breach_page = reverse("breaches:breach-detail", args=[breach.pk])
    contact_page = reverse("contacts:contact-detail", args=[contact.pk])

    officer_view = _audit_list(client_for(compliance_officer))
    dpo_view = _audit_list(client_for(dpo))

    assert f'href="{breach_page}"' in officer_view
    assert f'href="{contact_page}"' not in officer_view
    assert f'href="{breach_page}"' in dpo_view
    assert f'href="{contact_page}"' in dpo_view


def test_audit_list_links_no_deleted_target(client_for, dpo):
    contact = ContactFactory()
    audit_record(action="contacts.contact.objected", target=contact)
    contact_id = contact.pk
    contact_page = reverse("contacts:contact-detail", args=[contact_id])
    contact.delete()

    content = _audit_list(client_for(dpo))

    assert f"contacts.contact #{contact_id}" in content
    assert f'href="{contact_page}"' not in content


def test_audit_list_links_deleted_draft_history(client_for, compliance_officer):
    activity = ActivityFactory(status=ProcessingActivity.Status.DRAFT)
    history_page = reverse("register:activity-history", args=[activity.pk])
    activity_delete(activity=activity, actor=compliance_officer)
    client = client_for(compliance_officer)

    content = _audit_list(client)

    assert f'href="{history_page}"' in content
    assert client.get(history_page).status_code == 200


def test_audit_list_nested_details_readable(client_for, compliance_officer):
    audit_record(
        action="retention.run.finished",
        details={"activity_id": None, "steps": [{"key": "rented-lists", "removed": 6}]},
    )

    response = client_for(compliance_officer).get(
        reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="en"
    )
    content = response.content.decode()

    assert "(step rented-lists, deleted or anonymised 6)" in content
    assert "{&#x27;key&#x27;" not in content
    assert "None" not in content


@pytest.mark.parametrize(
    ("details", "shown"),
    [
        (
            {"staged_rows_deleted": 5},
            '<span class="key" title="staged_rows_deleted">'
            "staged rows deleted</span> 5",
        ),
        ({"counts": {"duplicate": 2}}, "duplicates 2"),
        ({"purged_source_file": 1}, ">uploaded files deleted</span> 1"),
        ({"counts": {"created": 3}}, "created 3"),
        (
            {"times": {"aware_at": ["2026-12-04T14:00:00+00:00"]}},
            "became aware at [4 December 2026, 15:00]",
        ),
    ],
)
def test_audit_list_detail_labels(client_for, compliance_officer, details, shown):
    audit_record(action="imports.job.completed", details=details)

    response = client_for(compliance_officer).get(
        reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert shown in response.content.decode()


def test_audit_list_field_names_labelled(client_for, compliance_officer):
    audit_record(
        action="core.organisation.changed",
        target_type="core.organisation",
        target_id="1",
        details={"fields": ["dpo_email", "no_such_field"]},
    )

    response = client_for(compliance_officer).get(
        reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert "DPO e-mail, no_such_field" in response.content.decode()


@pytest.mark.parametrize(
    ("action", "details", "shown"),
    [
        ("subject_requests.request.created", {"kind": "erasure"}, "erasure (Art. 17)"),
        ("imports.job.failed", {"cause": "run"}, "the run stopped"),
        ("imports.job.created", {"kind": "erasure"}, "kind</span> erasure"),
        ("retention.contacts.applied", {"kind": "rented_lists"}, "rented lists"),
        ("retention.contacts.applied", {"status": "not_applied"}, "not applied"),
    ],
)
def test_audit_list_value_labels(
    client_for, compliance_officer, action, details, shown
):
    audit_record(action=action, details=details)

    response = client_for(compliance_officer).get(
        reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert shown in response.content.decode()


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("list_id", "liste de contacts"),
        ("created", "créés"),
        ("provenances_removed", "lignes de provenance supprimées"),
        ("ended_list_ids", "listes louées échues"),
        ("rule_id", "règle de conservation"),
        ("kind", "type"),
        ("list_ids", "fichiers de contacts"),
    ],
)
def test_detail_label_is_translated(key, label):
    with translation.override("fr"):
        translated = audit_detail_label(key)

    assert translated == label


def test_rolled_back_event_is_not_logged(db, caplog):
    caplog.set_level("INFO", logger="apps.core.audit")

    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="retention.run.finished", count=3)
        raise RuntimeError("the transaction fails")

    assert "retention.run.finished" not in caplog.text


def test_register_parts_labelled(client_for, compliance_officer):
    audit_record(
        action="register.activity.changed",
        details={"parts_changed": {"data_subjects": 0, "processors": 1}},
    )

    response = client_for(compliance_officer).get(
        reverse("core:audit-list"), HTTP_ACCEPT_LANGUAGE="fr"
    )

    content = response.content.decode()
    assert "sous-traitants 1" in content
    assert "data subjects" not in content
