"""The retention job's effect on the data: deletion, anonymisation, lists, runs."""

import threading
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import SuppressionEntry
from apps.core.identifiers import identifier_hash
from apps.core.models import AuditEvent
from apps.register.models import RetentionRule
from apps.retention import services
from apps.retention.models import RetentionRun
from apps.retention.policy import RETENTION_TIME_ZONE
from apps.retention.selectors import DEFAULT_CONTACTS_KEY
from apps.retention.selectors import RENTED_LISTS_KEY
from apps.retention.services import ADVISORY_LOCK_KEY
from apps.retention.services import BATCH_SIZE_MAX
from apps.retention.services import BATCH_SIZE_MIN
from apps.retention.services import BATCH_TARGET_MS
from apps.retention.services import RetentionError
from apps.retention.services import next_batch_size
from apps.retention.services import retention_apply
from apps.retention.services import retention_run_create
from apps.retention.services import retention_run_execute
from apps.retention.services import retention_runs_lost_close
from tests.retention.dates import AS_OF
from tests.retention.dates import paris
from tests.retention.dates import years_before
from tests.retention.factories import ActivityFactory
from tests.retention.factories import ConsentFactory
from tests.retention.factories import ContactFactory
from tests.retention.factories import ListFactory
from tests.retention.factories import ProvenanceFactory
from tests.retention.factories import RuleFactory

pytestmark = pytest.mark.postgres


def _apply(**options):
    run, ids = retention_apply(trigger="command", as_of=AS_OF, **options)
    assert run.status == RetentionRun.Status.SUCCEEDED, run.error
    return run, ids


def _other_session(**options):
    settings_dict = connection.settings_dict
    return psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        **options,
    )


@contextmanager
def _contact_locked_elsewhere(contact_id: int, *, seconds: float):
    """Hold a contact's row lock from another session for ``seconds``."""
    with _other_session() as other:
        other.execute(
            "SELECT 1 FROM contacts_contact WHERE id = %s FOR UPDATE", [contact_id]
        )
        release = threading.Timer(seconds, other.rollback)
        release.start()
        try:
            yield
        finally:
            release.join()


@contextmanager
def _job_lock_held_elsewhere():
    """Hold the retention job's lock from another session, as a live run does."""
    with _other_session(autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        yield


def _step(run, key):
    return next(step for step in run.steps if step["key"] == key)


def test_delete_erases_contact_and_its_rows(contact_rule, expired_at):
    contact = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    ProvenanceFactory(contact=contact)
    ConsentFactory(contact=contact)

    run, _ = _apply()

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Provenance.objects.filter(contact_id=contact.pk).exists()
    assert not ConsentRecord.objects.filter(contact_id=contact.pk).exists()
    assert SuppressionEntry.objects.count() == 0
    step = _step(run, f"contacts:rule:{contact_rule.pk}")
    assert step["deleted"] == 1
    assert step["provenances_removed"] == 1
    assert step["consents_removed"] == 1


def test_delete_keeps_recent_contact(contact_rule, recent_at):
    contact = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=recent_at
    )

    _apply()

    assert Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Contact.Status.OBJECTED, "objected"),
        (Contact.Status.UNSUBSCRIBED, "unsubscribed"),
    ],
)
def test_delete_suppresses_people_who_objected(
    contact_rule, expired_at, status, reason
):
    contact = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=expired_at,
        status=status,
    )

    run, _ = _apply()

    entries = SuppressionEntry.objects.filter(
        identifier_hash__in=[
            identifier_hash(contact.email),
            identifier_hash(contact.phone),
        ]
    )
    assert entries.count() == 2
    assert set(entries.values_list("reason", flat=True)) == {reason}
    assert _step(run, f"contacts:rule:{contact_rule.pk}")["suppressed"] == 2


def test_objector_without_stored_hash_is_suppressed(contact_rule, expired_at):
    contact = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=expired_at,
        status=Contact.Status.OBJECTED,
    )
    # As a bulk write that skips Contact.save leaves it.
    Contact.objects.filter(pk=contact.pk).update(email_hash="", phone_hash="")

    _apply()

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert SuppressionEntry.objects.filter(
        identifier_hash=identifier_hash(contact.email), reason="objected"
    ).exists()
    assert SuppressionEntry.objects.filter(
        identifier_hash=identifier_hash(contact.phone), reason="objected"
    ).exists()


