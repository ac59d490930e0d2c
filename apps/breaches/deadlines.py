"""The 72-hour clock: alerts before the notification deadline and lateness.

Each alert is a ``BreachAlert`` row with a unique (breach, threshold) pair.
A run claims an alert by inserting its row inside a transaction that also
sends the e-mail. When two runs overlap, the second insert waits on the
unique index until the first transaction ends. It then fails, and that run
sends nothing. If the e-mail fails, the transaction rolls back and the next
run tries again.

Missed runs: when several thresholds are due at once (the job did not run for
a while, or a breach was recorded late), only the most urgent one is e-mailed.
The less urgent ones are recorded as superseded, so they are never sent
later, because "48 hours left" is false once 5 hours are left.
"""

import logging
from datetime import datetime
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError
from django.db import transaction
from django.db.models import Exists
from django.db.models import OuterRef
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.audit import audit_record
from apps.core.dates import format_datetime
from apps.core.models import Organisation

from .clock import time_left_text
from .models import Breach
from .models import BreachAlert
from .models import BreachEvent

# The audit trail's actor for the alerts and lateness that the clock records.
CLOCK_ACTOR = "breach deadline check"

logger = logging.getLogger(__name__)

Threshold = BreachAlert.Threshold

# Alert thresholds from least to most urgent, with the time left that makes
# each one due.
THRESHOLDS = (
    (Threshold.HOURS_48, timedelta(hours=48)),
    (Threshold.HOURS_24, timedelta(hours=24)),
    (Threshold.HOURS_6, timedelta(hours=6)),
    (Threshold.PASSED, timedelta(0)),
)
EARLIEST_ALERT = THRESHOLDS[0][1]
ACTOR_LABEL = "check_breach_deadlines"


def alert_recipients() -> list[str]:
    """Return ``DPO_ALERT_EMAILS`` and the organisation's DPO e-mail, once each."""
    recipients = list(settings.DPO_ALERT_EMAILS)
    dpo_email = Organisation.current().dpo_email
    if dpo_email:
        recipients.append(dpo_email)
    return list(dict.fromkeys(address.strip() for address in recipients if address))


def due_thresholds(*, breach: Breach, now: datetime) -> list[str]:
    """Return the thresholds already reached at ``now``, least urgent first."""
    time_left = breach.deadline_at - now
    return [threshold for threshold, limit in THRESHOLDS if time_left <= limit]


def _clock_breaches(now: datetime):
    """Return the breaches whose clock runs and whose first alert is due.

    A breach already marked late with its last alert sent has nothing left to
    do, so it is left out even though its clock still runs.
    """
    passed_alert = BreachAlert.objects.filter(
        breach=OuterRef("pk"), threshold=Threshold.PASSED
    )
    return (
        Breach.objects.filter(
            status=Breach.Status.OPEN,
            notified_at__isnull=True,
            deadline_at__lte=now + EARLIEST_ALERT,
        )
        .exclude(notification_decision=Breach.NotificationDecision.NOT_REQUIRED)
        .exclude(Q(late_at__isnull=False) & Exists(passed_alert))
        .prefetch_related("alerts")
        .order_by("deadline_at")
    )


def _alert_message(breach: Breach, threshold: str, now: datetime) -> tuple[str, str]:
    # Alerts go to mailboxes, not to a user with a chosen language, so they use
    # the site's default language.
    with translation.override(settings.LANGUAGE_CODE):
        deadline = format_datetime(breach.deadline_at)
        url = settings.SITE_URL + reverse("breaches:breach-detail", args=[breach.pk])
        if threshold == Threshold.PASSED:
            subject = _("Breach %(reference)s: the notification deadline has passed")
            lead = _(
                "The 72-hour deadline to notify the supervisory authority passed on "
                "%(deadline)s and no notification is recorded. Notify now and state "
                "the reasons for the delay."
            )
        else:
            subject = _("Breach %(reference)s: %(time_left)s to notify")
            lead = _(
                "The deadline to notify the supervisory authority is %(deadline)s "
                "(%(time_left)s)."
            )
        values = {
            "reference": breach.reference,
            "deadline": deadline,
            "time_left": time_left_text(breach.seconds_left(now)),
        }
        # The title is free text that may name a person, so the mail gives
        # only the reference, the status and the deadline, and the link.
        body = "\n\n".join(
            [
                lead % values,
                _("Breach: %(reference)s, status: %(status)s")
                % {
                    "reference": breach.reference,
                    "status": breach.get_status_display().lower(),
                },
                url,
            ]
        )
        return subject % values, body


