"""How a run calls the purge functions that other apps own."""

import pytest
from django.utils import translation

from apps.breaches.models import Breach
from apps.register.models import RetentionRule
from apps.retention import services
from apps.retention.selectors import IMPORT_LEFTOVERS_KEY
from apps.retention.selectors import StepKind
from apps.retention.selectors import step_not_applied_reason
from apps.retention.services import retention_apply
from tests.breaches.factories import BreachFactory
from tests.retention.dates import AS_OF
from tests.retention.dates import paris
from tests.retention.dates import years_before
from tests.retention.factories import ActivityFactory
from tests.retention.factories import RuleFactory

pytestmark = pytest.mark.postgres

calls: list[dict] = []


def purge_with_preview(*, closed_before, dry_run=False, **arguments) -> dict:
    """Record the call and return counts, as a purge with a dry run would."""
    calls.append({"closed_before": closed_before, "dry_run": dry_run})
    return {"request": 2, "event": 5}


def purge_without_preview(*, closed_before, **arguments) -> int:
    """A purge function that cannot count without deleting."""
    return 0


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


def test_purge_without_preview_is_not_counted(monkeypatch, breach_rule):
    monkeypatch.setitem(
        services.PURGE_FUNCTIONS,
        StepKind.BREACHES,
        ("tests.retention.test_purges", "purge_without_preview", "closed_before"),
    )

    run, _ = retention_apply(trigger="command", dry_run=True, as_of=AS_OF)

    step = _step(run, f"breaches:rule:{breach_rule.pk}")
    assert step["status"] == "not_previewed"
    assert step["would_remove"] is None


def test_import_leftovers_step_runs_every_time(db):
    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert _step(run, IMPORT_LEFTOVERS_KEY)["status"] == "done"


def _breach_rule(activity, **fields):
    values = {
        "record_type": RetentionRule.RecordType.BREACH,
        "duration": 5,
        "start_event": RetentionRule.StartEvent.BREACH_CLOSED,
        **fields,
    }
    return RuleFactory(activity=activity, **values)


def _closed_breach(years_ago: int, *activities):
    breach = BreachFactory(
        status=Breach.Status.CLOSED,
        closed_at=paris(years_before(AS_OF, years_ago)),
    )
    breach.activities.set(activities)
    return breach


@pytest.fixture
def short_breach_rule(db):
    """Another activity in force keeps its own breaches for one month only."""
    return _breach_rule(ActivityFactory(), duration=1, unit=RetentionRule.Unit.MONTHS)


def test_breach_kept_by_its_activity_rule(breach_rule, short_breach_rule):
    """GIVEN a breach closed a year ago, of an activity that keeps breach
    records for 5 years, and another activity's one-month breach rule.
    WHEN the job runs, THEN the breach stays, because only the rules of the
    activities it concerns apply to it."""
    kept = _closed_breach(1, breach_rule.activity)
    short_own = _closed_breach(1, short_breach_rule.activity)

    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert Breach.objects.filter(pk=kept.pk).exists()
    assert not Breach.objects.filter(pk=short_own.pk).exists()
    assert _step(run, f"breaches:rule:{short_breach_rule.pk}")["removed"] == 1
    assert _step(run, f"breaches:rule:{breach_rule.pk}")["removed"] == 0


def test_breach_of_two_activities_waits_for_both(breach_rule, short_breach_rule):
    both = _closed_breach(1, breach_rule.activity, short_breach_rule.activity)
    old = _closed_breach(6, breach_rule.activity, short_breach_rule.activity)

    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert Breach.objects.filter(pk=both.pk).exists()
    assert not Breach.objects.filter(pk=old.pk).exists()
    assert _step(run, f"breaches:rule:{breach_rule.pk}")["removed"] == 1
    assert _step(run, f"breaches:rule:{short_breach_rule.pk}")["removed"] == 0


def test_breach_without_ruled_activity_follows_longest(breach_rule, short_breach_rule):
    unlinked = _closed_breach(1)
    other_activity = _closed_breach(1, ActivityFactory())
    old = _closed_breach(6)

    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert Breach.objects.filter(pk=unlinked.pk).exists()
    assert Breach.objects.filter(pk=other_activity.pk).exists()
    assert not Breach.objects.filter(pk=old.pk).exists()
    assert _step(run, f"breaches:rule:{breach_rule.pk}")["removed"] == 1


