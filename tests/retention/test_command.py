"""The apply_retention management command and the schedule it reports."""

import json
import logging
from datetime import UTC
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError
from django.core.management import call_command

from apps.contacts.models import Contact
from apps.retention.models import RetentionRun
from apps.retention.schedule import next_scheduled_run
from tests.retention.dates import AS_OF
from tests.retention.factories import ContactFactory

pytestmark = pytest.mark.postgres


def _run(*args) -> dict:
    output = StringIO()
    call_command("apply_retention", *args, stdout=output)
    return json.loads(output.getvalue())


def test_dry_run_prints_counts_per_activity(contact_rule, expired_at):
    contact = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )

    summary = _run("--dry-run", "--as-of", AS_OF.isoformat(), "--ids")

    assert summary["dry_run"] is True
    assert summary["status"] == "succeeded"
    assert summary["would_remove"] == 1
    group = next(
        g for g in summary["activities"] if g["activity_id"] == contact_rule.activity_id
    )
    assert group["activity_reference"] == contact_rule.activity.reference
    assert group["steps"][0]["would_remove"] == 1
    assert summary["contact_ids"][f"contacts:rule:{contact_rule.pk}"] == [contact.pk]
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_dry_run_output_omits_removed(contact_rule, expired_at, caplog):
    ContactFactory(processing_activity=contact_rule.activity, collected_at=expired_at)

    with caplog.at_level(logging.INFO, logger="apps.retention.services"):
        output = StringIO()
        call_command(
            "apply_retention", "--dry-run", "--as-of", AS_OF.isoformat(), stdout=output
        )

    printed = output.getvalue()
    summary = json.loads(printed)
    assert "removed" not in summary
    assert '"removed"' not in printed
    assert all("removed" not in step for step in summary["activities"][0]["steps"])
    assert "records would be deleted or anonymised" in caplog.text
    assert "records deleted or anonymised" not in caplog.text


def test_real_run_removes_due_contacts(contact_rule, expired_at):
    contact = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )

    summary = _run("--as-of", AS_OF.isoformat())

    assert summary["dry_run"] is False
    assert summary["removed"] == 1
    assert "would_remove" not in summary
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_malformed_date_is_rejected(db):
    with pytest.raises(CommandError, match="'04/12/2026' is not a date"):
        call_command("apply_retention", "--as-of", "04/12/2026")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--batch-size", "0"], "--batch-size 0 is invalid"),
        (["--pause", "-1", "--dry-run"], "--pause -1 is invalid"),
    ],
)
def test_invalid_option_leaves_no_run(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("apply_retention", *options)

    assert not RetentionRun.objects.exists()


def test_next_run_follows_beat_schedule():
    before = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    after = datetime(2026, 6, 1, 1, 30, tzinfo=UTC)

    first = next_scheduled_run(before)
    second = next_scheduled_run(after)

    assert first.entry_name == "apply-retention"
    assert first.at == datetime(2026, 6, 1, 1, 15, tzinfo=UTC)
    assert second.at == datetime(2026, 6, 2, 1, 15, tzinfo=UTC)
    assert second.local_day.isoformat() == "2026-06-02"


def test_lost_runs_closed_every_five_minutes():
    """A run whose worker died shows as running until this task closes it."""
    from config.celery import app

    entry = app.conf.beat_schedule["close-lost-retention-runs"]

    assert entry["task"] == "apps.retention.tasks.close_lost_retention_runs"
    assert entry["schedule"].minute == set(range(0, 60, 5))
    assert entry["schedule"].hour == set(range(24))
