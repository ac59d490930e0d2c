"""Benchmark the retention job against a single-statement DELETE of the same rows.

Creates the database ``registre_bench_retention``, seeds ``--contacts``
invented contacts of which ``--past-limit`` are past the 3-year limit (with
``bench/seed.py``), copies it twice with ``CREATE DATABASE ... TEMPLATE``, then
measures in one run:

- baseline: one SQL statement deleting the due contacts with their provenance
  and consent rows (one transaction that holds its locks for the whole run);
- the retention job deleting the same contacts (rule action ``delete``), in
  keyset batches of one transaction each, through the real service;
- the retention job anonymising them (rule action ``anonymise``) on a copy.

Each run starts after a ``CHECKPOINT``, so that the setup's writes do not
fall on it.

``--batch-sizes`` takes fixed sizes and ``auto``, the job's default, which
sizes each batch from the duration of the one before. Each gets its own pair of
job runs, on copies of its own.

It prints the throughput of each, the ratio of the job's deletion throughput
to the baseline's, the longest batch transaction and the process memory
(resident set) sampled during the runs, then drops every database it made
unless ``--keep`` is given::

    .venv/bin/python bench/retention.py --contacts 500000 --past-limit 100000

``BENCH_SERVER_URL`` points it at another PostgreSQL server than
``postgres://postgres@127.0.0.1:5432``, for instance one started with the
settings of the production stack (``docker-compose.yml``).
"""

import argparse
import gc
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATABASE = "registre_bench_retention"
SINGLE_COPY = f"{DATABASE}_single"
SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")

os.environ["DATABASE_URL"] = f"{SERVER_URL}/{DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402
import psycopg  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db import connections  # noqa: E402

from apps.register.models import RetentionRule  # noqa: E402
from apps.retention.policy import local_today  # noqa: E402
from apps.retention.services import retention_apply  # noqa: E402
from bench.seed import seed_contacts  # noqa: E402


def rss_megabytes() -> float:
    """Return this process's resident set size in MiB (Linux /proc)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _server(sql: str) -> None:
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as server:
        server.execute(sql)


def databases_create(batch_sizes) -> None:
    databases_drop(batch_sizes)
    _server(f'CREATE DATABASE "{DATABASE}"')


AUTO = "auto"


def job_copies(batch_size: int | None) -> dict[str, str]:
    """Return the names of the databases the job runs of one batch size use."""
    label = batch_size or AUTO
    return {
        "delete": f"{DATABASE}_delete_{label}",
        "anonymise": f"{DATABASE}_anonymise_{label}",
    }


def databases_drop(batch_sizes=()) -> None:
    names = [DATABASE, SINGLE_COPY]
    for batch_size in batch_sizes:
        names.extend(job_copies(batch_size).values())
    for name in names:
        _server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_use(name: str) -> None:
    connections.close_all()
    connection.settings_dict["NAME"] = name


def seed(contacts: int, past_limit: int) -> int:
    """Migrate, seed and add the prospect rule; return the rule's id."""
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    summary = seed_contacts(
        connection, count=contacts, past_limit=past_limit, defer_indexes=True
    )
    rule = RetentionRule.objects.create(
        activity_id=summary.activity_id,
        data_category="Coordonnées des prospects (banc)",
        record_type=RetentionRule.RecordType.CONTACT,
        duration=3,
        unit=RetentionRule.Unit.YEARS,
        start_event=RetentionRule.StartEvent.COLLECTION_OR_LAST_CONTACT,
        action=RetentionRule.Action.DELETE,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded {summary.contacts:,} contacts, {summary.provenances:,} provenance "
        f"rows, {summary.consents:,} consents in {time.perf_counter() - started:.0f} s"
    )
    return rule.pk


def copies_create(batch_sizes) -> None:
    connections.close_all()
    names = [SINGLE_COPY]
    for batch_size in batch_sizes:
        names.extend(job_copies(batch_size).values())
    # FILE_COPY copies the files between two checkpoints. PostgreSQL 15's
    # default, WAL_LOG, writes every copied page to the WAL, and the
    # checkpoints that so many gigabytes start would fall on the measured runs.
    for name in names:
        _server(f'CREATE DATABASE "{name}" TEMPLATE "{DATABASE}" STRATEGY = FILE_COPY')


def settle() -> None:
    """Write the dirty pages left by the setup or the run before to disk.

    Each measured run then starts from the same state, and a checkpoint
    during it comes from its own writes only.
    """
    _server("CHECKPOINT")


