"""Celery tasks of the retention job: thin wrappers around the services."""

import logging

from celery import shared_task

from apps.retention.models import RetentionRun
from apps.retention.schedule import next_scheduled_run
from apps.retention.services import retention_apply
from apps.retention.services import retention_run_execute
from apps.retention.services import retention_runs_lost_close

logger = logging.getLogger(__name__)


@shared_task(name="apps.retention.tasks.apply_retention")
def apply_retention(run_id: int | None = None) -> dict:
    """Apply the retention rules, then refresh the preview of the next run.

    The daily schedule passes no id and a new run is created; the retention
    page queues a run and passes its id. A run already claimed is left alone,
    so a task delivered twice does nothing the second time.
    """
    if run_id is None:
        run, _ = retention_apply(trigger=RetentionRun.Trigger.SCHEDULE)
    else:
        run = RetentionRun.objects.filter(pk=run_id).first()
        if run is None:
            logger.warning("retention run %s no longer exists", run_id)
            return {"run_id": run_id, "status": "missing"}
        if run.status != RetentionRun.Status.QUEUED:
            logger.info("retention run %s is %s; nothing to do", run_id, run.status)
            return {"run_id": run.pk, "status": run.status}
        run, _ = retention_run_execute(run_id=run_id)

    if run.status == RetentionRun.Status.SUCCEEDED:
        upcoming = next_scheduled_run()
        retention_apply(
            trigger=run.trigger,
            dry_run=True,
            as_of=upcoming.local_day if upcoming else None,
        )
    return {"run_id": run.pk, "status": run.status, "removed": run.total_removed}


@shared_task(name="apps.retention.tasks.preview_retention")
def preview_retention(run_id: int) -> dict:
    """Execute a queued dry run (the preview of the next run)."""
    if not RetentionRun.objects.filter(pk=run_id).exists():
        logger.warning("retention preview %s no longer exists", run_id)
        return {"run_id": run_id, "status": "missing"}
    run, _ = retention_run_execute(run_id=run_id)
    return {
        "run_id": run.pk,
        "status": run.status,
        "would_remove": run.total_would_remove,
    }


@shared_task(name="apps.retention.tasks.close_lost_retention_runs")
def close_lost_retention_runs() -> dict:
    """Mark as interrupted the runs whose worker died (hourly beat task)."""
    return {"interrupted": retention_runs_lost_close()}