def test_anonymise_keeps_statistics_only(activity, expired_at):
    rule = RuleFactory(activity=activity, action=RetentionRule.Action.ANONYMISE)
    contact = ContactFactory(
        processing_activity=activity,
        collected_at=expired_at,
        last_contact_at=expired_at + timedelta(days=3),
        status=Contact.Status.UNSUBSCRIBED,
        country="BE",
        job_function="finance",
    )
    provenance = ProvenanceFactory(contact=contact, row_number=41)
    ConsentFactory(contact=contact)
    email, phone = contact.email, contact.phone

    run, _ = _apply()

    contact.refresh_from_db()
    assert contact.status == Contact.Status.ANONYMISED
    for field in ("first_name", "last_name", "email", "phone", "job_title"):
        assert getattr(contact, field) == "", field
    for field in ("company", "company_domain", "postcode", "city"):
        assert getattr(contact, field) == "", field
    assert contact.email_hash == ""
    assert contact.phone_hash == ""
    assert contact.search_text.strip() == ""
    assert contact.country == "BE"
    assert contact.job_function == "finance"
    assert contact.processing_activity_id == activity.pk
    collected = contact.collected_at.astimezone(RETENTION_TIME_ZONE)
    assert (collected.day, collected.hour) == (1, 0)
    assert collected.month == expired_at.month
    assert SuppressionEntry.objects.filter(
        identifier_hash=identifier_hash(email), reason="unsubscribed"
    ).exists()
    assert SuppressionEntry.objects.filter(
        identifier_hash=identifier_hash(phone)
    ).exists()
    assert not ConsentRecord.objects.filter(contact_id=contact.pk).exists()
    assert not Provenance.objects.filter(pk=provenance.pk).exists()
    step = _step(run, f"contacts:rule:{rule.pk}")
    assert step["anonymised"] == 1
    assert step["provenances_removed"] == 1


def test_anonymised_contact_is_not_processed_again(activity, expired_at):
    rule = RuleFactory(activity=activity, action=RetentionRule.Action.ANONYMISE)
    ContactFactory(processing_activity=activity, collected_at=expired_at)

    _apply()
    second, _ = _apply()

    assert _step(second, f"contacts:rule:{rule.pk}")["removed"] == 0
    assert Contact.objects.filter(status=Contact.Status.ANONYMISED).count() == 1


def test_rented_and_bought_keeps_bought_provenance(db, recent_at):
    ended = ListFactory(
        acquisition=ContactList.Acquisition.RENTAL,
        licence_ends_on=AS_OF - timedelta(days=1),
    )
    bought = ListFactory()
    both = ContactFactory(collected_at=recent_at)
    ProvenanceFactory(contact=both, contact_list=ended)
    ProvenanceFactory(contact=both, contact_list=bought)
    rented_only = ContactFactory(collected_at=recent_at)
    ProvenanceFactory(contact=rented_only, contact_list=ended)

    run, _ = _apply()

    assert Contact.objects.filter(pk=both.pk).exists()
    assert list(
        Provenance.objects.filter(contact=both).values_list("contact_list", flat=True)
    ) == [bought.pk]
    assert not Contact.objects.filter(pk=rented_only.pk).exists()
    step = _step(run, RENTED_LISTS_KEY)
    assert step["deleted"] == 1
    assert step["provenances_removed"] == 2


def test_licence_ending_today_is_still_valid(db, recent_at):
    rented = ListFactory(
        acquisition=ContactList.Acquisition.RENTAL, licence_ends_on=AS_OF
    )
    contact = ContactFactory(collected_at=recent_at)
    ProvenanceFactory(contact=contact, contact_list=rented)

    _apply()

    assert Provenance.objects.filter(contact=contact).exists()


