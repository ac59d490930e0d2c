import argparse
import json
from datetime import date

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from apps.retention.models import RetentionRun
from apps.retention.selectors import run_steps_by_activity
from apps.retention.services import BATCH_SIZE
from apps.retention.services import BATCH_TARGET_MS
from apps.retention.services import RetentionError
from apps.retention.services import retention_apply


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date: write it as YYYY-MM-DD."
        ) from error


class Command(BaseCommand):
    help = (
        "Apply the register's retention rules: delete or anonymise the contacts "
        "past their limit, drop rented lists whose licence has ended, purge closed "
        "subject requests, breach records and import leftovers. Prints a JSON "
        "summary per activity and rule with counts. Exits with status 1 when the "
        "run fails or is skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what the run would remove, and change nothing.",
        )
        parser.add_argument(
            "--as-of",
            type=_day,
            default=None,
            help="Apply the limits as on this day (YYYY-MM-DD, Europe/Paris); "
            "default today. A later day needs --dry-run: it previews a later run.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Contacts per transaction. By default the first batch has "
            f"{BATCH_SIZE} and each later one is sized to take about "
            f"{BATCH_TARGET_MS:.0f} ms.",
        )
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="Seconds to sleep between batches, to leave room to other "
            "database work (default 0).",
        )
        parser.add_argument(
            "--ids",
            action="store_true",
            help="Also print the contact ids removed (or that would be removed, "
            "with --dry-run) per step. For small data: the list can be long.",
        )

    def handle(self, *args, dry_run, as_of, batch_size, pause, ids, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError(f"--batch-size {batch_size} is invalid: use 1 or more.")
        if pause < 0:
            raise CommandError(f"--pause {pause:g} is invalid: use 0 or more seconds.")
        try:
            run, listed_ids = retention_apply(
                trigger=RetentionRun.Trigger.COMMAND,
                dry_run=dry_run,
                as_of=as_of,
                batch_size=batch_size,
                pause_seconds=pause,
                collect_ids=ids,
            )
        except RetentionError as error:
            raise CommandError(str(error)) from error

        summary = {
            "run_id": run.pk,
            "dry_run": run.dry_run,
            "as_of": run.as_of.isoformat(),
            "status": run.status,
        }
        if run.dry_run:
            summary["would_remove"] = run.total_would_remove
        else:
            summary["removed"] = run.total_removed
        summary["activities"] = run_steps_by_activity(run, for_page=False)
        if ids:
            summary["contact_ids"] = listed_ids
        self.stdout.write(json.dumps(summary, indent=2, default=str))
        if run.status != RetentionRun.Status.SUCCEEDED:
            raise CommandError(
                f"Retention run {run.pk} ended with status {run.status}: "
                f"{run.error or 'see the log'}"
            )
