import pytest
from django.contrib.auth import get_user_model

from apps.core.audit import audit_event
from apps.core.audit import audit_record_with
from apps.core.inserts import objects_insert
from apps.core.models import AuditEvent
from apps.core.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_insert_several_models_in_one_statement(django_assert_num_queries):
    user = get_user_model()(username="dpo-inserts")
    organisation = Organisation(name="Exemple SAS")
    event = AuditEvent(action="core.test.inserted", details={"n": 1})

    with django_assert_num_queries(1):
        objects_insert(user, organisation, event)

    assert get_user_model().objects.get(pk=user.pk).username == "dpo-inserts"
    assert Organisation.objects.get(pk=organisation.pk).name == "Exemple SAS"
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.details == {"n": 1}
    assert stored.occurred_at == event.occurred_at
    assert not event._state.adding


def test_inserted_rows_are_read_back():
    organisation = Organisation(name="Exemple SARL")
    event = AuditEvent(action="core.test.inserted")

    objects_insert(organisation, event)

    assert Organisation.objects.filter(pk=organisation.pk, name="Exemple SARL").exists()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_record_with_logs_ids_only(caplog, django_capture_on_commit_callbacks):
    organisation = Organisation(name="Exemple SA")
    event = audit_event(action="core.test.recorded", count=3, details={"ids": [1]})

    with (
        caplog.at_level("INFO", logger="apps.core.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        audit_record_with(event, organisation)

    assert AuditEvent.objects.get(pk=event.pk).count == 3
    assert organisation.pk is not None
    assert "audit core.test.recorded" in caplog.text
    assert "Exemple" not in caplog.text


def test_audit_event_is_checked_before_saving():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        audit_event(action="")
    assert not AuditEvent.objects.exists()