def test_dry_run_changes_nothing_then_real_run_matches(activity, expired_at, recent_at):
    """GIVEN contacts due under a delete rule, an anonymise rule, the default
    rule and an ended rented list.
    WHEN a dry run executes, then a real run.
    THEN the dry run changes nothing.
    AND the real run removes exactly the contacts that the dry run listed."""
    delete_rule = RuleFactory(activity=activity)
    other = ActivityFactory()
    anonymise_rule = RuleFactory(activity=other, action=RetentionRule.Action.ANONYMISE)
    ended = ListFactory(
        acquisition=ContactList.Acquisition.RENTAL,
        licence_ends_on=AS_OF - timedelta(days=10),
    )
    for _ in range(4):
        ContactFactory(processing_activity=activity, collected_at=expired_at)
        ContactFactory(processing_activity=other, collected_at=expired_at)
        ContactFactory(processing_activity=None, collected_at=expired_at)
        ContactFactory(processing_activity=activity, collected_at=recent_at)
        rented = ContactFactory(processing_activity=activity, collected_at=recent_at)
        ProvenanceFactory(contact=rented, contact_list=ended)
    # Due under its rule and in the ended list: the rented-list step takes it.
    overlap = ContactFactory(processing_activity=activity, collected_at=expired_at)
    ProvenanceFactory(contact=overlap, contact_list=ended)
    before = sorted(Contact.objects.values_list("pk", "status", "email"))

    preview, listed = _apply(dry_run=True, collect_ids=True)

    assert sorted(Contact.objects.values_list("pk", "status", "email")) == before
    assert AuditEvent.objects.filter(action__startswith="retention.").count() == 0

    applied, removed = _apply(collect_ids=True)

    assert removed == listed
    assert (
        _step(applied, RENTED_LISTS_KEY)["provenances_removed"]
        == _step(preview, RENTED_LISTS_KEY)["would_remove_provenances"]
    )
    for key in listed:
        assert _step(applied, key)["removed"] == _step(preview, key)["would_remove"]
    assert set(listed[RENTED_LISTS_KEY]) >= {overlap.pk}
    assert len(listed[f"contacts:rule:{delete_rule.pk}"]) == 4
    assert len(listed[f"contacts:rule:{anonymise_rule.pk}"]) == 4
    assert len(listed[DEFAULT_CONTACTS_KEY]) == 4
    assert applied.total_removed == preview.total_would_remove == 17
    assert preview.total_removed == 0


def test_each_rule_gets_audit_event(contact_rule, expired_at):
    for _ in range(3):
        ContactFactory(
            processing_activity=contact_rule.activity, collected_at=expired_at
        )

    run, _ = _apply()

    event = AuditEvent.objects.get(
        action="retention.contacts.applied", target_id=str(contact_rule.pk)
    )
    assert event.actor_label == "retention job"
    assert event.target_type == "register.retentionrule"
    assert event.count == 3
    assert event.details["deleted"] == 3
    assert event.details["run_id"] == run.pk
    assert "@" not in str(event.details)
    finished = AuditEvent.objects.get(action="retention.run.finished")
    assert finished.count == 3


def test_batches_walk_every_due_contact(contact_rule, expired_at):
    ids = [
        ContactFactory(
            processing_activity=contact_rule.activity, collected_at=expired_at
        ).pk
        for _ in range(7)
    ]

    run, _ = _apply(batch_size=3)

    step = _step(run, f"contacts:rule:{contact_rule.pk}")
    assert step["batches"] == 3
    assert step["deleted"] == 7
    assert not Contact.objects.filter(pk__in=ids).exists()