def single_statement_delete(rule_id: int) -> tuple[int, float]:
    """Delete the due contacts and their rows in one statement.

    Restricted contacts stay, as the job keeps them. Returns the number of
    contacts deleted and the seconds the statement took.
    """
    rule = RetentionRule.objects.get(pk=rule_id)
    run_plan_cutoff = _cutoff(rule)
    due = (
        "SELECT id FROM contacts_contact WHERE processing_activity_id = %(activity)s "
        "AND status NOT IN ('anonymised', 'restricted') AND collected_at < %(cutoff)s "
        "AND (last_contact_at IS NULL OR last_contact_at < %(cutoff)s)"
    )
    statement = (
        f"WITH due AS ({due}), "
        "provenances AS (DELETE FROM contacts_provenance "
        "WHERE contact_id IN (SELECT id FROM due)), "
        "consents AS (DELETE FROM contacts_consentrecord "
        "WHERE contact_id IN (SELECT id FROM due)) "
        "DELETE FROM contacts_contact WHERE id IN (SELECT id FROM due)"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            statement, {"activity": rule.activity_id, "cutoff": run_plan_cutoff}
        )
        deleted = cursor.rowcount
    return deleted, time.perf_counter() - started


def _cutoff(rule):
    from apps.retention.policy import rule_duration
    from apps.retention.policy import start_cutoff

    return start_cutoff(duration=rule_duration(rule), as_of=local_today())


class BatchSampler:
    """Sample the resident set size every ``every`` batches, and time each batch.

    A batch's time runs from the end of the one before to its own end, so it
    includes reading its candidates before the transaction: an upper bound of
    the transaction's time, which the service measures alone.
    """

    def __init__(self, every: int = 50):
        self.every = every
        self.batches = 0
        self.samples: list[float] = []
        self.batch_ms: list[float] = []
        self.batch_contacts: list[int] = []
        self._last = time.perf_counter()
        self._done = 0
        self._longest_transaction_ms = 0.0
        # Batches whose transaction set a new longest time, with that time.
        self.longest_transactions: list[tuple[int, float]] = []

    def __call__(self, run, entry) -> None:
        now = time.perf_counter()
        self.batch_ms.append((now - self._last) * 1000)
        self._last = now
        longest = entry.get("max_transaction_ms", 0.0)
        if longest > self._longest_transaction_ms:
            self._longest_transaction_ms = longest
            self.longest_transactions.append((self.batches + 1, longest))
        done = entry.get("deleted", 0) + entry.get("anonymised", 0)
        self.batch_contacts.append(done - self._done)
        self._done = done
        self.batches += 1
        if self.batches % self.every == 1:
            self.samples.append(rss_megabytes())


class GarbageCollectionTimer:
    """Time the collections of Python's cyclic garbage collector during a run."""

    def __init__(self):
        self.pauses_ms: list[float] = []
        self._started = None

    def __call__(self, phase, info) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.pauses_ms.append((time.perf_counter() - self._started) * 1000)
            self._started = None

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc_info):
        gc.callbacks.remove(self)


class SlowTransactionLog(logging.Handler):
    """Keep the job's log lines about batch transactions over 50 ms."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []

    def emit(self, record) -> None:
        message = record.getMessage()
        if message.startswith("retention batch of") and " took " in message:
            self.lines.append(message)

    def __enter__(self):
        services_logger = logging.getLogger("apps.retention.services")
        self._level = services_logger.level
        services_logger.setLevel(logging.INFO)
        services_logger.addHandler(self)
        return self

    def __exit__(self, *exc_info):
        services_logger = logging.getLogger("apps.retention.services")
        services_logger.removeHandler(self)
        services_logger.setLevel(self._level)


def checkpoints() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
        )
        return cursor.fetchone()[0]


def job_run(rule_id: int, action: str, batch_size: int | None) -> dict:
    """Run the retention job with the rule's action set; return its figures."""
    RetentionRule.objects.filter(pk=rule_id).update(action=action)
    sampler = BatchSampler()
    checkpoints_before = checkpoints()
    started = time.perf_counter()
    with GarbageCollectionTimer() as collections, SlowTransactionLog() as slow:
        run, _ = retention_apply(
            trigger="command", on_batch=sampler, batch_size=batch_size
        )
    elapsed = time.perf_counter() - started
    step = next(step for step in run.steps if step.get("rule_id") == rule_id)
    if run.status != "succeeded":
        raise SystemExit(f"the retention run failed: {run.error}")
    batch_ms = sorted(sampler.batch_ms)
    slowest = sampler.batch_ms.index(batch_ms[-1]) if batch_ms else 0
    return {
        "count": step.get("deleted", 0) + step.get("anonymised", 0),
        "seconds": elapsed,
        "batches": step.get("batches", 0),
        "batches_cancelled": step.get("batches_cancelled", 0),
        "max_transaction_ms": step.get("max_transaction_ms", 0.0),
        "batch_p99_ms": batch_ms[int(len(batch_ms) * 0.99)] if batch_ms else 0.0,
        "batches_over_50_ms": sum(1 for value in batch_ms if value >= 50),
        "slowest_batch": slowest + 1,
        "slowest_contacts": sampler.batch_contacts[slowest] if batch_ms else 0,
        "checkpoints": checkpoints() - checkpoints_before,
        "rss_first": sampler.samples[0] if sampler.samples else 0.0,
        "rss_max": max(sampler.samples, default=0.0),
        "rss_last": sampler.samples[-1] if sampler.samples else 0.0,
        "suppressed": step.get("suppressed", 0),
        "collections": len(collections.pauses_ms),
        "longest_collection_ms": max(collections.pauses_ms, default=0.0),
        "longest_transactions": sampler.longest_transactions[-3:],
        "slow_transactions": slow.lines,
    }


