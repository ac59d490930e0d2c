"""The retention job: apply the register's retention rules to the data.

A run is created queued, claimed by one worker with a conditional UPDATE, then
walks the steps of ``selectors.retention_plan``. Contacts are processed in
batches of ids collected by keyset on the primary key, each batch in its own
transaction that also records the run's counts. Unless a fixed size is given,
each batch is sized from the last one's duration to take about
``BATCH_TARGET_MS``, and a batch that the server cancels at
``BATCH_STATEMENT_TIMEOUT_MS`` is retried with half its contacts. A run killed
between or inside batches therefore leaves every record either fully processed
or untouched, and the next run picks up what is still due.
"""

import gc
import inspect
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import OperationalError
from django.db import connection
from django.db import transaction
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as QueueUnreachable

from apps.contacts.locks import contacts_write_lock
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.contacts.services import contact_hashes_fill
from apps.core.audit import audit_record
from apps.register.models import RetentionRule
from apps.retention.erasure import OBJECTION_REASONS
from apps.retention.erasure import Applied
from apps.retention.erasure import contacts_anonymise
from apps.retention.erasure import contacts_delete
from apps.retention.erasure import ids_filter
from apps.retention.erasure import provenances_detach
from apps.retention.models import RetentionRun
from apps.retention.policy import local_today
from apps.retention.selectors import STATUSES_KEPT
from apps.retention.selectors import STEP_WORDING_KEYS
from apps.retention.selectors import Step
from apps.retention.selectors import StepKind
from apps.retention.selectors import preview_plan_changed
from apps.retention.selectors import retention_plan

logger = logging.getLogger(__name__)

ACTOR_LABEL = "retention job"
# Contacts in the first batch transaction of a step. The first batch is the
# slowest per contact (cold caches and plans): bench/retention.py (500,000
# contacts, 100,000 due, quiet 2-core machine) measured 30 to 36 ms for a first
# batch of 500 and about 20 ms for the later ones.
BATCH_SIZE = 200
# The time each later batch is sized to take, well under the 50 ms that an
# import or an erasure may have to wait for the contacts write lock. A batch
# slowed by a checkpoint makes the next ones smaller until the server recovers.
BATCH_TARGET_MS = 20.0
BATCH_SIZE_MIN = 50
BATCH_SIZE_MAX = 5000
# The server cancels a batch's statements after this long, and the batch is
# retried with half its contacts, so a slow statement releases its row locks.
# NOTE: a statement waiting for the disk reacts to the cancellation late, so
# the 5M-contact benchmark measured cancelled attempts of up to 107 ms.
BATCH_STATEMENT_TIMEOUT_MS = 40
# A batch transaction this long is logged with the time of each of its steps.
SLOW_TRANSACTION_MS = 50
# Key of the PostgreSQL advisory lock held by a run: real runs take it
# exclusively, dry runs shared, so a preview never counts a half-done run.
ADVISORY_LOCK_KEY = 0x52455445
# PostgreSQL's SQLSTATE for a cancelled statement.
QUERY_CANCELED = "57014"

# The purge function of each step kind that another app owns, with the name of
# its cutoff argument. They are imported when a run reaches them.
PURGE_FUNCTIONS = {
    StepKind.SUBJECT_REQUESTS: (
        "apps.subject_requests.services",
        "request_purge_closed",
        "closed_before",
    ),
    StepKind.BREACHES: (
        "apps.breaches.services",
        "breach_purge_closed",
        "closed_before",
    ),
    StepKind.IMPORT_LEFTOVERS: (
        "apps.imports.services",
        "import_leftovers_purge",
        "older_than",
    ),
}

Status = RetentionRun.Status
# A run queued from the page starts as soon as a worker is free. After this
# long its task is taken as lost by the broker (an estimate, not a Celery limit).
QUEUED_RUN_TIMEOUT = timedelta(hours=6)
# Counts of the contact tables, kept at the top of a step's summary; the other
# apps' erasers report under "erased".
CONTACT_COUNT_KEYS = {
    "deleted",
    "anonymised",
    "suppressed",
    "provenances_removed",
    "consents_removed",
}
BatchHook = Callable[[RetentionRun, dict], None]


