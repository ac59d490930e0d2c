"""A retention run killed between batches, then run again."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.core.models import AuditEvent
from apps.register.models import RetentionRule
from apps.retention.models import RetentionRun
from apps.retention.services import ADVISORY_LOCK_KEY
from apps.retention.services import retention_apply
from tests.retention.dates import AS_OF
from tests.retention.factories import ActivityFactory
from tests.retention.factories import ContactFactory
from tests.retention.factories import RuleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BATCH_SIZE = 2
DEADLINE_SECONDS = 60


def _start_command() -> subprocess.Popen:
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "apply_retention",
            "--as-of",
            AS_OF.isoformat(),
            "--batch-size",
            str(BATCH_SIZE),
            "--pause",
            "0.5",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_batches(process, step_key: str, count: int) -> RetentionRun:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the command ended before it was killed"
        run = RetentionRun.objects.filter(status="running", dry_run=False).first()
        steps = {step["key"]: step for step in run.steps} if run else {}
        if steps.get(step_key, {}).get("batches", 0) >= count:
            return run
        time.sleep(0.05)
    raise AssertionError(f"no run reached {count} batches of {step_key} in time")


def _wait_for_lock_release():
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND objid = %s AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                [ADVISORY_LOCK_KEY],
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError("the killed run's advisory lock was never released")


def test_killed_run_resumes_without_half_records(expired_at):
    """GIVEN 9 contacts due for anonymisation and 5 for deletion, WHEN the job is
    killed (SIGKILL) after two batches and run again, THEN no contact is half
    anonymised, every batch is whole, and the second run finishes the rest."""
    anonymise_rule = RuleFactory(
        activity=ActivityFactory(reference="A-ANON"),
        action=RetentionRule.Action.ANONYMISE,
    )
    delete_rule = RuleFactory(activity=ActivityFactory(reference="B-DEL"))
    for number in range(9):
        status = "objected" if number % 3 == 0 else "active"
        ContactFactory(
            processing_activity=anonymise_rule.activity,
            collected_at=expired_at,
            status=status,
        )
    deleted_ids = [
        ContactFactory(
            processing_activity=delete_rule.activity, collected_at=expired_at
        ).pk
        for _ in range(5)
    ]
    anonymise_key = f"contacts:rule:{anonymise_rule.pk}"

    process = _start_command()
    try:
        killed = _wait_for_batches(process, anonymise_key, 2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    _wait_for_lock_release()

    killed.refresh_from_db()
    recorded = {step["key"]: step for step in killed.steps}[anonymise_key]
    anonymised = Contact.objects.filter(status="anonymised")
    assert killed.status == "running"
    assert anonymised.count() == recorded["anonymised"]
    # On a loaded machine the statement time limit may cancel a batch, which
    # is then retried with half its contacts.
    if not recorded.get("batches_cancelled"):
        assert anonymised.count() % BATCH_SIZE == 0
    assert not anonymised.exclude(email="").exists()
    assert not Contact.objects.exclude(status="anonymised").filter(email="").exists()
    assert Contact.objects.filter(pk__in=deleted_ids).count() == 5
    first_pass = anonymised.count()

    rerun, _ = retention_apply(trigger="command", as_of=AS_OF)

    killed.refresh_from_db()
    steps = {step["key"]: step for step in rerun.steps}
    assert killed.status == "interrupted"
    assert rerun.status == "succeeded"
    assert steps[anonymise_key]["anonymised"] == 9 - first_pass
    assert steps[f"contacts:rule:{delete_rule.pk}"]["deleted"] == 5
    assert Contact.objects.filter(status="anonymised").count() == 9
    assert not Contact.objects.filter(pk__in=deleted_ids).exists()
    assert SuppressionEntry.objects.filter(reason="objected").count() == 3 * 2
    interrupted = AuditEvent.objects.get(action="retention.run.interrupted")
    assert interrupted.count == first_pass
    assert interrupted.details["found_by_run_id"] == rerun.pk