def _report(label: str, figures: dict) -> None:
    rate = figures["count"] / figures["seconds"]
    print(
        f"{label}: {figures['count']:,} contacts in {figures['seconds']:.1f} s "
        f"= {rate:,.0f}/s; {figures['batches']} batches of "
        f"{figures['count'] / max(figures['batches'], 1):,.0f} contacts on average, "
        f"mean {figures['seconds'] * 1000 / max(figures['batches'], 1):.1f} ms, "
        f"longest transaction {figures['max_transaction_ms']:.1f} ms; "
        f"RSS {figures['rss_first']:.0f} -> "
        f"{figures['rss_max']:.0f} (max) -> {figures['rss_last']:.0f} MiB"
    )
    print(
        f"  batches with their id reading: p99 {figures['batch_p99_ms']:.1f} ms, "
        f"{figures['batches_over_50_ms']} of {figures['batches']} at 50 ms or more, "
        f"slowest is batch {figures['slowest_batch']} "
        f"({figures['slowest_contacts']:,} contacts); "
        f"{figures['checkpoints']} checkpoints during the run; "
        f"{figures['collections']} garbage collections, the longest "
        f"{figures['longest_collection_ms']:.1f} ms"
    )
    records = ", ".join(
        f"batch {batch} ({milliseconds:.1f} ms)"
        for batch, milliseconds in figures["longest_transactions"]
    )
    print(f"  last three batches that set the longest transaction: {records}")
    print(
        f"  batches cancelled by the statement time limit and retried smaller: "
        f"{figures['batches_cancelled']}"
    )
    slow = figures["slow_transactions"]
    print(f"  transactions of 50 ms or more: {len(slow)}")
    for line in sorted(slow, key=_took_ms, reverse=True)[:5]:
        print(f"    {line}")


def _took_ms(line: str) -> float:
    return float(line.split(" took ")[1].split(" ms")[0])


def _batch_sizes(value: str) -> list[int | None]:
    try:
        sizes = [None if part == AUTO else int(part) for part in value.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min((size or 1) for size in sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"{value!r} is invalid: give positive integers or {AUTO} separated "
            "by commas, such as auto,1000,250."
        )
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--past-limit", type=int, default=100_000)
    parser.add_argument(
        "--batch-sizes",
        type=_batch_sizes,
        default=[None],
        help=f"Contacts per job transaction, comma-separated to compare several "
        f"(default {AUTO}: the job's own sizing).",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the databases after the run."
    )
    options = parser.parse_args()
    if not 0 < options.past_limit <= options.contacts:
        parser.error(
            f"--past-limit {options.past_limit} is invalid: use 1 to --contacts "
            f"({options.contacts})."
        )
    batch_sizes = options.batch_sizes

    databases_create(batch_sizes)
    try:
        rule_id = seed(options.contacts, options.past_limit)
        copies_create(batch_sizes)
        print(f"load average before the runs: {os.getloadavg()}")

        database_use(SINGLE_COPY)
        settle()
        deleted, seconds = single_statement_delete(rule_id)
        baseline = deleted / seconds
        print(
            f"single DELETE statement: {deleted:,} contacts in {seconds:.1f} s "
            f"= {baseline:,.0f}/s, one transaction of {seconds * 1000:,.0f} ms"
        )

        for batch_size in batch_sizes:
            label = batch_size or AUTO
            copies = job_copies(batch_size)
            database_use(copies["delete"])
            settle()
            deletion = job_run(rule_id, RetentionRule.Action.DELETE, batch_size)
            _report(f"retention job, delete, batch {label}", deletion)

            database_use(copies["anonymise"])
            settle()
            anonymisation = job_run(rule_id, RetentionRule.Action.ANONYMISE, batch_size)
            _report(f"retention job, anonymise, batch {label}", anonymisation)

            deletion_rate = deletion["count"] / deletion["seconds"]
            anonymisation_rate = anonymisation["count"] / anonymisation["seconds"]
            print(
                f"batch {label}: deletion ratio to the single statement "
                f"{deletion_rate / baseline:.2f} (target >= 0.60); anonymisation "
                f"{anonymisation_rate:,.0f}/s (target >= 35,000/s), ratio to the "
                f"single DELETE {anonymisation_rate / baseline:.2f}"
            )
            longest = max(
                deletion["max_transaction_ms"], anonymisation["max_transaction_ms"]
            )
            print(
                f"batch {label}: longest transaction {longest:.1f} ms (target < 50 ms)"
            )
        print(f"load average after the runs: {os.getloadavg()}")
    finally:
        connections.close_all()
        if not options.keep:
            databases_drop(batch_sizes)


if __name__ == "__main__":
    main()