def _commit_without_waiting() -> None:
    """Let the current batch commit without waiting for its WAL to reach disk.

    A crash can then lose the last batches committed, never part of one, and
    the next run finds those records still due and applies them again. The
    commit no longer waits on the disk, which under the write load of a large
    anonymisation took up to 80 ms.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


@contextmanager
def _statement_time_limit(milliseconds: int | None):
    """Have the server cancel any statement of the block that runs longer.

    The previous limit comes back after the block, also inside an outer
    transaction; a cancelled block leaves its transaction to roll back, which
    restores it. ``None`` sets no limit.
    """
    if milliseconds is None or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'),"
            " set_config('statement_timeout', %s, true)",
            [str(milliseconds)],
        )
        (previous, _) = cursor.fetchone()
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])


def _cancelled_by_time_limit(
    error: OperationalError, elapsed_ms: float, limit_ms: int
) -> bool:
    """Tell whether ``error`` is the server cancelling a statement at ``limit_ms``.

    A cancellation that comes sooner was asked for by someone else.
    """
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate == QUERY_CANCELED and elapsed_ms >= limit_ms


@contextmanager
def _garbage_collection_paused():
    """Keep Python's cyclic garbage collector from running inside a batch.

    A batch holds row locks until it commits, and a full collection took
    74 ms during one 5-million-contact benchmark run (bench/retention.py),
    more than a whole batch. With collection paused, the collector runs on
    the next allocation after the commit instead.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _slow_transaction_log(size: int, marks: list[float]) -> None:
    """Log where a batch transaction over ``SLOW_TRANSACTION_MS`` spent its time.

    ``marks`` are the times it started, held the write lock, finished its
    statements, saved the run's counts and committed.
    """
    lock, statements, counts, commit = (
        (later - earlier) * 1000 for earlier, later in itertools.pairwise(marks)
    )
    logger.info(
        "retention batch of %d contacts took %.1f ms: write lock %.1f ms, "
        "statements %.1f ms, counts %.1f ms, commit %.1f ms",
        size,
        (marks[-1] - marks[0]) * 1000,
        lock,
        statements,
        counts,
        commit,
    )


def _longest_transaction_note(entry: dict, elapsed_ms: float) -> None:
    entry["max_transaction_ms"] = round(max(entry["max_transaction_ms"], elapsed_ms), 2)


def next_batch_size(size: int, elapsed_ms: float) -> int:
    """Return the size of the batch after one of ``size`` that took ``elapsed_ms``.

    The size is scaled toward ``BATCH_TARGET_MS``, by at most half or double
    at a time, within ``BATCH_SIZE_MIN`` and ``BATCH_SIZE_MAX``.
    """
    scaled = size * BATCH_TARGET_MS / max(elapsed_ms, 0.001)
    scaled = min(max(scaled, size / 2), size * 2)
    return int(min(max(scaled, BATCH_SIZE_MIN), BATCH_SIZE_MAX))


class RetentionError(Exception):
    """A retention run that cannot be created or executed as asked."""


def retention_run_create(
    *,
    trigger: str,
    dry_run: bool = False,
    requested_by=None,
    as_of: date | None = None,
    confirmed_preview: RetentionRun | None = None,
) -> RetentionRun:
    """Create a queued run; ``as_of`` defaults to today in Europe/Paris.

    Only a dry run may look ahead: a real run as of a later day would remove
    data before its limit.
    """
    if trigger not in RetentionRun.Trigger.values:
        raise RetentionError(
            f"trigger={trigger!r} is invalid: use one of "
            f"{', '.join(RetentionRun.Trigger.values)}."
        )
    today = local_today()
    if as_of is not None and as_of > today and not dry_run:
        raise RetentionError(
            f"as_of={as_of.isoformat()} is after today ({today.isoformat()}): "
            "only a dry run can look ahead; add --dry-run or drop --as-of."
        )
    run = RetentionRun(
        trigger=trigger,
        dry_run=dry_run,
        requested_by=requested_by
        if getattr(requested_by, "is_authenticated", False)
        else None,
        as_of=as_of or local_today(),
        confirmed_preview=confirmed_preview,
    )
    run.full_clean()
    run.save()
    return run


