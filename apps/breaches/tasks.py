"""Celery tasks of the breach register: thin wrappers over the services."""

import logging

from celery import shared_task

from .deadlines import check_deadlines

logger = logging.getLogger(__name__)


@shared_task(name="apps.breaches.tasks.check_breach_deadlines")
def check_breach_deadlines() -> dict:
    """Send the due 72-hour alerts and mark late breaches (beat: every 5 minutes).

    Safe to run twice or on two workers at once, because ``check_deadlines``
    claims each alert with a unique insert.
    """
    counts = check_deadlines()
    logger.info("check_breach_deadlines done: %s", counts)
    return counts
