"""Template tag of the 72-hour countdown, which static/breaches/countdown.js ticks."""

from django import template
from django.utils import timezone

from apps.breaches.clock import left_template
from apps.breaches.clock import overdue_template
from apps.breaches.clock import time_left_text
from apps.breaches.clock import urgency

register = template.Library()


@register.inclusion_tag("breaches/countdown.html")
def countdown(breach):
    seconds = breach.seconds_left(timezone.now())
    return {
        "breach": breach,
        "text": time_left_text(seconds),
        "urgency": urgency(seconds),
        "left_template": left_template(),
        "overdue_template": overdue_template(),
    }