def _run_claim(run_id: int) -> bool:
    claimed = RetentionRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    return claimed == 1


def _run_steps_save(run: RetentionRun) -> None:
    RetentionRun.objects.filter(pk=run.pk).update(steps=run.steps)


def _run_finish(run: RetentionRun, *, status: str, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    RetentionRun.objects.filter(pk=run.pk).update(
        status=status, error=error, finished_at=run.finished_at, steps=run.steps
    )


@contextmanager
def _job_lock(*, exclusive: bool):
    """Hold the job's advisory lock for the block; yield whether it was taken.

    The lock belongs to the database session, so a killed process loses it
    with its connection. Other databases (SQLite for development) have no
    such lock and every run proceeds.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    suffix = "" if exclusive else "_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock{suffix}(%s)", [ADVISORY_LOCK_KEY])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT pg_advisory_unlock{suffix}(%s)", [ADVISORY_LOCK_KEY]
                )


def _runs_interrupted_close(
    *, current: RetentionRun | None, started_before=None
) -> list[int]:
    """Mark as interrupted the runs still "running" while we hold the lock.

    Only callers holding the exclusive lock call this, so no other run can be
    alive: any run still marked running lost its process. Its counts were
    saved with each batch, so the audit event states what it applied.
    ``current`` is the real run that found them, if any.
    """
    stale = RetentionRun.objects.filter(status=Status.RUNNING)
    if current is not None:
        stale = stale.exclude(pk=current.pk)
    if started_before is not None:
        stale = stale.filter(started_at__lt=started_before)
    stale = list(stale.order_by("pk"))
    for run in stale:
        _run_finish(
            run,
            status=Status.INTERRUPTED,
            error="The run stopped before finishing (process killed or lost).",
        )
        if run.dry_run:
            continue
        audit_record(
            action="retention.run.interrupted",
            actor_label=ACTOR_LABEL,
            target=run,
            count=run.total_removed,
            details={
                "run_id": run.pk,
                "found_by_run_id": current.pk if current else None,
                "steps": [
                    {"key": step["key"], "removed": step.get("removed", 0)}
                    for step in run.steps
                ],
            },
        )
        logger.warning(
            "retention run %s was interrupted (found by %s)",
            run.pk,
            f"run {current.pk}" if current else "the lost-run check",
        )
    return [run.pk for run in stale]


# A run is claimed a moment before it takes the job lock, so the lost-run
# check leaves alone the runs started this recently.
LOST_RUN_GRACE = timedelta(minutes=5)


def retention_runs_lost_close() -> list[int]:
    """Mark as interrupted the runs left "running" by a process that died.

    A live run holds the job's advisory lock for its whole session, so the
    lock is tried without waiting and nothing is closed while a run holds it.
    Returns the ids closed. On other databases there is no lock to tell a
    live run from a lost one, and nothing is closed.
    """
    if connection.vendor != "postgresql":
        return []
    with _job_lock(exclusive=True) as acquired:
        if not acquired:
            return []
        return _runs_interrupted_close(
            current=None, started_before=timezone.now() - LOST_RUN_GRACE
        )


def _runs_abandoned_close() -> int:
    """Mark as skipped the runs queued so long ago that no worker will take them.

    A queued run waits for its Celery task. When the broker loses the task,
    the run would otherwise show as queued on the page for ever.
    """
    limit = timezone.now() - QUEUED_RUN_TIMEOUT
    abandoned = RetentionRun.objects.filter(status=Status.QUEUED, created_at__lt=limit)
    count = abandoned.update(
        status=Status.SKIPPED,
        finished_at=timezone.now(),
        error="No worker took the run within "
        f"{QUEUED_RUN_TIMEOUT.total_seconds() / 3600:.0f} hours.",
    )
    if count:
        logger.warning(
            "%s queued retention runs were never taken; marked skipped", count
        )
    return count


def retention_run_execute(
    *,
    run_id: int,
    batch_size: int | None = None,
    pause_seconds: float = 0.0,
    collect_ids: bool = False,
    on_batch: BatchHook | None = None,
) -> tuple[RetentionRun, dict[str, list[int]]]:
    """Claim the queued run and execute it; return it with the ids it listed.

    ``collect_ids`` returns, per step key, the contact ids removed (or, for a
    dry run, due); keep it for small data. ``pause_seconds`` sleeps between
    batches to leave room to other database work. A run that is not queued is
    returned unchanged, so executing twice is harmless. A ``batch_size``
    fixes the contacts per transaction; without it, batches are sized to take
    about ``BATCH_TARGET_MS`` each.
    """
    _options_check(batch_size=batch_size, pause_seconds=pause_seconds)
    ids: dict[str, list[int]] = {}
    if not _run_claim(run_id):
        logger.info("retention run %s is not queued; nothing to do", run_id)
        return RetentionRun.objects.get(pk=run_id), ids
    run = RetentionRun.objects.get(pk=run_id)

    with _job_lock(exclusive=not run.dry_run) as acquired:
        if not acquired:
            _run_finish(
                run,
                status=Status.SKIPPED,
                error="Another retention run was in progress.",
            )
            logger.warning(
                "retention run %s skipped: another run is in progress", run.pk
            )
            return run, ids
        if not run.dry_run:
            _runs_interrupted_close(current=run)
            _runs_abandoned_close()
            if _confirmed_plan_changed(run):
                return run, ids
            _objector_hashes_fill()

        logger.info("retention run %s started (dry_run=%s)", run.pk, run.dry_run)
        executor = _StepExecutor(
            run=run,
            batch_size=batch_size,
            pause_seconds=pause_seconds,
            collect_ids=collect_ids,
            on_batch=on_batch,
        )
        try:
            # The stored sentences are in the site's language. Pages reword
            # them in the reader's language from the codes stored beside them.
            with translation.override(settings.LANGUAGE_CODE):
                steps = retention_plan(as_of=run.as_of, now=timezone.now())
            for step in steps:
                executor.execute(step)
        except Exception as error:
            logger.exception("retention run %s failed", run.pk)
            _run_finish(run, status=Status.FAILED, error=_error_text(error))
            if not run.dry_run:
                _run_audit(run, action="retention.run.failed")
            return run, executor.ids

        _run_finish(run, status=Status.SUCCEEDED)
        if run.dry_run:
            logger.info(
                "retention dry run %s finished: "
                "%s records would be deleted or anonymised",
                run.pk,
                run.total_would_remove,
            )
        else:
            _run_audit(run, action="retention.run.finished")
            logger.info(
                "retention run %s finished: %s records deleted or anonymised",
                run.pk,
                run.total_removed,
            )
        return run, executor.ids


def _objector_hashes_fill() -> None:
    """Hash the identifiers of people who objected where a bulk write left none.

    The batches suppress objectors from their stored hashes, so a contact
    written without ``Contact.save`` would otherwise leave no suppression entry.
    """
    filled = contact_hashes_fill(
        contacts=Contact.objects.filter(status__in=list(OBJECTION_REASONS))
    )
    if filled:
        logger.warning(
            "retention: hashed the identifiers of %d objectors that had none", filled
        )


def _error_text(error: Exception) -> str:
    # Only the exception class, because database messages can quote personal
    # values. The step that failed is the one still marked "running".
    return f"{type(error).__name__} (the traceback is in the log)"


def _confirmed_plan_changed(run: RetentionRun) -> bool:
    """Skip ``run`` if the plan changed since the preview it confirmed.

    The page refuses a confirmation of an outdated preview, but the register
    can still change while the run waits for a worker. Returns True when the
    run was skipped.
    """
    preview = run.confirmed_preview
    if preview is None or not preview_plan_changed(preview):
        return False
    _run_finish(
        run,
        status=Status.SKIPPED,
        error=(
            f"The register or a rented list's licence changed after preview "
            f"#{preview.pk} was confirmed, so nothing was removed. Refresh the "
            f"preview, check its counts and confirm again."
        ),
    )
    _run_audit(run, action="retention.run.skipped")
    logger.warning(
        "retention run %s skipped: the plan changed since preview %s",
        run.pk,
        preview.pk,
    )
    return True


def _run_audit(run: RetentionRun, *, action: str) -> None:
    audit_record(
        action=action,
        actor_label=ACTOR_LABEL,
        target=run,
        count=run.total_removed,
        details={
            "run_id": run.pk,
            "as_of": run.as_of.isoformat(),
            "steps": [
                {"key": step["key"], "removed": step.get("removed", 0)}
                for step in run.steps
            ],
        },
    )


def _options_check(*, batch_size: int | None = None, pause_seconds: float = 0.0):
    """Raise ``RetentionError`` for an invalid batch size or pause."""
    if batch_size is not None and batch_size < 1:
        raise RetentionError(f"batch_size={batch_size} is invalid: use 1 or more.")
    if pause_seconds < 0:
        raise RetentionError(
            f"pause_seconds={pause_seconds} is invalid: use 0 or more seconds."
        )


def retention_apply(
    *,
    trigger: str,
    dry_run: bool = False,
    requested_by=None,
    as_of: date | None = None,
    batch_size: int | None = None,
    pause_seconds: float = 0.0,
    **options,
) -> tuple[RetentionRun, dict[str, list[int]]]:
    """Create a run and execute it at once (the command and the daily task).

    The options are checked first, so an invalid one leaves no queued run.
    """
    _options_check(batch_size=batch_size, pause_seconds=pause_seconds)
    run = retention_run_create(
        trigger=trigger, dry_run=dry_run, requested_by=requested_by, as_of=as_of
    )
    return retention_run_execute(
        run_id=run.pk, batch_size=batch_size, pause_seconds=pause_seconds, **options
    )


def _run_not_queued(run: RetentionRun, error: Exception) -> None:
    """Fail a run that no worker will get, so that the page can offer it again."""
    logger.error("retention run %s not queued: %s", run.pk, type(error).__name__)
    message = _(
        "The task queue could not be reached, so the run did not start and "
        "removed nothing. Start it again in a few minutes; if it fails again, "
        "tell the administrator that the Celery broker is down."
    )
    RetentionRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
        status=Status.FAILED, finished_at=timezone.now(), error=message
    )


def retention_run_request(
    *,
    requested_by,
    dry_run: bool,
    as_of: date | None = None,
    confirmed_preview: RetentionRun | None = None,
):
    """Queue a run from the page and hand it to a worker after the commit.

    A real run names the preview it confirms. The worker skips the run if the
    plan changed between the confirmation and its start.
    """
    from apps.retention.tasks import apply_retention
    from apps.retention.tasks import preview_retention

    run = retention_run_create(
        trigger=RetentionRun.Trigger.PAGE,
        dry_run=dry_run,
        requested_by=requested_by,
        as_of=as_of,
        confirmed_preview=confirmed_preview,
    )
    task = preview_retention if dry_run else apply_retention

    def send():
        try:
            task.delay(run_id=run.pk)
        except QueueUnreachable as error:
            _run_not_queued(run, error)

    transaction.on_commit(send)
    audit_record(
        action="retention.run.requested",
        actor=requested_by,
        target=run,
        details={"dry_run": dry_run, "as_of": run.as_of.isoformat()},
    )
    return run


# Step kinds whose preview needs no cutoff: the rented lists' step selects by
# licence end.
PREVIEWED_WITHOUT_CUTOFF = {StepKind.CONTACTS, StepKind.RENTED_LISTS}


class _StepExecutor:
    """Runs the steps of one run and keeps their counts in ``run.steps``."""

    def __init__(self, *, run, batch_size, pause_seconds, collect_ids, on_batch):
        self.run = run
        self.batch_size = batch_size
        self.pause_seconds = pause_seconds
        self.collect_ids = collect_ids
        self.on_batch = on_batch
        self.ids: dict[str, list[int]] = {}

    def execute(self, step: Step) -> None:
        # A dry run counts under "would_remove" and a real run under "removed",
        # so no summary, log line or page reports a preview as done.
        total_key = "would_remove" if self.run.dry_run else "removed"
        entry = {**step.as_summary(), "status": "running", total_key: 0}
        self.run.steps.append(entry)
        _run_steps_save(self.run)

        if step.restricted_kept is not None:
            restricted = Contact.objects.filter(step.restricted_kept)
            entry["restricted_kept"] = restricted.count()
        if self.run.dry_run:
            self._preview(step, entry)
        elif step.not_applied_reason:
            self._count_not_applied(step, entry)
        elif step.kind == StepKind.CONTACTS:
            self._contacts_apply(step, entry)
        elif step.kind == StepKind.RENTED_LISTS:
            self._rented_lists_apply(step, entry)
        else:
            self._purge_apply(step, entry)

        if entry["status"] == "running":
            entry["status"] = "done"
        with transaction.atomic():
            _run_steps_save(self.run)
            if not self.run.dry_run:
                self._step_audit(step, entry)

    # Dry run ---------------------------------------------------------------

    def _preview(self, step: Step, entry: dict) -> None:
        if step.kind == StepKind.CONTACTS and step.preview is None:
            entry["status"] = "not_applied"
            return
        if step.cutoff is None and step.kind not in PREVIEWED_WITHOUT_CUTOFF:
            entry["status"] = "not_applied"
            return
        if step.kind in (StepKind.CONTACTS, StepKind.RENTED_LISTS):
            due = Contact.objects.filter(step.preview)
            count = due.count()
            entry["due"] = count
            entry["objectors"] = due.filter(
                status__in=[Contact.Status.OBJECTED, Contact.Status.UNSUBSCRIBED]
            ).count()
            if self.collect_ids:
                self.ids[step.key] = list(
                    due.order_by("pk").values_list("pk", flat=True)
                )
            if step.kind == StepKind.RENTED_LISTS:
                # As in the real run: every row of the deleted contacts, and the
                # ended lists' rows of the contacts that stay.
                detached = (
                    Provenance.objects.filter(contact_list_id__in=step.ended_list_ids)
                    .exclude(contact__in=due)
                    .exclude(contact__status=Contact.Status.RESTRICTED)
                )
                erased = Provenance.objects.filter(contact__in=due)
                entry["would_remove_provenances"] = detached.count() + erased.count()
            if step.not_applied_reason:
                entry["status"] = "not_applied"
            else:
                entry["would_remove"] = count
            return
        self._purge_preview(step, entry)

    def _purge_preview(self, step: Step, entry: dict) -> None:
        # A step that cannot be counted has no count, rather than 0.
        purge, argument = _purge_function(step.kind)
        if purge is None:
            entry["status"] = "unavailable"
            entry["would_remove"] = None
            return
        if "dry_run" not in inspect.signature(purge).parameters:
            entry["status"] = "not_previewed"
            entry["would_remove"] = None
            return
        result = purge(
            **{argument: step.cutoff, "dry_run": True, **step.purge_arguments}
        )
        entry.update(_purge_counts(result, dry_run=True))

    # Real run --------------------------------------------------------------

    def _count_not_applied(self, step: Step, entry: dict) -> None:
        entry["status"] = "not_applied"
        if step.due is not None:
            entry["due"] = Contact.objects.filter(step.due).count()
        logger.warning(
            "retention step %s not applied: %s", step.key, step.not_applied_reason
        )

    def _batches(
        self,
        step: Step,
        entry: dict,
        candidates: Callable[[int, int], list[int]],
        apply: Callable[[list[int]], Applied],
    ) -> None:
        """Apply the step to ``candidates(after_id, size)`` ids, a transaction each.

        The candidates are read before the transaction, without locks, by
        keyset on the id: a read that skips many rows that are not due then
        holds no lock. ``apply`` locks those still due and changes them; the
        run's counts are saved in the same transaction.
        """
        after = 0
        size = self.batch_size or BATCH_SIZE
        entry.setdefault("batches", 0)
        entry.setdefault("max_transaction_ms", 0.0)
        while ids := candidates(after, size):
            applied, done, elapsed_ms = self._batch_commit(entry, ids, apply)
            self._remember(step, applied.contact_ids)
            if self.batch_size is None:
                size = next_batch_size(
                    len(done) if done is not ids else size, elapsed_ms
                )
            after = done[-1]
            if self.on_batch is not None:
                self.on_batch(self.run, entry)
            if self.pause_seconds:
                time.sleep(self.pause_seconds)

    def _batch_commit(
        self, entry: dict, ids: list[int], apply: Callable[[list[int]], Applied]
    ) -> tuple[Applied, list[int], float]:
        """Apply one batch in its own transaction.

        Returns what ``apply`` changed, the ids of the batch that was
        committed and the transaction's time in milliseconds. A batch that the
        server cancels at ``BATCH_STATEMENT_TIMEOUT_MS`` rolls back before its
        counts are added, and its first half is tried instead. A batch of one id runs
        without the limit, so the run always moves on.
        """
        while True:
            limit_ms = BATCH_STATEMENT_TIMEOUT_MS if len(ids) > 1 else None
            started = time.perf_counter()
            marks = [started]
            try:
                with _garbage_collection_paused(), transaction.atomic():
                    _commit_without_waiting()
                    # Taken before any row lock, so that waiting for a running
                    # import cannot deadlock with it.
                    contacts_write_lock()
                    marks.append(time.perf_counter())
                    with _statement_time_limit(limit_ms):
                        applied = apply(ids)
                    marks.append(time.perf_counter())
                    self._add_counts(entry, applied.counts)
                    entry["batches"] += 1
                    _run_steps_save(self.run)
                    marks.append(time.perf_counter())
            except OperationalError as error:
                elapsed_ms = (time.perf_counter() - started) * 1000
                if limit_ms is None or not _cancelled_by_time_limit(
                    error, elapsed_ms, limit_ms
                ):
                    raise
                entry["batches_cancelled"] = entry.get("batches_cancelled", 0) + 1
                _longest_transaction_note(entry, elapsed_ms)
                logger.info(
                    "retention batch of %d contacts cancelled after %.1f ms;"
                    " retrying its first %d",
                    len(ids),
                    elapsed_ms,
                    len(ids) // 2,
                )
                ids = ids[: len(ids) // 2]
                continue
            marks.append(time.perf_counter())
            elapsed_ms = (marks[-1] - started) * 1000
            _longest_transaction_note(entry, elapsed_ms)
            if elapsed_ms >= SLOW_TRANSACTION_MS:
                _slow_transaction_log(len(ids), marks)
            return applied, ids, elapsed_ms

    def _add_counts(self, entry: dict, counts: Counter) -> None:
        erased = entry.setdefault("erased", {})
        for key, value in counts.items():
            if key in CONTACT_COUNT_KEYS:
                entry[key] = entry.get(key, 0) + value
            else:
                erased[key] = erased.get(key, 0) + value
        entry["removed"] = entry.get("deleted", 0) + entry.get("anonymised", 0)

    def _contacts_apply(self, step: Step, entry: dict) -> None:
        act = (
            contacts_anonymise
            if step.action == RetentionRule.Action.ANONYMISE
            else contacts_delete
        )

        def candidates(after: int, size: int) -> list[int]:
            due = Contact.objects.filter(step.due, pk__gt=after).order_by("pk")
            return list(due.values_list("pk", flat=True)[:size])

        def apply(ids: list[int]) -> Applied:
            return act(ids=ids, within=Contact.objects.filter(step.due))

        self._batches(step, entry, candidates, apply)

    def _rented_lists_apply(self, step: Step, entry: dict) -> None:
        ended = list(step.ended_list_ids)
        if not ended:
            return

        def candidates(after: int, size: int) -> list[int]:
            # A restricted contact keeps even the rows of an ended list.
            provenances = Provenance.objects.filter(
                contact_list_id__in=ended, contact_id__gt=after
            ).exclude(contact__status=Contact.Status.RESTRICTED)
            return list(
                provenances.order_by("contact_id")
                .values_list("contact_id", flat=True)
                .distinct()[:size]
            )

        def apply(contact_ids: list[int]) -> Applied:
            # The write lock keeps imports from adding provenance meanwhile.
            linked_elsewhere = set(
                Provenance.objects.filter(ids_filter("contact_id", contact_ids))
                .exclude(contact_list_id__in=ended)
                .values_list("contact_id", flat=True)
            )
            applied = contacts_delete(
                ids=[pk for pk in contact_ids if pk not in linked_elsewhere],
                within=Contact.objects.exclude(status__in=STATUSES_KEPT),
            )
            erased = set(applied.contact_ids)
            counts = applied.counts
            counts["provenances_removed"] += provenances_detach(
                contact_ids=[pk for pk in contact_ids if pk not in erased],
                list_ids=ended,
            )
            return Applied(applied.contact_ids, counts)

        self._batches(step, entry, candidates, apply)

    def _remember(self, step: Step, contact_ids: list[int]) -> None:
        if self.collect_ids:
            self.ids.setdefault(step.key, []).extend(contact_ids)

    def _purge_apply(self, step: Step, entry: dict) -> None:
        purge, argument = _purge_function(step.kind)
        if purge is None:
            entry["status"] = "unavailable"
            logger.warning(
                "retention step %s skipped: its purge function is missing", step.key
            )
            return
        with transaction.atomic():
            result = purge(**{argument: step.cutoff, **step.purge_arguments})
        entry.update(_purge_counts(result))

    def _step_audit(self, step: Step, entry: dict) -> None:
        if step.rule_id is not None:
            target = {
                "target_type": "register.retentionrule",
                "target_id": step.rule_id,
            }
        else:
            target = {"target_type": "retention.retentionrun", "target_id": self.run.pk}
        details = {
            key: value for key, value in entry.items() if key not in STEP_WORDING_KEYS
        }
        details["run_id"] = self.run.pk
        audit_record(
            action=f"retention.{step.kind}.applied",
            actor_label=ACTOR_LABEL,
            count=entry.get("removed", 0),
            details=details,
            **target,
        )


def _purge_function(kind: str):
    """Return the other app's purge function and its cutoff argument's name.

    Returns ``(None, name)`` when that app does not provide it yet.
    """
    module_name, function_name, argument = PURGE_FUNCTIONS[kind]
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return None, argument
    return getattr(module, function_name, None), argument


def _purge_counts(result, *, dry_run: bool = False) -> dict:
    """Normalise a purge function's result (a count or a dict of counts).

    A dry run's counts are keyed ``would_purge_<kind>`` and ``would_remove``,
    a real run's ``purged_<kind>`` and ``removed``.
    """
    prefix, total_key = (
        ("would_purge_", "would_remove") if dry_run else ("purged_", "removed")
    )
    if isinstance(result, dict):
        counts = {f"{prefix}{key}": value for key, value in result.items()}
        total = sum(value for value in result.values() if isinstance(value, int))
        return {**counts, total_key: total}
    return {total_key: int(result or 0)}
