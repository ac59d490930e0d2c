"""Business rules of the breach register: record, assess, notify, inform, close."""

import logging
from collections.abc import Collection
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from apps.core.audit import audit_record
from apps.core.dates import format_date
from apps.core.dates import format_datetime

from .deadlines import due_thresholds
from .models import Breach
from .models import BreachCommunication
from .models import BreachEvent
from .models import BreachNotification
from .models import BreachRecipient
from .selectors import breach_affected_contacts

logger = logging.getLogger(__name__)

# A submission time up to this far in the future is accepted, because the
# user's clock and the server's clock may differ a little.
CLOCK_SKEW = timedelta(minutes=5)

# The GDPR began to apply on 25 May 2018 (Art. 99(2)), so a breach register
# kept under it contains no detection or awareness time before that day.
GDPR_APPLIES_FROM = datetime(2018, 5, 25, tzinfo=ZoneInfo("Europe/Paris"))

# The edited fields whose old and new values the timeline records. Only times,
# because free-text fields may contain personal data, which the timeline and
# the audit trail must not copy.
TIMELINE_VALUE_FIELDS = ("detected_at", "aware_at")

# The facts that the initial notification to the authority stated. Once it is
# recorded they stay as the authority received them, so the deadline and the
# late status computed from them cannot change afterwards. A correction goes in
# a timeline note or a complementary notification (GDPR Art. 33(4)).
FACTS_FIXED_BY_NOTIFICATION = ("detected_at", "aware_at", "delay_reasons")

# The fields a user edits through the breach form; the services set the others.
EDITABLE_FIELDS = (
    "title",
    "description",
    "detected_at",
    "aware_at",
    "affects_confidentiality",
    "affects_integrity",
    "affects_availability",
    "subject_categories",
    "subjects_approx",
    "data_categories",
    "records_approx",
    "likely_consequences",
    "measures_taken",
    "measures_proposed",
    "risk_level",
    "risk_reasoning",
    "notification_decision",
    "no_notification_reason",
    "subjects_must_be_informed",
    "no_communication_reason",
    "delay_reasons",
)