def test_breach_rule_for_good_keeps_its_breaches(breach_rule):
    forever = _breach_rule(breach_rule.activity, duration=3000)
    old = _closed_breach(6, breach_rule.activity)

    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert Breach.objects.filter(pk=old.pk).exists()
    assert _step(run, f"breaches:rule:{forever.pk}")["status"] == "not_applied"


def test_shorter_breach_rule_of_activity_not_applied(breach_rule):
    shorter = _breach_rule(
        breach_rule.activity, duration=1, unit=RetentionRule.Unit.MONTHS
    )
    kept = _closed_breach(1, breach_rule.activity)

    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    step = _step(run, f"breaches:rule:{shorter.pk}")
    assert Breach.objects.filter(pk=kept.pk).exists()
    assert step["status"] == "not_applied"
    with translation.override("en"):
        reason = step_not_applied_reason(step)
    assert reason == (
        f"A longer rule of {breach_rule.activity.reference} keeps these records, "
        "so this rule removes nothing."
    )


def test_breach_dry_run_counts_what_run_removes(breach_rule, short_breach_rule):
    _closed_breach(1, breach_rule.activity)
    _closed_breach(1, short_breach_rule.activity)
    _closed_breach(6)
    keys = [f"breaches:rule:{rule.pk}" for rule in (breach_rule, short_breach_rule)]

    preview, _ = retention_apply(trigger="command", dry_run=True, as_of=AS_OF)
    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert [_step(preview, key)["would_remove"] for key in keys] == [1, 1]
    assert [_step(run, key)["removed"] for key in keys] == [1, 1]


def _closed_request(years_ago: int):
    from apps.subject_requests.models import SubjectRequest
    from apps.subject_requests.services import request_create

    request = request_create(
        kind="access",
        channel="email",
        requester_name="Dominique Exemple",
        requester_email="dominique@example.com",
        received_at=paris(years_before(AS_OF, years_ago)),
    )
    SubjectRequest.objects.filter(pk=request.pk).update(
        status=SubjectRequest.Status.CLOSED,
        closed_at=paris(years_before(AS_OF, years_ago)),
    )
    return request


def test_longest_request_rule_governs(activity):
    from apps.subject_requests.models import SubjectRequest

    longest = RuleFactory(
        activity=activity,
        record_type=RetentionRule.RecordType.SUBJECT_REQUEST,
        duration=5,
        start_event=RetentionRule.StartEvent.REQUEST_CLOSED,
    )
    shorter = RuleFactory(
        activity=ActivityFactory(),
        record_type=RetentionRule.RecordType.SUBJECT_REQUEST,
        duration=1,
        unit=RetentionRule.Unit.MONTHS,
        start_event=RetentionRule.StartEvent.REQUEST_CLOSED,
    )
    kept = _closed_request(1)
    old = _closed_request(6)

    preview, _ = retention_apply(trigger="command", dry_run=True, as_of=AS_OF)
    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert SubjectRequest.objects.filter(pk=kept.pk).exists()
    assert not SubjectRequest.objects.filter(pk=old.pk).exists()
    assert _step(preview, f"subject_requests:rule:{longest.pk}")["would_remove"] == 1
    assert _step(run, f"subject_requests:rule:{longest.pk}")["removed"] == 1
    assert _step(run, f"subject_requests:rule:{shorter.pk}")["status"] == (
        "not_applied"
    )


def test_retired_activity_rule_keeps_its_breaches(breach_rule):
    """GIVEN a retired activity whose register keeps breach records for 10
    years, and a breach of it closed 6 years ago, WHEN the job runs, THEN
    the breach stays: the register's 5-year rule of another activity does
    not shorten it."""
    retired = ActivityFactory(status="retired")
    long_rule = _breach_rule(retired, duration=10)
    breach = _closed_breach(6, retired)

    run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert Breach.objects.filter(pk=breach.pk).exists()
    assert _step(run, f"breaches:rule:{long_rule.pk}")["removed"] == 0
    assert _step(run, f"breaches:rule:{breach_rule.pk}")["removed"] == 0
