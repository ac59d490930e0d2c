"""The retention job on the demo data, as a new user sees it after seed_demo."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from apps.contacts.models import Contact
from apps.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_demo_preview_then_run_removes_expired_contacts(client):
    """GIVEN the demo data
    WHEN the compliance officer opens the retention page, then the job runs
    THEN the page previews the expired demo contacts, the run removes exactly
    them, and the audit trail contains the counts of each rule.
    """
    call_command("seed_demo", password="demo", stdout=StringIO())
    client.force_login(get_user_model().objects.get(username="conformite"))

    page = client.get(reverse("retention:overview"), HTTP_ACCEPT_LANGUAGE="en")
    preview = page.context["preview"]
    previewed = preview.total_would_remove
    output = StringIO()
    call_command("apply_retention", "--ids", stdout=output)
    summary = json.loads(output.getvalue())

    assert page.status_code == 200
    assert previewed > 0
    assert summary["status"] == "succeeded"
    assert summary["removed"] == previewed
    removed_ids = {pk for ids in summary["contact_ids"].values() for pk in ids}
    assert removed_ids
    remaining = Contact.objects.filter(pk__in=removed_ids)
    assert not remaining.exclude(status=Contact.Status.ANONYMISED).exists()
    assert not remaining.exclude(email="").exists()
    events = AuditEvent.objects.filter(action__startswith="retention.")
    assert (
        sum(event.count or 0 for event in events.filter(action__endswith=".applied"))
        == previewed
    )