class BreachError(Exception):
    """A breach operation that the rules reject. The message explains the fix.

    ``field`` names the form field at fault, when there is one, so a form can
    show the message next to it.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _require_aware(value: datetime | None, field: str) -> None:
    if value is not None and timezone.is_naive(value):
        raise BreachError(
            _(
                "%(field)s=%(value)s has no time zone; pass an aware datetime "
                "(forms read local times in Europe/Paris)."
            )
            % {"field": field, "value": value.isoformat()}
        )


def _local(value: datetime) -> str:
    return format_datetime(value)


def _future_fact_message(field: str) -> str:
    # Detection and awareness are not when the breach occurred, which may be
    # unknown or much earlier, so each message names the moment its field holds.
    if field == "detected_at":
        return _(
            "Detected at: %(when)s is in the future; enter when the breach was "
            "detected, no later than now (%(now)s)."
        )
    return _(
        "Became aware at: %(when)s is in the future; enter when the organisation "
        "became aware of the breach, no later than now (%(now)s)."
    )


def _require_past_facts(breach: Breach) -> None:
    """Reject a detection or awareness time later than now.

    The 72-hour clock runs from the awareness time, so a future value would
    push the deadline back. ``CLOCK_SKEW`` absorbs a small clock difference.
    """
    latest = timezone.now() + CLOCK_SKEW
    for field in ("detected_at", "aware_at"):
        value = getattr(breach, field)
        if value is not None and value > latest:
            raise BreachError(
                _future_fact_message(field)
                % {"when": _local(value), "now": _local(timezone.now())},
                field=field,
            )


def _before_gdpr_message(field: str) -> str:
    if field == "detected_at":
        return _(
            "Detected at: %(when)s is before %(start)s, when the GDPR began to "
            "apply; check the date and enter when the breach was detected."
        )
    return _(
        "Became aware at: %(when)s is before %(start)s, when the GDPR began to "
        "apply; check the date and enter when the organisation became aware of "
        "the breach."
    )


def _require_gdpr_period(breach: Breach) -> None:
    """Reject an awareness or detection time before the GDPR began to apply.

    Awareness is checked first because the clock and the reference use it.
    """
    for field in ("aware_at", "detected_at"):
        value = getattr(breach, field)
        if value is not None and value < GDPR_APPLIES_FROM:
            raise BreachError(
                _before_gdpr_message(field)
                % {
                    "when": _local(value),
                    "start": format_date(GDPR_APPLIES_FROM.date()),
                },
                field=field,
            )


def _next_reference(year: int) -> str:
    prefix = f"BRE-{year}-"
    # Sorting by length first keeps BRE-2026-1000 after BRE-2026-999.
    last = (
        Breach.objects.filter(reference__startswith=prefix)
        .order_by(Length("reference").desc(), "-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:03d}"


def _event_add(*, breach: Breach, kind: str, text: str = "", actor=None) -> None:
    BreachEvent.objects.create(
        breach=breach,
        kind=kind,
        text=text,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


def breach_create(
    *,
    data: dict,
    activities: Collection = (),
    actor=None,
) -> Breach:
    """Record a new breach from ``data``, a mapping of ``EDITABLE_FIELDS`` values."""
    _require_aware(data.get("detected_at"), "detected_at")
    _require_aware(data.get("aware_at"), "aware_at")
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise BreachError(
            _("Unknown breach fields: %(fields)s.") % {"fields": sorted(unknown)}
        )

    breach = Breach(**data)
    _require_past_facts(breach)
    _require_gdpr_period(breach)
    if breach.risk_level == Breach.RiskLevel.HIGH:
        breach.subjects_must_be_informed = True
    if getattr(actor, "is_authenticated", False):
        breach.created_by = actor

    # Two users recording a breach at the same moment can compute the same
    # reference. The unique constraint rejects the second, which retries.
    for _attempt in range(5):
        breach.reference = _next_reference(breach.aware_at.year)
        breach.full_clean()
        try:
            with transaction.atomic():
                breach.save()
                breach.activities.set(activities)
                _event_add(breach=breach, kind=BreachEvent.Kind.RECORDED, actor=actor)
                audit_record(
                    action="breaches.breach.recorded", actor=actor, target=breach
                )
            break
        except IntegrityError:
            breach.pk = None
            continue
    else:
        raise BreachError(_("Could not allocate a breach reference; try again."))

    logger.info("breach %s recorded, deadline %s", breach.pk, breach.deadline_at)
    return breach


def _check_decision_after_notification(breach: Breach) -> None:
    """Reject any decision but "must be notified" on a breach already notified.

    The notification to the authority cannot be undone, so a register that
    records it with "not required" or "not decided yet" would contradict itself.
    """
    required = Breach.NotificationDecision.REQUIRED
    if breach.notified_at is None or breach.notification_decision == required:
        return
    raise BreachError(
        _(
            "Breach %(reference)s was notified to the authority at %(when)s, so "
            'the decision cannot become "%(decision)s". Record a complementary '
            "notification or add a note to the timeline instead."
        )
        % {
            "reference": breach.reference,
            "when": _local(breach.notified_at),
            "decision": Breach.NotificationDecision(breach.notification_decision).label,
        },
        field="notification_decision",
    )


def _check_facts_fixed_after_notification(
    breach: Breach, changed: Collection[str]
) -> None:
    """Reject a change to the facts that the initial notification stated.

    ``breach`` is the saved row, before the change. Moving the awareness time
    or clearing the delay reasons would turn a late notification into one on
    time, contradicting what the authority received.
    """
    fixed = [field for field in FACTS_FIXED_BY_NOTIFICATION if field in changed]
    if breach.notified_at is None or not fixed:
        return
    labels = ", ".join(
        str(capfirst(Breach._meta.get_field(field).verbose_name)) for field in fixed
    )
    raise BreachError(
        _(
            "Breach %(reference)s was notified to the authority at %(when)s, so "
            "these facts must stay as the authority received them: %(fields)s. "
            "To correct them, add a note to the timeline or record a "
            "complementary notification."
        )
        % {
            "reference": breach.reference,
            "when": _local(breach.notified_at),
            "fields": labels,
        },
        field=fixed[0],
    )


def breach_require_editable(*, breach: Breach) -> None:
    """Raise ``BreachError`` when the breach is closed, so it can no longer change."""
    if breach.status == Breach.Status.CLOSED:
        raise BreachError(
            _("Breach %(reference)s is closed and can no longer be changed.")
            % {"reference": breach.reference}
        )


def _clock_restart(breach: Breach) -> None:
    """Forget the alerts and lateness that the breach's new deadline has not reached.

    A corrected awareness time moves the deadline. Alerts already recorded for
    thresholds still ahead would stop the clock job from sending them, and a
    late mark would keep the breach late before its deadline. Alerts that
    were superseded, never sent, go too: under the new deadline the most
    urgent of them may be the one to send. The timeline keeps the alerts that
    were sent.
    """
    now = timezone.now()
    due = due_thresholds(breach=breach, now=now)
    breach.alerts.filter(Q(superseded=True) | ~Q(threshold__in=due)).delete()
    if breach.late_at is not None and now < breach.deadline_at:
        breach.late_at = None
        Breach.objects.filter(pk=breach.pk).update(late_at=None)


def updated_event_text(
    *, changed: Collection[str], time_changes: dict[str, tuple[datetime, datetime]]
) -> str:
    """Return the text of an "updated" timeline event.

    Each changed field is written by name. A field in ``time_changes`` is
    followed by its old and new values in UTC, as in
    ``aware_at (2026-12-02T07:00:00+00:00 -> 2026-12-02T09:00:00+00:00)``,
    which ``BreachEvent.display_text`` shows in the reader's time zone.
    """
    items = []
    for field in changed:
        if field in time_changes:
            old, new = time_changes[field]
            items.append(f"{field} ({_utc_text(old)} -> {_utc_text(new)})")
        else:
            items.append(field)
    return ", ".join(items)


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


@transaction.atomic
def breach_update(
    *,
    breach: Breach,
    data: dict,
    activities: Collection | None = None,
    actor=None,
    loaded_version: datetime | None = None,
    aware_at_change_reason: str = "",
) -> Breach:
    """Change the facts and the assessment of a breach that is not closed.

    Once the initial notification is recorded, the fields in
    ``FACTS_FIXED_BY_NOTIFICATION`` are rejected if they differ from the
    saved values. A new awareness time moves the 72-hour deadline, so it
    needs ``aware_at_change_reason``, which the timeline keeps as its own entry.

    The row is read again under a lock, so a caller holding an older copy
    cannot overwrite what a notification or the clock job recorded since.
    ``loaded_version`` is the ``updated_at`` that the editor's form showed:
    a save over a later one is rejected, because the form would send back
    the older values of the fields its user did not touch.
    """
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    breach_require_editable(breach=breach)
    if loaded_version is not None and breach.updated_at != loaded_version:
        raise BreachError(
            _(
                "Someone saved this breach at %(time)s, after you opened the page. "
                "Reload the page and enter your changes again."
            )
            % {"time": _local(breach.updated_at)}
        )
    _require_aware(data.get("detected_at"), "detected_at")
    _require_aware(data.get("aware_at"), "aware_at")
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise BreachError(
            _("Unknown breach fields: %(fields)s.") % {"fields": sorted(unknown)}
        )

    changed = sorted(
        field
        for field, value in data.items()
        if field in EDITABLE_FIELDS and getattr(breach, field) != value
    )
    _check_facts_fixed_after_notification(breach, changed)
    time_changes = {
        field: (getattr(breach, field), data[field])
        for field in changed
        if field in TIMELINE_VALUE_FIELDS
    }
    for field in changed:
        setattr(breach, field, data[field])
    if breach.risk_level == Breach.RiskLevel.HIGH:
        breach.subjects_must_be_informed = True
    _require_past_facts(breach)
    _require_gdpr_period(breach)
    _check_decision_after_notification(breach)
    aware_at_change_reason = aware_at_change_reason.strip()
    if "aware_at" in changed and not aware_at_change_reason:
        old_aware_at, new_aware_at = time_changes["aware_at"]
        raise BreachError(
            _(
                "Say why the awareness time changes from %(old)s to %(new)s: "
                "the 72-hour deadline moves with it."
            )
            % {"old": _local(old_aware_at), "new": _local(new_aware_at)}
        )
    breach.full_clean()
    breach.save()
    if "aware_at" in changed:
        _clock_restart(breach)
    if activities is not None:
        breach.activities.set(activities)

    if changed:
        _event_add(
            breach=breach,
            kind=BreachEvent.Kind.UPDATED,
            text=updated_event_text(changed=changed, time_changes=time_changes),
            actor=actor,
        )
        if "aware_at" in changed:
            _event_add(
                breach=breach,
                kind=BreachEvent.Kind.AWARENESS_REASON,
                text=aware_at_change_reason,
                actor=actor,
            )
        details = {"fields": changed}
        if time_changes:
            details["times"] = {
                field: [_utc_text(old), _utc_text(new)]
                for field, (old, new) in time_changes.items()
            }
        audit_record(
            action="breaches.breach.changed",
            actor=actor,
            target=breach,
            details=details,
        )
    return breach


@transaction.atomic
def breach_add_note(*, breach: Breach, text: str, actor=None) -> BreachEvent:
    """Add a note to the breach's timeline: a finding, a call, a decision."""
    text = text.strip()
    if not text:
        raise BreachError(_("The note is empty; write what happened."))
    if breach.status == Breach.Status.CLOSED:
        raise BreachError(
            _("Breach %(reference)s is closed; its timeline can no longer change.")
            % {"reference": breach.reference}
        )

    event = BreachEvent.objects.create(
        breach=breach,
        kind=BreachEvent.Kind.NOTE,
        text=text,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        action="breaches.timeline.noted",
        actor=actor,
        target=breach,
        details={"event": event.pk},
    )
    return event


