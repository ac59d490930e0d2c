from celery import shared_task

from apps.subject_requests.deadlines import check_deadlines


@shared_task(name="apps.subject_requests.tasks.check_request_deadlines")
def check_request_deadlines() -> dict:
    """Send due reminders and flag overdue requests; safe to run twice."""
    return check_deadlines()