def test_batches_are_sized_from_the_last_one(contact_rule, expired_at, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    for _ in range(10):
        ContactFactory(
            processing_activity=contact_rule.activity, collected_at=expired_at
        )

    run, _ = _apply()

    # The first batch has 2 contacts, the next at least BATCH_SIZE_MIN.
    step = _step(run, f"contacts:rule:{contact_rule.pk}")
    assert (step["batches"], step["deleted"]) == (2, 10)


@pytest.mark.django_db(transaction=True)
def test_batch_time_limit_retry(monkeypatch):
    """GIVEN 8 due contacts, the last one locked by another session for 0.5 s,
    WHEN the job deletes them in batches of 8,
    THEN the server cancels the batches that wait for the lock, their halves
    commit, the locked contact goes alone once released, and each contact is
    counted once."""
    monkeypatch.setattr(services, "BATCH_SIZE", 8)
    rule = RuleFactory(activity=ActivityFactory())
    expired_at = paris(years_before(AS_OF, 3) - timedelta(days=7))
    ids = [
        ContactFactory(processing_activity=rule.activity, collected_at=expired_at).pk
        for _ in range(8)
    ]

    with _contact_locked_elsewhere(ids[-1], seconds=0.5):
        run, _ = _apply()

    step = _step(run, f"contacts:rule:{rule.pk}")
    assert step["deleted"] == 8
    assert step["batches_cancelled"] >= 1
    assert step["batches"] >= 2
    assert not Contact.objects.filter(pk__in=ids).exists()
    event = AuditEvent.objects.get(
        action="retention.contacts.applied", target_id=str(rule.pk)
    )
    assert event.count == 8


def test_time_limit_ends_with_its_batch(contact_rule, expired_at):
    # Two contacts: a batch of one runs without the limit.
    for _ in range(2):
        ContactFactory(
            processing_activity=contact_rule.activity, collected_at=expired_at
        )

    _apply()

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.parametrize(
    ("elapsed_ms", "expected"),
    [
        (BATCH_TARGET_MS / 2, 1000),
        (BATCH_TARGET_MS * 2, 250),
        (BATCH_TARGET_MS * 10, 250),
        (0.0, 1000),
    ],
)
def test_next_batch_size_moves_toward_the_target(elapsed_ms, expected):
    assert next_batch_size(500, elapsed_ms) == expected


def test_next_batch_size_stays_within_bounds():
    assert next_batch_size(BATCH_SIZE_MIN, BATCH_TARGET_MS * 10) == BATCH_SIZE_MIN
    assert next_batch_size(BATCH_SIZE_MAX, 0.0) == BATCH_SIZE_MAX


def test_archive_rule_counts_without_changing(activity, expired_at):
    rule = RuleFactory(activity=activity, action=RetentionRule.Action.ARCHIVE)
    contact = ContactFactory(processing_activity=activity, collected_at=expired_at)

    run, _ = _apply()

    step = _step(run, f"contacts:rule:{rule.pk}")
    assert step["status"] == "not_applied"
    assert step["due"] == 1
    assert Contact.objects.get(pk=contact.pk).email == contact.email


def test_unsupported_start_event_falls_back_on_default(activity, expired_at):
    rule = RuleFactory(
        activity=activity, start_event=RetentionRule.StartEvent.END_OF_CONTRACT
    )
    contact = ContactFactory(processing_activity=activity, collected_at=expired_at)

    run, ids = _apply(collect_ids=True)

    assert _step(run, f"contacts:rule:{rule.pk}")["status"] == "not_applied"
    assert ids[DEFAULT_CONTACTS_KEY] == [contact.pk]


def test_retired_activity_keeps_shorter_rule(db):
    retired = ActivityFactory(status="retired")
    rule = RuleFactory(activity=retired, duration=64, unit=RetentionRule.Unit.DAYS)
    contact = ContactFactory(
        processing_activity=retired, collected_at=paris(AS_OF - timedelta(days=100))
    )

    run, ids = _apply(collect_ids=True)

    assert ids[f"contacts:rule:{rule.pk}"] == [contact.pk]
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_retired_activity_is_not_under_default(db, expired_at):
    retired = ActivityFactory(status="retired")
    RuleFactory(activity=retired, duration=10)
    contact = ContactFactory(processing_activity=retired, collected_at=expired_at)

    _apply()

    assert Contact.objects.filter(pk=contact.pk).exists()


def test_retired_activity_purge_rules_applied(db):
    retired = ActivityFactory(status="retired")
    rule = RuleFactory(
        activity=retired,
        record_type=RetentionRule.RecordType.SUBJECT_REQUEST,
        start_event=RetentionRule.StartEvent.REQUEST_CLOSED,
    )

    run, _ = _apply()

    assert _step(run, f"subject_requests:rule:{rule.pk}")["status"] == "done"


def test_draft_purge_rules_not_applied(db):
    draft = ActivityFactory(status="draft")
    ContactFactory(processing_activity=draft)
    rule = RuleFactory(
        activity=draft,
        record_type=RetentionRule.RecordType.SUBJECT_REQUEST,
        start_event=RetentionRule.StartEvent.REQUEST_CLOSED,
    )

    run, _ = _apply()

    assert all(step["rule_id"] != rule.pk for step in run.steps)


def test_draft_holding_contacts_applies_rules(db, expired_at):
    draft = ActivityFactory(status="draft")
    rule = RuleFactory(activity=draft, duration=10)
    contact = ContactFactory(processing_activity=draft, collected_at=expired_at)

    run, ids = _apply(collect_ids=True)

    assert _step(run, f"contacts:rule:{rule.pk}")["removed"] == 0
    assert contact.pk not in ids.get(DEFAULT_CONTACTS_KEY, [])
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_draft_without_contacts_adds_no_step(db):
    draft = ActivityFactory(status="draft")
    rule = RuleFactory(activity=draft)

    run, _ = _apply()

    assert all(step["rule_id"] != rule.pk for step in run.steps)


def test_subject_request_link_is_erased_with_contact(contact_rule, expired_at, dpo):
    from apps.subject_requests.services import request_create
    from apps.subject_requests.services import request_link_contacts

    contact = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    request = request_create(
        kind="access",
        channel="email",
        requester_name="Camille Exemple",
        requester_email="demandeur@example.com",
        received_at=timezone.now(),
        handler=dpo,
    )
    request_link_contacts(request=request, contact_ids=[contact.pk], actor=dpo)

    run, _ = _apply()

    request.refresh_from_db()
    assert list(request.contacts.all()) == []
    step = _step(run, f"contacts:rule:{contact_rule.pk}")
    assert step["erased"]["subject_request_link"] == 1


def test_closed_requests_purged_by_their_rule(activity, dpo):
    from apps.subject_requests.models import SubjectRequest
    from apps.subject_requests.services import request_create

    rule = RuleFactory(
        activity=activity,
        record_type=RetentionRule.RecordType.SUBJECT_REQUEST,
        duration=5,
        start_event=RetentionRule.StartEvent.REQUEST_CLOSED,
    )
    old, recent = (
        request_create(
            kind="access",
            channel="email",
            requester_name="Dominique Exemple",
            requester_email=f"demande{number}@example.com",
            received_at=timezone.now(),
            handler=dpo,
        )
        for number in range(2)
    )
    SubjectRequest.objects.filter(pk=old.pk).update(
        status="closed", closed_at=timezone.now() - timedelta(days=6 * 365)
    )
    SubjectRequest.objects.filter(pk=recent.pk).update(
        status="closed", closed_at=timezone.now() - timedelta(days=365)
    )

    run, _ = _apply()

    assert not SubjectRequest.objects.filter(pk=old.pk).exists()
    assert SubjectRequest.objects.filter(pk=recent.pk).exists()
    assert _step(run, f"subject_requests:rule:{rule.pk}")["removed"] == 1


def test_run_executed_twice_does_nothing_more(contact_rule, expired_at):
    ContactFactory(processing_activity=contact_rule.activity, collected_at=expired_at)
    run = retention_run_create(trigger="command", as_of=AS_OF)

    first, _ = retention_run_execute(run_id=run.pk)
    again, _ = retention_run_execute(run_id=run.pk)

    assert first.status == again.status == RetentionRun.Status.SUCCEEDED
    assert again.steps == first.steps
    assert AuditEvent.objects.filter(action="retention.run.finished").count() == 1


def test_abandoned_queued_run_is_closed(db):
    abandoned = retention_run_create(trigger="page", as_of=AS_OF)
    RetentionRun.objects.filter(pk=abandoned.pk).update(
        created_at=timezone.now() - timedelta(hours=7)
    )
    waiting = retention_run_create(trigger="page", as_of=AS_OF)

    _apply()

    abandoned.refresh_from_db()
    waiting.refresh_from_db()
    assert abandoned.status == RetentionRun.Status.SKIPPED
    assert "No worker took the run" in abandoned.error
    assert waiting.status == RetentionRun.Status.QUEUED


def test_run_skipped_while_another_holds_lock(contact_rule, expired_at):
    contact = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    with _job_lock_held_elsewhere():
        run, _ = retention_apply(trigger="command", as_of=AS_OF)

    assert run.status == RetentionRun.Status.SKIPPED
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_real_run_cannot_look_ahead(db):
    tomorrow = timezone.localdate() + timedelta(days=1)

    with pytest.raises(RetentionError, match="only a dry run can look ahead"):
        retention_run_create(trigger="command", as_of=tomorrow)
    assert retention_run_create(trigger="command", as_of=tomorrow, dry_run=True)


def test_invalid_options_are_rejected(db):
    with pytest.raises(RetentionError, match="trigger='cron' is invalid"):
        retention_run_create(trigger="cron")
    with pytest.raises(RetentionError, match="batch_size=0 is invalid"):
        retention_apply(trigger="command", batch_size=0)


def _running_run(*, started_ago):
    return RetentionRun.objects.create(
        trigger="schedule",
        as_of=AS_OF,
        status=RetentionRun.Status.RUNNING,
        started_at=timezone.now() - started_ago,
        steps=[{"key": "contacts:default", "removed": 4}],
    )


def test_lost_run_is_closed_as_interrupted(db):
    lost = _running_run(started_ago=timedelta(hours=2))
    starting = _running_run(started_ago=timedelta(seconds=5))

    closed = retention_runs_lost_close()

    lost.refresh_from_db()
    starting.refresh_from_db()
    assert closed == [lost.pk]
    assert lost.status == RetentionRun.Status.INTERRUPTED
    assert starting.status == RetentionRun.Status.RUNNING
    event = AuditEvent.objects.get(action="retention.run.interrupted")
    assert event.count == 4


def test_live_run_is_not_closed(db):
    run = _running_run(started_ago=timedelta(hours=2))
    with _job_lock_held_elsewhere():
        closed = retention_runs_lost_close()

    run.refresh_from_db()
    assert closed == []
    assert run.status == RetentionRun.Status.RUNNING


@pytest.mark.parametrize("dry_run", [False, True])
def test_rule_reaching_before_year_one_is_not_applied(activity, expired_at, dry_run):
    contact = ContactFactory(processing_activity=activity, collected_at=expired_at)
    rule = RuleFactory(activity=activity, duration=10000)
    RuleFactory(
        activity=activity,
        duration=10000,
        record_type=RetentionRule.RecordType.SUBJECT_REQUEST,
    )

    run, _ = _apply(dry_run=dry_run)

    step = _step(run, f"contacts:rule:{rule.pk}")
    assert step["status"] == "not_applied"
    assert "10000" in step["not_applied_reason"]
    assert Contact.objects.filter(pk=contact.pk).exists()
    default = _step(run, DEFAULT_CONTACTS_KEY)
    assert default.get("removed", 0) == 0
    assert default.get("would_remove", 0) == 0


@pytest.mark.parametrize("action", ["delete", "anonymise"])
def test_restricted_contact_kept(contact_rule, expired_at, action):
    """GIVEN two contacts past their limit, one whose processing the person
    asked to restrict (Art. 18), WHEN the retention job runs,
    THEN the restricted one is left as it is and counted as kept, in the
    preview and in the run."""
    contact_rule.action = action
    contact_rule.save()
    restricted = ContactFactory(
        processing_activity=contact_rule.activity,
        collected_at=expired_at,
        status=Contact.Status.RESTRICTED,
    )
    other = ContactFactory(
        processing_activity=contact_rule.activity, collected_at=expired_at
    )
    key = f"contacts:rule:{contact_rule.pk}"

    preview, _ = _apply(dry_run=True)
    run, _ = _apply()

    assert _step(preview, key)["would_remove"] == 1
    assert _step(preview, key)["restricted_kept"] == 1
    step = _step(run, key)
    assert step["removed"] == 1
    assert step["restricted_kept"] == 1
    restricted.refresh_from_db()
    assert restricted.status == Contact.Status.RESTRICTED
    assert restricted.email
    assert not Contact.objects.filter(pk=other.pk, status=Contact.Status.ACTIVE)


def test_restricted_contact_keeps_an_ended_rented_list(db, recent_at):
    ended = ListFactory(
        acquisition=ContactList.Acquisition.RENTAL,
        licence_ends_on=AS_OF - timedelta(days=1),
    )
    restricted = ContactFactory(
        collected_at=recent_at, status=Contact.Status.RESTRICTED
    )
    ProvenanceFactory(contact=restricted, contact_list=ended)

    run, _ = _apply()

    assert Provenance.objects.filter(contact=restricted).exists()
    assert _step(run, RENTED_LISTS_KEY)["restricted_kept"] == 1
