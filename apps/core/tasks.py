import logging

from celery import shared_task

from apps.core.submissions import form_submissions_purge

logger = logging.getLogger(__name__)


@shared_task
def purge_form_submissions() -> int:
    """Delete the one-time form tokens past FORM_SUBMISSION_RETENTION_DAYS."""
    deleted = form_submissions_purge()
    logger.info("form submission tokens purged: %d", deleted)
    return deleted