@transaction.atomic
def breach_notify_authority(
    *,
    breach: Breach,
    phase: str,
    submitted_at: datetime,
    authority_reference: str = "",
    content: str = "",
    delay_reasons: str = "",
    actor=None,
) -> BreachNotification:
    """Record a notification sent to the authority, initial or complementary.

    GDPR Art. 33(1): an initial notification made after the 72-hour deadline
    must state the reasons for the delay. Art. 33(4): information may follow
    in phases, so complementary notifications come after the initial one.
    """
    _require_aware(submitted_at, "submitted_at")
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    if breach.status == Breach.Status.CLOSED:
        raise BreachError(
            _("Breach %(reference)s is closed and can no longer be notified.")
            % {"reference": breach.reference}
        )
    if submitted_at > timezone.now() + CLOCK_SKEW:
        raise BreachError(
            _("The submission time %(when)s is in the future; enter when it was sent.")
            % {"when": _local(submitted_at)},
            field="submitted_at",
        )
    if submitted_at < breach.aware_at:
        raise BreachError(
            _(
                "The submission time %(when)s is before the awareness time "
                "%(aware)s; check both dates."
            )
            % {"when": _local(submitted_at), "aware": _local(breach.aware_at)},
            field="submitted_at",
        )

    initial = breach.notifications.filter(
        phase=BreachNotification.Phase.INITIAL
    ).first()
    if phase == BreachNotification.Phase.INITIAL:
        if initial is not None:
            raise BreachError(
                _(
                    "Breach %(reference)s already has an initial notification; "
                    "record a complementary notification instead."
                )
                % {"reference": breach.reference}
            )
        if submitted_at > breach.deadline_at and not delay_reasons.strip():
            raise BreachError(
                _(
                    "The notification was submitted at %(when)s, after the deadline "
                    "of %(deadline)s; state the reasons for the delay "
                    "(GDPR Art. 33(1))."
                )
                % {"when": _local(submitted_at), "deadline": _local(breach.deadline_at)}
            )
    elif phase == BreachNotification.Phase.COMPLEMENTARY:
        if initial is None:
            raise BreachError(
                _(
                    "Breach %(reference)s has no initial notification yet; record "
                    "the initial notification first."
                )
                % {"reference": breach.reference}
            )
        # GDPR Art. 33(4): complementary information follows the initial
        # notification, so it cannot have been submitted before it.
        if submitted_at < initial.submitted_at:
            raise BreachError(
                _(
                    "The complementary notification's submission time %(when)s is "
                    "before the initial notification's submission time %(initial)s; "
                    "check both times."
                )
                % {
                    "when": _local(submitted_at),
                    "initial": _local(initial.submitted_at),
                },
                field="submitted_at",
            )
    else:
        raise BreachError(
            _("Unknown notification phase %(phase)r; use 'initial' or 'complementary'.")
            % {"phase": phase}
        )

    notification = BreachNotification.objects.create(
        breach=breach,
        phase=phase,
        submitted_at=submitted_at,
        authority_reference=authority_reference,
        content=content,
        delay_reasons=delay_reasons,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if phase == BreachNotification.Phase.INITIAL:
        breach.notified_at = submitted_at
        breach.delay_reasons = delay_reasons
        breach.status = Breach.Status.NOTIFIED
        breach.notification_decision = Breach.NotificationDecision.REQUIRED
        # The breach shows the initial notification's time and reference.
        # A complementary notification keeps its own reference in its row
        # and in its timeline event.
        breach.authority_reference = authority_reference
    breach.save()

    _event_add(
        breach=breach,
        kind=BreachEvent.Kind.NOTIFIED,
        # BreachEvent.display_text parses "phase (reference)" to show the label.
        text=f"{phase} ({authority_reference})" if authority_reference else phase,
        actor=actor,
    )
    audit_record(
        action=f"breaches.notification.{phase}",
        actor=actor,
        target=breach,
        details={"notification": notification.pk, "late": breach.notified_late},
    )
    return notification


@transaction.atomic
def breach_record_communication(
    *,
    breach: Breach,
    communicated_at: datetime,
    method: str,
    activity_ids: Collection[int],
    statuses: Collection[str] = (),
    audience: str = "",
    list_ids: Collection[int] = (),
    actor=None,
) -> BreachCommunication:
    """Record that the selected contacts were informed of the breach (Art. 34).

    The recipients are the contacts the same filters select at this moment,
    stored as contact ids so that the register never copies their data.
    """
    breach_require_editable(breach=breach)
    _require_aware(communicated_at, "communicated_at")
    if not method.strip():
        raise BreachError(_("Say how the people were informed (e-mail, letter...)."))
    if communicated_at > timezone.now() + CLOCK_SKEW:
        raise BreachError(
            _(
                "The communication time %(when)s is in the future; enter when "
                "it was sent."
            )
            % {"when": _local(communicated_at)},
            field="communicated_at",
        )
    if communicated_at < breach.aware_at:
        raise BreachError(
            _("The communication time %(when)s is before the awareness time.")
            % {"when": _local(communicated_at)},
            field="communicated_at",
        )

    contact_ids = list(
        breach_affected_contacts(
            activity_ids=activity_ids,
            statuses=statuses,
            audience=audience,
            list_ids=list_ids,
        ).values_list("pk", flat=True)
    )
    if not contact_ids:
        raise BreachError(
            _("No contact matches this selection; widen the filters and try again.")
        )

    already_informed = (
        BreachRecipient.objects.filter(
            communication__breach=breach, contact_id__in=contact_ids
        )
        .values("contact_id")
        .distinct()
        .count()
    )
    communication = BreachCommunication.objects.create(
        breach=breach,
        communicated_at=communicated_at,
        method=method,
        filters={
            "activity_ids": sorted(int(pk) for pk in activity_ids),
            "statuses": sorted(statuses),
            "audience": audience,
            "list_ids": sorted(int(pk) for pk in list_ids),
        },
        recipient_count=len(contact_ids),
        newly_informed_count=len(contact_ids) - already_informed,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    BreachRecipient.objects.bulk_create(
        [
            BreachRecipient(communication=communication, contact_id=pk)
            for pk in contact_ids
        ],
        batch_size=2000,
    )
    if breach.communicated_at is None or communicated_at < breach.communicated_at:
        breach.communicated_at = communicated_at
    breach.save(update_fields=["communicated_at", "updated_at"])

    _event_add(
        breach=breach,
        kind=BreachEvent.Kind.COMMUNICATED,
        # BreachEvent.display_text parses "method (count)" to show the count.
        text=f"{method} ({len(contact_ids)})",
        actor=actor,
    )
    audit_record(
        action="breaches.subjects.informed",
        actor=actor,
        target=breach,
        count=len(contact_ids),
        details={"communication": communication.pk, **communication.filters},
    )
    return communication


@transaction.atomic
def breach_close(*, breach: Breach, actor=None, closed_at: datetime | None = None):
    """Close a breach once the authority and the data subjects are dealt with."""
    closed_at = closed_at or timezone.now()
    _require_aware(closed_at, "closed_at")
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    if breach.status == Breach.Status.CLOSED:
        return breach

    decision = breach.notification_decision
    if (
        breach.notified_at is None
        and decision != Breach.NotificationDecision.NOT_REQUIRED
    ):
        raise BreachError(
            _(
                "Breach %(reference)s is not notified; record the notification "
                "or decide, with the reason, that none is required."
            )
            % {"reference": breach.reference}
        )
    if (
        breach.subjects_must_be_informed
        and breach.communicated_at is None
        and not breach.no_communication_reason.strip()
    ):
        raise BreachError(
            _(
                "The data subjects of breach %(reference)s must be informed; record "
                "the communication or the Art. 34(3) exception that applies."
            )
            % {"reference": breach.reference}
        )

    breach.status = Breach.Status.CLOSED
    breach.closed_at = closed_at
    breach.save(update_fields=["status", "closed_at", "updated_at"])
    _event_add(breach=breach, kind=BreachEvent.Kind.CLOSED, actor=actor)
    audit_record(action="breaches.breach.closed", actor=actor, target=breach)
    return breach


@transaction.atomic
def breach_purge_closed(
    *,
    closed_before: datetime,
    activity_id: int | None = None,
    activity_cutoffs: dict[int, datetime | None] | None = None,
    dry_run: bool = False,
) -> int:
    """Delete the breaches closed before ``closed_before``; return how many.

    The retention job calls this once per activity with a breach-record rule.
    ``activity_cutoffs`` gives the end of each such activity's longest rule,
    None for a rule that keeps the records for good. A breach then goes only
    once the rules of all the activities it concerns have ended, or those of
    every activity when none of its own has a rule. It goes in the call for
    the activity whose rule ends last, so that each breach counts once.
    Without ``activity_cutoffs``, every breach closed before the cutoff goes.
    Timelines, alerts, notifications and communication lists go with their
    breach. A dry run counts and changes nothing.
    """
    _require_aware(closed_before, "closed_before")
    breaches = Breach.objects.filter(
        status=Breach.Status.CLOSED, closed_at__lt=closed_before
    )
    breach_ids = list(breaches.values_list("pk", flat=True))
    if activity_cutoffs is not None:
        breach_ids = _breaches_governed_by(breach_ids, activity_id, activity_cutoffs)
    if dry_run or not breach_ids:
        return len(breach_ids)

    Breach.objects.filter(pk__in=breach_ids).delete()
    audit_record(
        action="breaches.breach.purged",
        actor_label="breach_purge_closed",
        target_type="breaches.breach",
        count=len(breach_ids),
        details={"breach_ids": breach_ids, "closed_before": closed_before.isoformat()},
    )
    logger.info("purged %d closed breaches", len(breach_ids))
    return len(breach_ids)


def _breaches_governed_by(
    breach_ids: list[int],
    activity_id: int | None,
    activity_cutoffs: dict[int, datetime | None],
) -> list[int]:
    """Return the breaches whose longest applicable rule is ``activity_id``'s.

    The caller has already kept only breaches closed before that rule's
    cutoff, which is then the earliest cutoff of their rules.
    """
    concerned: dict[int, list[int]] = {pk: [] for pk in breach_ids}
    links = Breach.activities.through.objects.filter(breach_id__in=breach_ids)
    for breach_pk, linked_activity_pk in links.values_list(
        "breach_id", "processingactivity_id"
    ):
        concerned[breach_pk].append(linked_activity_pk)
    governed = []
    for breach_pk, activity_ids in concerned.items():
        applicable = [pk for pk in activity_ids if pk in activity_cutoffs]
        applicable = applicable or list(activity_cutoffs)
        if any(activity_cutoffs[pk] is None for pk in applicable):
            continue
        longest = min(applicable, key=lambda pk: (activity_cutoffs[pk], pk))
        if longest == activity_id:
            governed.append(breach_pk)
    return governed
