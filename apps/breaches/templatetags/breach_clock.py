"""Template tag of the 72-hour countdown, which static/breaches/countdown.js ticks."""

from django import template
from django.utils import timezone

from apps.breaches.clock import DAYS_FROM_HOURS
from apps.breaches.clock import left_template
from apps.breaches.clock import notified_late_text
from apps.breaches.clock import overdue_days_template
from apps.breaches.clock import overdue_template
from apps.breaches.clock import time_left_text
from apps.breaches.clock import urgency

register = template.Library()


@register.inclusion_tag("breaches/countdown.html")
def countdown(breach):
    seconds = breach.seconds_left(timezone.now())
    late_text = ""
    if breach.notified_late:
        late = (breach.notified_at - breach.deadline_at).total_seconds()
        late_text = notified_late_text(int(late))
    return {
        "breach": breach,
        "text": time_left_text(seconds),
        "late_text": late_text,
        "urgency": urgency(seconds),
        "left_template": left_template(),
        "overdue_template": overdue_template(),
        "overdue_days_template": overdue_days_template(),
        "days_from_hours": DAYS_FROM_HOURS,
    }
