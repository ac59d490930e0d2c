"""Reading a job's file into the staging table while its merge runs.

``StagingFeed`` stages the file and hands the merge the ranges of rows that
are staged and classified, in file order. On PostgreSQL, when the caller
is not inside a transaction, a thread reads the file with its own
database connection and commits chunk by chunk. Meanwhile the caller's
transaction merges the ranges already committed, so the database inserts
contacts on one core while Python reads and normalises the next rows on
the other. Otherwise (SQLite, or a caller already inside a transaction,
such as a test) the whole file is staged first on the caller's connection
and handed over in the same ranges.
"""

import logging
import queue
import threading
from collections.abc import Iterator

from django.conf import settings
from django.db import OperationalError
from django.db import connection
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils import translation

from apps.imports import pipeline
from apps.imports.models import ImportJob
from apps.imports.readers import FileReader

logger = logging.getLogger(__name__)

# Maximum wait of the staging thread for a table or row lock. Another
# import's merge locks the staging table for its last statements and commit,
# about 7 s for a file of a million rows on the benchmark machine.
STAGING_LOCK_TIMEOUT = "5min"
# Spreadsheets do not say how many rows they hold, so their progress creeps
# towards the end, halving the remaining distance every this many rows.
CREEP_ROWS = 50_000


# Messages from the staging to the merge: ("range", (first_row, last_row,
# rows staged so far)), ("done", rows staged) or ("error", exception).


class StagingStopped(Exception):
    """The merge failed, so the staging thread stopped reading the file."""


class StagingFeed:
    """Stages ``rows`` of ``job`` and yields the ranges ready to merge.

    Use it as a context manager around the merge transaction and iterate
    over it inside that transaction. Leaving the context stops and waits
    for the staging thread, so no thread outlives a failed merge. An error
    of the staging (an unreadable row, a lost connection) is raised by the
    iteration, in the caller's thread.
    """

    def __init__(self, *, job: ImportJob, reader: FileReader, rows: Iterator[tuple]):
        self.job = job
        self.reader = reader
        self.rows = rows
        self.threaded = pipeline.set_based() and not connection.in_atomic_block
        self.staged = 0
        self.merged = 0
        self.total: int | None = None
        self._messages: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "StagingFeed":
        pipeline.staging_clear(self.job.pk)
        return self

    def _start(self) -> None:
        """Start staging the file, once the merge holds the contacts write lock.

        Staging classifies each row against the contacts and the suppression
        list as committed, so it must not begin while another import or an
        erasure could still change them.
        """
        if self.threaded:
            self._thread = threading.Thread(
                target=self._stage_in_thread,
                name=f"import-{self.job.pk}-staging",
                daemon=True,
            )
            self._thread.start()
        else:
            try:
                self._stage()
            except BaseException:
                self.reader.close()
                raise

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.reader.close()

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Yield ``(first_row, last_row)`` ranges to merge, in file order.

        In the threaded mode the ranges that are waiting are joined into
        one, so that a merge slower than the reading runs fewer, larger
        statements.
        """
        self._start()
        pending = None
        while True:
            kind, value = pending or self._messages.get()
            pending = None
            if kind == "error":
                raise value
            if kind == "done":
                return
            first_row, last_row, staged = value
            while self.threaded and not self._messages.empty():
                following = self._messages.get()
                if following[0] != "range":
                    pending = following
                    break
                _first, last_row, staged = following[1]
            yield first_row, last_row
            self.merged = staged
            self._report_merge()

    def _stage_in_thread(self) -> None:
        try:
            with connection.cursor() as cursor:
                # The merge transaction waits for this thread in Python, where
                # PostgreSQL's deadlock detector cannot see it. A lock that
                # waits on the merge (a TRUNCATE of contacts, say) would hang
                # both for good, so the timeout fails the job instead.
                cursor.execute("SET lock_timeout = %s", [STAGING_LOCK_TIMEOUT])
            with translation.override(self.job.language or settings.LANGUAGE_CODE):
                self._stage()
        except BaseException as error:  # noqa: BLE001 (handed to the caller)
            self._messages.put(("error", error))
        finally:
            connection.close()

    def _stage(self) -> None:
        total = pipeline.stage_rows(
            job_id=self.job.pk, rows=self._rows_until_stopped(), on_chunk=self._staged
        )
        ImportJob.objects.filter(pk=self.job.pk).update(
            staged=True, row_count=total, rows_read=total
        )
        self.total = total
        self._messages.put(("done", total))

    def _rows_until_stopped(self) -> Iterator[tuple]:
        for index, row in enumerate(self.rows):
            if index % 1000 == 0 and self._stop.is_set():
                raise StagingStopped
            yield row

    def _staged(self, first_row: int, last_row: int, total: int) -> None:
        self.staged = total
        self._messages.put(("range", (first_row, last_row, total)))
        ImportJob.objects.filter(pk=self.job.pk).update(
            rows_read=total,
            progress=Greatest(F("progress"), self.progress()),
            heartbeat_at=timezone.now(),
        )

    def progress(self) -> int:
        """Return the progress in percent: reading and merging weigh half each."""
        if self.total is not None:
            expected = self.total
        else:
            fraction = self.reader.fraction_read()
            if fraction is None:
                fraction = 1 - 1 / (1 + self.staged / CREEP_ROWS)
            expected = self.staged / fraction if fraction else 0
        if not expected:
            return 0
        share = (self.staged + self.merged) / (2 * expected)
        return int(99 * min(share, 1.0))

    def _report_merge(self) -> None:
        """Save the progress and heartbeat from a short thread of its own.

        The merge transaction keeps its own writes invisible until the end,
        so the thread writes with its own connection and transaction.
        Without it a long merge would look stalled and could be cancelled
        while it runs.
        """
        if connection.vendor != "postgresql":
            # SQLite allows one writer at a time: a second connection would
            # wait for the merge's own transaction.
            return
        thread = threading.Thread(
            target=progress_write, args=(self.job.pk, self.progress())
        )
        thread.start()
        thread.join()


def heartbeat_write(job_id: int) -> None:
    """Save the job's heartbeat from a thread of its own, so that it is seen
    while the caller's transaction is still open (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    thread = threading.Thread(target=progress_write, args=(job_id, 0))
    thread.start()
    thread.join()


def progress_write(job_id: int, progress: int) -> None:
    # The lock timeout guarantees that the merge, which waits for this
    # thread, cannot deadlock on a lock that it holds itself.
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            ImportJob.objects.filter(pk=job_id).update(
                progress=Greatest(F("progress"), progress),
                heartbeat_at=timezone.now(),
            )
    except OperationalError as error:
        logger.warning(
            "import job %s: progress not saved (%s)", job_id, type(error).__name__
        )
    finally:
        connection.close()
