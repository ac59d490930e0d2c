"""Celery tasks of imports: thin wrappers that take ids and call the services."""

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.imports.services import import_job_run
from apps.imports.services import import_leftovers_purge

logger = logging.getLogger(__name__)


@shared_task
def run_import_job(job_id: int, dry_run: bool = False) -> str:
    """Run one import job; a job already running or finished is left alone."""
    job = import_job_run(job_id=job_id, dry_run=dry_run)
    return job.status if job is not None else "missing"


@shared_task
def purge_import_files() -> dict[str, int]:
    """Delete uploaded files and staged rows older than IMPORT_FILE_RETENTION_HOURS."""
    cutoff = timezone.now() - datetime.timedelta(
        hours=settings.IMPORT_FILE_RETENTION_HOURS
    )
    result = import_leftovers_purge(older_than=cutoff)
    logger.info("import leftovers purged: %s", result)
    return result