def _clock_still_running(breach_id: int) -> bool:
    """Lock the breach row and return whether its clock still runs."""
    running = (
        Breach.objects.select_for_update()
        .filter(pk=breach_id, status=Breach.Status.OPEN, notified_at__isnull=True)
        .exclude(notification_decision=Breach.NotificationDecision.NOT_REQUIRED)
        .values_list("pk", flat=True)
    )
    return bool(list(running))


def _process_breach(
    *, breach: Breach, now: datetime, recipients: list[str], counts: dict
) -> None:
    recorded = {alert.threshold for alert in breach.alerts.all()}
    due = due_thresholds(breach=breach, now=now)
    most_urgent = due[-1]
    if most_urgent in recorded:
        return
    superseded = [threshold for threshold in due[:-1] if threshold not in recorded]

    with transaction.atomic():
        # The breach was read before this transaction began, so a notification
        # may have been recorded since. Locking the row waits for one being
        # recorded now, because breach_notify_authority locks it too.
        if not _clock_still_running(breach.pk):
            counts["skipped_notified"] += 1
            return
        try:
            with transaction.atomic():
                BreachAlert.objects.create(
                    breach=breach,
                    threshold=most_urgent,
                    created_at=now,
                    sent=bool(recipients),
                    recipient_count=len(recipients),
                )
        except IntegrityError:
            # Another run claimed this alert first and sends it.
            logger.info("breach %s alert %s already claimed", breach.pk, most_urgent)
            counts["already_claimed"] += 1
            return
        BreachAlert.objects.bulk_create(
            [
                BreachAlert(
                    breach=breach, threshold=threshold, created_at=now, superseded=True
                )
                for threshold in superseded
            ],
            ignore_conflicts=True,
        )
        BreachEvent.objects.create(
            breach=breach,
            occurred_at=now,
            kind=BreachEvent.Kind.ALERT,
            text=most_urgent,
        )
        audit_record(
            action="breaches.deadline.alerted",
            actor_label=CLOCK_ACTOR,
            target=breach,
            count=len(recipients),
            details={
                "threshold": most_urgent,
                "superseded": superseded,
                "sent": bool(recipients),
            },
        )
        if recipients:
            subject, body = _alert_message(breach, most_urgent, now)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
            counts["alerts_sent"] += 1
        else:
            logger.warning(
                "breach %s alert %s has no recipient: set DPO_ALERT_EMAILS or the "
                "organisation's DPO e-mail",
                breach.pk,
                most_urgent,
            )
            counts["alerts_without_recipient"] += 1
        counts["alerts_superseded"] += len(superseded)
    logger.info(
        "breach %s alert %s claimed, %d superseded",
        breach.pk,
        most_urgent,
        len(superseded),
    )


def _mark_late(*, breach: Breach, now: datetime) -> bool:
    """Set ``late_at`` with a conditional update; return True if this run did."""
    with transaction.atomic():
        updated = Breach.objects.filter(
            pk=breach.pk, late_at__isnull=True, notified_at__isnull=True
        ).update(late_at=now)
        if updated:
            BreachEvent.objects.create(
                breach=breach, occurred_at=now, kind=BreachEvent.Kind.LATE
            )
            audit_record(
                action="breaches.deadline.passed",
                actor_label=CLOCK_ACTOR,
                target=breach,
                details={"deadline_at": breach.deadline_at.isoformat()},
            )
    return bool(updated)


def empty_counts() -> dict[str, int]:
    """Return the zeroed counters that ``check_deadlines`` fills and returns."""
    return {
        "breaches_checked": 0,
        "alerts_sent": 0,
        "alerts_without_recipient": 0,
        "alerts_superseded": 0,
        "already_claimed": 0,
        "skipped_notified": 0,
        "marked_late": 0,
        "failed": 0,
    }


def check_deadlines(*, now: datetime | None = None) -> dict:
    """Send the due breach alerts and mark late breaches; return the counts.

    Safe to run twice, and by two workers at once: each alert is claimed by a
    unique insert, and lateness by a conditional update.
    """
    now = now or timezone.now()
    counts = empty_counts()

    recipients = alert_recipients()
    for breach in _clock_breaches(now):
        counts["breaches_checked"] += 1
        try:
            _process_breach(
                breach=breach, now=now, recipients=recipients, counts=counts
            )
            if now >= breach.deadline_at and breach.late_at is None:
                counts["marked_late"] += _mark_late(breach=breach, now=now)
        except Exception:
            # One breach's failure, such as an SMTP error, must not stop the
            # alerts of the others. Its alert row was rolled back, so the next
            # run retries.
            logger.exception("breach %s deadline check failed", breach.pk)
            counts["failed"] += 1

    logger.info("breach deadlines checked: %s", counts)
    return counts
