"""Retention limits of contacts between two runs of the retention job.

The job removes contacts once a day, but a contact past its limit must not be
processed meanwhile: campaigns leave it out from the day its limit is reached,
and its page gives the rule and the day.
"""

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Q
from django.utils import timezone

from apps.contacts.models import Contact
from apps.register.models import RetentionRule
from apps.retention.policy import PROSPECT_DEFAULT_YEARS
from apps.retention.policy import RETENTION_TIME_ZONE
from apps.retention.policy import local_today
from apps.retention.policy import rule_duration
from apps.retention.selectors import StepKind
from apps.retention.selectors import StepLabel
from apps.retention.selectors import retention_plan
from apps.retention.selectors import step_label

StartEvent = RetentionRule.StartEvent


def contacts_past_retention_q(*, as_of: date | None = None) -> Q:
    """Return the contacts past a retention limit on ``as_of`` (today by default).

    That is every contact that a contact rule of its activity, or the default
    prospect rule, makes due on that day, including under the rules whose
    action the job leaves to be done outside Registre (archiving). The end of
    a rented list's licence is checked apart (``contacts_contactable``).
    """
    as_of = as_of or local_today()
    past = Q(pk__in=[])
    for step in retention_plan(as_of=as_of, now=timezone.now()):
        if step.kind == StepKind.CONTACTS and step.due is not None:
            past |= step.due
    return past


@dataclass(frozen=True)
class ContactRetention:
    """The retention rule that ends soonest for a contact, and its last day.

    ``rule`` is None for the default prospect rule (no contact rule in the
    register). ``ends_on`` is the day the contact is due, None when contacts do
    not record the rule's start event.
    """

    rule: RetentionRule | None
    ends_on: date | None

    @property
    def description(self) -> str:
        """Return the rule in words, in the active language."""
        if self.rule is not None:
            return self.rule.describe()
        return step_label(
            {
                "label_code": StepLabel.DEFAULT_CONTACTS,
                "label_params": {"years": PROSPECT_DEFAULT_YEARS},
            }
        )


def _start_day(contact: Contact, start_event: str) -> date | None:
    """Return the local day of the rule's start event for ``contact``, if recorded."""
    collected = contact.collected_at
    last_contact = contact.last_contact_at
    if start_event == StartEvent.COLLECTION:
        start = collected
    elif start_event == StartEvent.LAST_CONTACT:
        start = last_contact or collected
    elif start_event == StartEvent.COLLECTION_OR_LAST_CONTACT:
        start = max(collected, last_contact) if last_contact else collected
    else:
        return None
    return start.astimezone(RETENTION_TIME_ZONE).date()


def _end_day(contact: Contact, start_event: str, duration: relativedelta):
    start_day = _start_day(contact, start_event)
    if start_day is None:
        return None
    try:
        return start_day + duration
    except (OverflowError, ValueError):
        return None


def contact_retention(contact: Contact) -> ContactRetention:
    """Return the rule that limits how long ``contact`` is kept, and the day it ends.

    The contact rules of its activity apply, or, when the register gives
    none, the default prospect rule: 3 years from collection or from the last
    contact from the person, whichever is later. Among several rules, the one
    that ends soonest is returned.
    """
    activity = contact.processing_activity
    rules = []
    if activity is not None:
        rules = [
            rule
            for rule in activity.retention_rules.all()
            if rule.record_type == RetentionRule.RecordType.CONTACT
        ]
    if not rules:
        ends_on = _end_day(
            contact,
            StartEvent.COLLECTION_OR_LAST_CONTACT,
            relativedelta(years=PROSPECT_DEFAULT_YEARS),
        )
        return ContactRetention(rule=None, ends_on=ends_on)
    limits = [
        ContactRetention(
            rule=rule,
            ends_on=_end_day(contact, rule.start_event, rule_duration(rule)),
        )
        for rule in rules
    ]
    return min(limits, key=lambda limit: limit.ends_on or date.max)
