"""Deadline reminders and overdue flags for open subject-rights requests.

Reminders go before the due date (7 days and 2 days ahead) and once overdue.
Each one is claimed by inserting its ``ReminderSent`` row inside the
transaction that sends the mail. A second worker running at the same time
blocks on the unique key until that transaction ends. Its insert then fails and
it skips the reminder, so no reminder is sent twice. A mail failure rolls the
claim back so the next run retries.
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.core.audit import audit_record
from apps.core.dates import format_date
from apps.subject_requests.dates import today_local
from apps.subject_requests.models import ReminderSent
from apps.subject_requests.models import SubjectRequest

logger = logging.getLogger(__name__)

REMINDER_DAYS_BEFORE = (2, 7)
OVERDUE = "overdue"


def reminder_kind(days_left: int) -> str | None:
    """Return the reminder due for a request with ``days_left``, if any."""
    if days_left < 0:
        return OVERDUE
    for days in REMINDER_DAYS_BEFORE:
        if days_left <= days:
            return f"due_in_{days}_days"
    return None


def _recipients(request: SubjectRequest) -> list[str]:
    recipients = list(settings.DPO_ALERT_EMAILS)
    if request.handler and request.handler.email:
        recipients.append(request.handler.email)
    return sorted(set(recipients))


def _send(
    request: SubjectRequest, kind: str, days_left: int, recipients: list[str]
) -> None:
    url = settings.SITE_URL + reverse(
        "subject_requests:request-detail", args=[request.pk]
    )
    if kind == OVERDUE:
        subject = _("Overdue: subject request %(ref)s was due on %(date)s")
    else:
        subject = _("Reminder: subject request %(ref)s is due on %(date)s")
    due_on = format_date(request.due_on)
    subject = subject % {"ref": request.reference, "date": due_on}
    if days_left < 0:
        body = ngettext(
            "Request %(ref)s (%(kind)s) was due on %(date)s, %(days)s day ago."
            "\n\nOpen it: %(url)s",
            "Request %(ref)s (%(kind)s) was due on %(date)s, %(days)s days ago."
            "\n\nOpen it: %(url)s",
            -days_left,
        )
    elif days_left == 0:
        body = _(
            "Request %(ref)s (%(kind)s) is due today, %(date)s.\n\nOpen it: %(url)s"
        )
    else:
        body = ngettext(
            "Request %(ref)s (%(kind)s) is due on %(date)s, %(days)s day from "
            "today.\n\nOpen it: %(url)s",
            "Request %(ref)s (%(kind)s) is due on %(date)s, %(days)s days from "
            "today.\n\nOpen it: %(url)s",
            days_left,
        )
    body = body % {
        "ref": request.reference,
        "kind": request.get_kind_display(),
        "date": due_on,
        "days": abs(days_left),
        "url": url,
    }
    send_mail(subject, body, None, recipients)


def _claim_and_send(
    request: SubjectRequest, kind: str, days_left: int, recipients: list[str]
) -> bool:
    try:
        with transaction.atomic():
            ReminderSent.objects.create(
                request=request, kind=kind, due_on=request.due_on
            )
            _send(request, kind, days_left, recipients)
    except IntegrityError:
        return False
    return True


def _flag_overdue(request: SubjectRequest, now: datetime.datetime) -> bool:
    changed = SubjectRequest.objects.filter(
        pk=request.pk, overdue_flagged_at__isnull=True
    ).update(overdue_flagged_at=now)
    if changed:
        audit_record(
            action="subject_requests.request.overdue",
            actor_label="check_deadlines",
            target=request,
            details={"due_on": request.due_on.isoformat()},
        )
    return bool(changed)


def check_deadlines(*, now: datetime.datetime | None = None) -> dict:
    """Send due reminders and flag overdue requests; return the counts."""
    now = now or timezone.now()
    today = today_local(now)
    horizon = today + datetime.timedelta(days=max(REMINDER_DAYS_BEFORE))
    requests = SubjectRequest.objects.filter(
        status__in=SubjectRequest.OPEN_STATUSES, due_on__lte=horizon
    ).select_related("handler")

    summary = {
        "checked": 0,
        "reminders_sent": 0,
        "reminders_without_recipient": 0,
        "reminders_failed": 0,
        "overdue": 0,
        "newly_overdue": 0,
    }
    for request in requests:
        summary["checked"] += 1
        days_left = (request.due_on - today).days
        kind = reminder_kind(days_left)
        if kind == OVERDUE:
            summary["overdue"] += 1
            summary["newly_overdue"] += _flag_overdue(request, now)
        if kind is None:
            continue
        recipients = _recipients(request)
        if not recipients:
            # Nothing is claimed, so the reminder goes out once someone sets
            # DPO_ALERT_EMAILS or gives the handler an e-mail address.
            summary["reminders_without_recipient"] += 1
            logger.warning(
                "subject request %s reminder %s has no recipient", request.pk, kind
            )
            continue
        try:
            sent = _claim_and_send(request, kind, days_left, recipients)
        except (smtplib.SMTPException, OSError):
            # The claim rolled back with the failed mail, so the next run
            # tries again; the other requests still get their reminders.
            summary["reminders_failed"] += 1
            logger.exception(
                "subject request %s reminder %s failed to send", request.pk, kind
            )
            continue
        if sent:
            summary["reminders_sent"] += 1
            logger.info("subject request %s reminder %s sent", request.pk, kind)
    return summary
