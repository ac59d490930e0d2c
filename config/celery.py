"""The Celery application and the schedule of every periodic job."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import after_setup_logger
from celery.signals import after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("registre")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _strip_personal_data(logger, **kwargs):
    """Give the worker's own log handlers the filter that Django's logging has."""
    from apps.core.logging import StripPersonalData

    for handler in logger.handlers:
        handler.addFilter(StripPersonalData())


app.conf.beat_schedule = {
    # Every day at 03:15 (Europe/Paris): apply the register's retention rules.
    "apply-retention": {
        "task": "apps.retention.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 6 * 3600},
    },
    # Every five minutes: breach 72-hour clock alerts and lateness.
    "check-breach-deadlines": {
        "task": "apps.breaches.tasks.check_breach_deadlines",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Every hour at minute 7: subject-request reminders and overdue flags.
    "check-request-deadlines": {
        "task": "apps.subject_requests.tasks.check_request_deadlines",
        "schedule": crontab(minute=7),
        "options": {"expires": 50 * 60},
    },
    # Every hour at minute 37: delete uploaded import files past their period.
    "purge-import-files": {
        "task": "apps.imports.tasks.purge_import_files",
        "schedule": crontab(minute=37),
        "options": {"expires": 50 * 60},
    },
    # Every five minutes: close retention runs that a lost worker left, so
    # the retention page stops calling them running soon after. The check
    # only tries the job's lock, so it costs one query when a run is alive.
    "close-lost-retention-runs": {
        "task": "apps.retention.tasks.close_lost_retention_runs",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Every day at 04:05 (Europe/Paris): delete old one-time form tokens.
    "purge-form-submissions": {
        "task": "apps.core.tasks.purge_form_submissions",
        "schedule": crontab(hour=4, minute=5),
        "options": {"expires": 6 * 3600},
    },
    # Every hour at minute 47: fail campaign exports that a lost worker left.
    "fail-stalled-campaign-exports": {
        "task": "apps.contacts.tasks.fail_stalled_campaign_exports",
        "schedule": crontab(minute=47),
        "options": {"expires": 50 * 60},
    },
}
