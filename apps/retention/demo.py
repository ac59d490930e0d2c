"""Demo data of the retention app: a preview of the next run.

The register's demo writes the retention rules and the contacts' demo writes
contacts past their limit and a rented list whose licence has ended, so the
page shows what the next run removes right after ``seed_demo``.
"""

from apps.retention.models import RetentionRun
from apps.retention.policy import local_today
from apps.retention.schedule import next_scheduled_run
from apps.retention.services import retention_apply


def seed_demo(*, password: str, stdout) -> None:
    upcoming = next_scheduled_run()
    as_of = upcoming.local_day if upcoming else local_today()
    if RetentionRun.objects.filter(
        dry_run=True, as_of=as_of, status=RetentionRun.Status.SUCCEEDED
    ).exists():
        stdout.write(f"retention: preview for {as_of} already counted")
        return
    run, _ = retention_apply(
        trigger=RetentionRun.Trigger.COMMAND, dry_run=True, as_of=as_of
    )
    stdout.write(
        f"retention: preview #{run.pk} for {as_of}: "
        f"{run.total_would_remove} records would be deleted or anonymised"
    )
