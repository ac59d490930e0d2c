"""When the daily retention run comes next, read from the Celery beat schedule."""

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from django.utils import timezone

from apps.retention.policy import RETENTION_TIME_ZONE

TASK_NAME = "apps.retention.tasks.apply_retention"


@dataclass(frozen=True)
class ScheduledRun:
    """The next run of the job: when, and which beat schedule entry starts it."""

    at: datetime
    entry_name: str

    @property
    def local_day(self) -> date:
        return self.at.astimezone(RETENTION_TIME_ZONE).date()


def next_scheduled_run(now: datetime | None = None) -> ScheduledRun | None:
    """Return the next time beat starts the retention task, or None if unscheduled.

    Reads ``config.celery.app.conf.beat_schedule``, the one place that defines
    every schedule, so the page shows what beat does.
    """
    from config.celery import app

    now = now or timezone.now()
    upcoming = []
    for name, entry in app.conf.beat_schedule.items():
        if entry.get("task") != TASK_NAME:
            continue
        schedule = entry["schedule"]
        if isinstance(schedule, int | float | timedelta):
            # A plain interval: beat runs the task that long after its last run.
            interval = (
                schedule
                if isinstance(schedule, timedelta)
                else timedelta(seconds=schedule)
            )
            upcoming.append(ScheduledRun(at=now + interval, entry_name=name))
            continue
        # remaining_delta() returns the start, the step to the next match and
        # the schedule's clock; start + step is the next run after ``now``.
        start, step, _ = schedule.remaining_delta(now)
        upcoming.append(ScheduledRun(at=start + step, entry_name=name))
    return min(upcoming, key=lambda run: run.at) if upcoming else None
