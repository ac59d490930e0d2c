import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from apps.core.models import AuditEvent
from apps.core.models import Organisation
from apps.core.services import organisation_update

pytestmark = [pytest.mark.django_db]


def _organisation() -> Organisation:
    organisation = Organisation.current()
    organisation.name = "Exemple SAS"
    organisation.phone = "+33 4 65 71 00 00"
    organisation.save()
    return organisation


def _profile_post(client, **values) -> dict:
    """Return the organisation page's form data, as its browser would post it."""
    form = client.get(reverse("core:organisation")).context["form"]
    data = {
        field.name: "" if field.value() is None else field.value() for field in form
    }
    data.update(values)
    return data


def test_update_records_changed_fields(compliance_officer):
    organisation = _organisation()

    changed = organisation_update(
        organisation=organisation,
        values={"name": "Exemple SAS", "dpo_name": "Alex Martin"},
        actor=compliance_officer,
        loaded_version=organisation.updated_at,
    )

    event = AuditEvent.objects.get(action="core.organisation.changed")
    assert changed == ["dpo_name"]
    assert event.details == {"fields": ["dpo_name"]}
    assert event.actor == compliance_officer


def test_unchanged_update_writes_nothing(compliance_officer):
    organisation = _organisation()
    version = organisation.updated_at

    changed = organisation_update(
        organisation=organisation,
        values={"name": "Exemple SAS"},
        actor=compliance_officer,
        loaded_version=version,
    )

    organisation.refresh_from_db()
    assert changed == []
    assert organisation.updated_at == version
    assert not AuditEvent.objects.exists()


def test_stale_update_names_saver(compliance_officer):
    organisation = _organisation()
    loaded = organisation.updated_at
    organisation_update(
        organisation=organisation,
        values={"phone": "+33 4 65 71 99 99"},
        actor=compliance_officer,
        loaded_version=loaded,
    )

    with pytest.raises(ValidationError) as caught:
        organisation_update(
            organisation=organisation,
            values={"dpo_name": "Alex Martin"},
            loaded_version=loaded,
        )

    organisation.refresh_from_db()
    assert caught.value.messages[0].startswith("camille saved the organisation")
    assert "after you opened the page" in caught.value.messages[0]
    assert organisation.phone == "+33 4 65 71 99 99"
    assert organisation.dpo_name == ""


def test_stale_update_without_audit_names_someone():
    organisation = _organisation()
    loaded = organisation.updated_at
    organisation.phone = "+33 4 65 71 99 99"
    organisation.save()

    with pytest.raises(ValidationError) as caught:
        organisation_update(
            organisation=organisation,
            values={"dpo_name": "Alex Martin"},
            loaded_version=loaded,
        )

    assert caught.value.messages[0].startswith("Someone saved the organisation")


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_stale_update_rejected():
    """GIVEN two editors who opened the profile at the same version
    WHEN the second one saves while the first one's save is still committing
    THEN the second save waits for the first and is rejected.
    """
    organisation = _organisation()
    loaded = organisation.updated_at
    outcome = {}

    def second_save():
        translation.activate("en")
        try:
            organisation_update(
                organisation=organisation,
                values={"phone": "+33 4 65 71 11 11"},
                loaded_version=loaded,
            )
            outcome["saved"] = True
        except ValidationError as error:
            outcome["error"] = error.messages
        finally:
            connection.close()

    with transaction.atomic():
        first = Organisation.objects.select_for_update().get(pk=organisation.pk)
        first.phone = "+33 4 65 71 99 99"
        first.save()
        thread = threading.Thread(target=second_save)
        thread.start()
        deadline = time.monotonic() + 10
        while not _lock_waiters() and time.monotonic() < deadline:
            time.sleep(0.02)

    thread.join(timeout=10)

    organisation.refresh_from_db()
    assert organisation.phone == "+33 4 65 71 99 99"
    assert "saved" not in outcome
    assert "after you opened the page" in outcome["error"][0]


def test_stale_tab_does_not_undo_later_save(client_for, compliance_officer):
    _organisation()
    client = client_for(compliance_officer)
    first_tab = _profile_post(client, phone="+33 4 65 71 99 99")
    second_tab = _profile_post(client, dpo_name="Alex Martin")

    first = client.post(reverse("core:organisation"), first_tab)
    second = client.post(
        reverse("core:organisation"), second_tab, HTTP_ACCEPT_LANGUAGE="en"
    )

    organisation = Organisation.current()
    assert first.status_code == 302
    assert second.status_code == 200
    assert "camille saved the organisation profile" in second.text
    assert organisation.phone == "+33 4 65 71 99 99"
    assert organisation.dpo_name == ""


def test_profile_post_without_version_rejected(client_for, compliance_officer):
    _organisation()
    client = client_for(compliance_officer)
    data = _profile_post(client, dpo_name="Alex Martin")
    del data["loaded_version"]

    response = client.post(
        reverse("core:organisation"), data, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert "does not say which version" in response.text
    assert Organisation.current().dpo_name == ""


def test_read_only_profile_hides_version(client_for, dpo):
    _organisation()

    response = client_for(dpo).get(reverse("core:organisation"))

    assert "loaded_version" not in response.text
    assert "Loaded version" not in response.text


def test_unchanged_browser_save_records_nothing(client_for, compliance_officer):
    """GIVEN a stored address with LF line breaks
    WHEN the profile is saved unchanged from a browser, which sends CRLF
    THEN the audit trail records no change of the address."""
    organisation = _organisation()
    organisation.address = "12 rue de l'Église\n69002 Lyon"
    organisation.save()
    client = client_for(compliance_officer)
    data = _profile_post(client, address="12 rue de l'Église\r\n69002 Lyon")

    response = client.post(reverse("core:organisation"), data)

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="core.organisation.changed").exists()
