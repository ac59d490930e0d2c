"""How a run calls the purge functions that other apps own."""

import pytest

from apps.register.models import RetentionRule
from apps.retention import services
from apps.retention.selectors import IMPORT_LEFTOVERS_KEY
from apps.retention.selectors import StepKind
from apps.retention.services import retention_apply
from tests.retention.dates import AS_OF
from tests.retention.factories import RuleFactory

pytestmark = pytest.mark.postgres

calls: list[dict] = []


def purge_with_preview(*, closed_before, dry_run=False) -> dict:
    """Record the call and return counts, as a purge with a dry run would."""
    calls.append({"closed_before": closed_before, "dry_run": dry_run})
    return {"request": 2, "event": 5}


@pytest.fixture
def breach_rule(activity):
    return RuleFactory(
        activity=activity,
        record_type=RetentionRule.RecordType.BREACH,
        duration=5,
        start_event=RetentionRule.StartEvent.BREACH_CLOSED,
    )


def _step(run, key):
    return next(step for step in run.steps if step["key"] == key)


def test_missing_purge_function_is_reported(monkeypatch, breach_rule):
    monkeypatch.setitem(
        services.PURGE_FUNCTIONS,
        StepKind.BREACHES,
        ("apps.breaches.services", "breach_purge_missing", "closed_before"),
    )

    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert run.status == "succeeded"
    assert _step(run, f"breaches:rule:{breach_rule.pk}")["status"] == "unavailable"


def test_dry_run_uses_purge_preview(monkeypatch, breach_rule):
    calls.clear()
    monkeypatch.setitem(
        services.PURGE_FUNCTIONS,
        StepKind.BREACHES,
        ("tests.retention.test_purges", "purge_with_preview", "closed_before"),
    )

    run, _ = retention_apply(trigger="command", dry_run=True, as_of=AS_OF)

    step = _step(run, f"breaches:rule:{breach_rule.pk}")
    assert calls == [{"closed_before": calls[0]["closed_before"], "dry_run": True}]
    assert calls[0]["closed_before"].isoformat() == step["cutoff"]
    assert step["would_remove"] == 7
    assert step["would_purge_event"] == 5
    assert "removed" not in step
    assert "purged_event" not in step


def test_purge_without_preview_is_not_counted(breach_rule):
    run, _ = retention_apply(trigger="command", dry_run=True, as_of=AS_OF)

    assert _step(run, f"breaches:rule:{breach_rule.pk}")["status"] == "not_previewed"


def test_import_leftovers_step_runs_every_time(db):
    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert _step(run, IMPORT_LEFTOVERS_KEY)["status"] == "done"
