"""Celery tasks of imports: thin wrappers that take ids and call the services."""

import datetime
import logging

from billiard.exceptions import WorkerLostError
from celery import shared_task
from celery.signals import task_failure
from django.conf import settings
from django.utils import timezone

from apps.imports.services import import_job_run
from apps.imports.services import import_job_worker_lost
from apps.imports.services import import_leftovers_purge

logger = logging.getLogger(__name__)


@shared_task
def run_import_job(job_id: int, dry_run: bool = False) -> str:
    """Run one import job; a job already running or finished is left alone."""
    job = import_job_run(job_id=job_id, dry_run=dry_run)
    return job.status if job is not None else "missing"


@task_failure.connect
def _worker_lost(sender=None, exception=None, args=None, kwargs=None, **extra):
    """Stop the job of a worker process that died, so it can be resumed at once.

    Celery sends ``task_failure`` from the worker's main process when a pool
    process is killed (``WorkerLostError``). Other failures are recorded by
    ``import_job_run`` itself.
    """
    # Connected to every task, because ``run_import_job`` is a proxy object,
    # not the task instance that Celery passes as the signal's sender.
    if getattr(sender, "name", None) != run_import_job.name:
        return
    if not isinstance(exception, WorkerLostError):
        return
    arguments = dict(zip(("job_id", "dry_run"), args or (), strict=False))
    arguments.update(kwargs or {})
    import_job_worker_lost(
        job_id=arguments["job_id"], dry_run=arguments.get("dry_run", False)
    )


@shared_task
def purge_import_files() -> dict[str, int]:
    """Delete uploaded files and staged rows older than IMPORT_FILE_RETENTION_HOURS."""
    cutoff = timezone.now() - datetime.timedelta(
        hours=settings.IMPORT_FILE_RETENTION_HOURS
    )
    result = import_leftovers_purge(older_than=cutoff)
    logger.info("import leftovers purged: %s", result)
    return result
