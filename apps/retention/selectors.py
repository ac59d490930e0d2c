"""Reads of the retention app: the plan of a run and what the page shows.

A run is a list of steps, built from the register for one day. The rented lists
whose licence has ended come first. Each contact rule of each activity in force
follows, then the default prospect rule for contacts that no applicable rule
governs. Closed subject requests, breach records and import leftovers come last.
"""

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Exists
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.retention.models import RetentionRun
from apps.retention.policy import PROSPECT_DEFAULT_YEARS
from apps.retention.policy import RETENTION_TIME_ZONE
from apps.retention.policy import local_today
from apps.retention.policy import rule_duration
from apps.retention.policy import start_cutoff
from apps.subject_requests.labels import record_kind_label


class StepKind:
    CONTACTS = "contacts"
    RENTED_LISTS = "rented_lists"
    SUBJECT_REQUESTS = "subject_requests"
    BREACHES = "breaches"
    IMPORT_LEFTOVERS = "import_leftovers"


DEFAULT_CONTACTS_KEY = "contacts:default"
RENTED_LISTS_KEY = "rented-lists"
IMPORT_LEFTOVERS_KEY = "import-leftovers"

ACTIONS_THAT_REMOVE = {RetentionRule.Action.DELETE, RetentionRule.Action.ANONYMISE}


@dataclass
class Step:
    """One unit of a run: which records, what to do with them, and from when.

    ``due`` selects the contacts the real run acts on. ``preview`` is ``due``
    without the contacts that an earlier step of the same run removes, so the
    counts of a dry run match those of the real run that follows it.
    """

    key: str
    kind: str
    action: str
    label: str
    activity_id: int | None = None
    activity_reference: str = ""
    rule_id: int | None = None
    cutoff: datetime | None = None
    due: Q | None = None
    preview: Q | None = None
    ended_list_ids: tuple[int, ...] = ()
    not_applied_reason: str = ""

    def as_summary(self) -> dict:
        """Return the step's description as JSON-ready values (no personal data)."""
        return {
            "key": self.key,
            "kind": self.kind,
            "action": self.action,
            "label": self.label,
            "activity_id": self.activity_id,
            "activity_reference": self.activity_reference,
            "rule_id": self.rule_id,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "ended_list_ids": list(self.ended_list_ids),
            "not_applied_reason": self.not_applied_reason,
        }


def contact_start_q(*, start_event: str, cutoff: datetime) -> Q | None:
    """Return the condition "the rule's start event came before ``cutoff``".

    A contact with no last contact from the person falls back on its
    collection date. Returns None for a start event that contacts do not
    record (end of contract, closed request, closed breach).
    """
    events = RetentionRule.StartEvent
    no_later_contact = Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=cutoff)
    if start_event == events.COLLECTION:
        return Q(collected_at__lt=cutoff)
    if start_event == events.LAST_CONTACT:
        return Q(last_contact_at__lt=cutoff) | Q(
            last_contact_at__isnull=True, collected_at__lt=cutoff
        )
    if start_event == events.COLLECTION_OR_LAST_CONTACT:
        return Q(collected_at__lt=cutoff) & no_later_contact
    return None


def rented_list_ids_ended(*, as_of: date) -> list[int]:
    """Return the rented lists whose licence ended before ``as_of``.

    A licence that ends on day D still allows use on D.
    """
    return list(
        ContactList.objects.filter(
            acquisition=ContactList.Acquisition.RENTAL, licence_ends_on__lt=as_of
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def rented_delete_q(ended_list_ids) -> Q:
    """Return the contacts that come only from ended rented lists.

    Contacts already anonymised are kept: they only lose the list's rows.
    """
    ended = list(ended_list_ids)
    in_ended = Provenance.objects.filter(
        contact=OuterRef("pk"), contact_list_id__in=ended
    )
    elsewhere = Provenance.objects.filter(contact=OuterRef("pk")).exclude(
        contact_list_id__in=ended
    )
    return (
        Q(Exists(in_ended))
        & ~Q(Exists(elsewhere))
        & ~Q(status=Contact.Status.ANONYMISED)
    )


def _rented_lists_step(*, as_of: date) -> Step:
    ended = tuple(rented_list_ids_ended(as_of=as_of))
    delete_q = rented_delete_q(ended) if ended else Q(pk__in=[])
    return Step(
        key=RENTED_LISTS_KEY,
        kind=StepKind.RENTED_LISTS,
        action=RetentionRule.Action.DELETE,
        label=_("Rented lists whose licence has ended"),
        due=delete_q,
        preview=delete_q,
        ended_list_ids=ended,
    )


def _contact_rule_step(rule, activity, cutoff, start_q) -> Step:
    step = Step(
        key=f"contacts:rule:{rule.pk}",
        kind=StepKind.CONTACTS,
        action=rule.action,
        label=rule.describe(),
        activity_id=activity.pk,
        activity_reference=activity.reference,
        rule_id=rule.pk,
        cutoff=cutoff,
    )
    if start_q is None:
        step.not_applied_reason = _(
            "Contacts do not record the start event “%(event)s”; change the rule "
            "to start from collection or from the last contact."
        ) % {"event": rule.get_start_event_display()}
        return step
    step.due = (
        Q(processing_activity_id=activity.pk)
        & ~Q(status=Contact.Status.ANONYMISED)
        & start_q
    )
    if rule.action not in ACTIONS_THAT_REMOVE:
        step.not_applied_reason = _(
            "Archiving (intermediate storage) happens outside Registre: the "
            "contacts are counted here but not changed."
        )
    return step


RECORD_TYPE_STEP_KINDS = {
    RetentionRule.RecordType.CONTACT: StepKind.CONTACTS,
    RetentionRule.RecordType.SUBJECT_REQUEST: StepKind.SUBJECT_REQUESTS,
    RetentionRule.RecordType.BREACH: StepKind.BREACHES,
}


def _unreachable_rule_step(rule, activity) -> Step:
    """Return the step of a rule whose period reaches back before the year 1.

    Nothing can be due under such a rule, so the step is not applied, and its
    reason requests a correction of the register.
    """
    kind = RECORD_TYPE_STEP_KINDS[rule.record_type]
    return Step(
        key=f"{kind}:rule:{rule.pk}",
        kind=kind,
        action=rule.action,
        label=rule.describe(),
        activity_id=activity.pk,
        activity_reference=activity.reference,
        rule_id=rule.pk,
        not_applied_reason=_(
            "The period of this rule (%(duration)s %(unit)s) reaches back before "
            "the year 1, so nothing is due under it. Correct the duration in the "
            "register."
        )
        % {"duration": rule.duration, "unit": rule.get_unit_display()},
    )


def _purge_step(rule, activity, kind, cutoff) -> Step:
    return Step(
        key=f"{kind}:rule:{rule.pk}",
        kind=kind,
        action="purge",
        label=rule.describe(),
        activity_id=activity.pk,
        activity_reference=activity.reference,
        rule_id=rule.pk,
        cutoff=cutoff,
    )


def _default_contacts_step(governed_activity_ids, as_of: date) -> Step:
    cutoff = start_cutoff(
        duration=relativedelta(years=PROSPECT_DEFAULT_YEARS), as_of=as_of
    )
    ungoverned = Q(processing_activity__isnull=True) | ~Q(
        processing_activity_id__in=list(governed_activity_ids)
    )
    return Step(
        key=DEFAULT_CONTACTS_KEY,
        kind=StepKind.CONTACTS,
        action=RetentionRule.Action.DELETE,
        label=_(
            "Prospects without an applicable rule: %(years)s years from collection "
            "or last contact from the person, then delete"
        )
        % {"years": PROSPECT_DEFAULT_YEARS},
        cutoff=cutoff,
        due=ungoverned
        & ~Q(status=Contact.Status.ANONYMISED)
        & contact_start_q(
            start_event=RetentionRule.StartEvent.COLLECTION_OR_LAST_CONTACT,
            cutoff=cutoff,
        ),
    )


def retention_plan(*, as_of: date, now: datetime) -> list[Step]:
    """Return the steps of a run that applies the register as of ``as_of``."""
    rented = _rented_lists_step(as_of=as_of)
    contact_steps: list[Step] = []
    purge_steps: list[Step] = []
    governed: set[int] = set()
    activities = (
        ProcessingActivity.objects.filter(status=ProcessingActivity.Status.IN_FORCE)
        .prefetch_related("retention_rules")
        .order_by("reference")
    )
    for activity in activities:
        removed_before = Q(pk__in=[])
        for rule in activity.retention_rules.all():
            record_type = rule.record_type
            if record_type not in RECORD_TYPE_STEP_KINDS:
                continue
            try:
                cutoff = start_cutoff(duration=rule_duration(rule), as_of=as_of)
            except (OverflowError, ValueError):
                # The register keeps these records for good: the default rule
                # must not remove them either.
                step = _unreachable_rule_step(rule, activity)
                if record_type == RetentionRule.RecordType.CONTACT:
                    governed.add(activity.pk)
                    contact_steps.append(step)
                else:
                    purge_steps.append(step)
                continue
            if record_type == RetentionRule.RecordType.SUBJECT_REQUEST:
                purge_steps.append(
                    _purge_step(rule, activity, StepKind.SUBJECT_REQUESTS, cutoff)
                )
            elif record_type == RetentionRule.RecordType.BREACH:
                purge_steps.append(
                    _purge_step(rule, activity, StepKind.BREACHES, cutoff)
                )
            elif record_type == RetentionRule.RecordType.CONTACT:
                start_q = contact_start_q(start_event=rule.start_event, cutoff=cutoff)
                step = _contact_rule_step(rule, activity, cutoff, start_q)
                if step.due is not None:
                    governed.add(activity.pk)
                    step.preview = step.due & ~rented.due & ~removed_before
                    if rule.action in ACTIONS_THAT_REMOVE:
                        removed_before |= step.due
                contact_steps.append(step)

    default = _default_contacts_step(governed, as_of)
    default.preview = default.due & ~rented.due
    leftovers = Step(
        key=IMPORT_LEFTOVERS_KEY,
        kind=StepKind.IMPORT_LEFTOVERS,
        action="purge",
        label=_("Import files and staging rows older than %(hours)s hours")
        % {"hours": settings.IMPORT_FILE_RETENTION_HOURS},
        cutoff=now - timedelta(hours=settings.IMPORT_FILE_RETENTION_HOURS),
    )
    return [rented, *contact_steps, default, *purge_steps, leftovers]


def run_latest(*, dry_run: bool, ahead_only: bool = False) -> RetentionRun | None:
    """Return the latest run of the kind that has started, finished or not.

    With ``ahead_only``, a run that applied the limits as of a day before the
    day it was created is left out: a dry run that looks back previews no
    coming run.
    """
    runs = RetentionRun.objects.filter(dry_run=dry_run)
    if ahead_only:
        created_on = TruncDate("created_at", tzinfo=RETENTION_TIME_ZONE)
        runs = runs.filter(as_of__gte=created_on)
    return (
        runs.exclude(
            status__in=[RetentionRun.Status.QUEUED, RetentionRun.Status.SKIPPED]
        )
        .select_related("requested_by")
        .order_by("-created_at", "-pk")
        .first()
    )


def run_pending() -> RetentionRun | None:
    """Return the oldest run that is queued or running, if any."""
    return (
        RetentionRun.objects.filter(
            status__in=[RetentionRun.Status.QUEUED, RetentionRun.Status.RUNNING]
        )
        .order_by("created_at", "pk")
        .first()
    )


def runs_recent(*, limit: int = 20):
    return RetentionRun.objects.select_related("requested_by").order_by(
        "-created_at", "-pk"
    )[:limit]


def run_steps_by_activity(run: RetentionRun, *, for_page: bool = True) -> list[dict]:
    """Group a run's steps under their activity; steps without one come last.

    ``for_page`` adds ``cutoff_at``, the cutoff as a datetime, and
    ``erased_labels``, the other apps' counts with labels in the active language.
    """
    groups: dict[object, dict] = {}
    for step in run.steps:
        activity_id = step.get("activity_id")
        group = groups.setdefault(
            activity_id,
            {
                "activity_id": activity_id,
                "activity_reference": step.get("activity_reference", ""),
                "steps": [],
            },
        )
        displayed = dict(step)
        if for_page:
            if step.get("cutoff"):
                displayed["cutoff_at"] = datetime.fromisoformat(step["cutoff"])
            displayed["erased_labels"] = [
                (record_kind_label(kind), count)
                for kind, count in step.get("erased", {}).items()
            ]
        group["steps"].append(displayed)
    with_activity = [group for key, group in groups.items() if key is not None]
    without = [group for key, group in groups.items() if key is None]
    return with_activity + without


def preview_confirmable(
    preview: RetentionRun | None, last_run: RetentionRun | None
) -> RetentionRun | None:
    """Return the preview whose counts a real run may confirm, or None.

    That is a preview that succeeded, was counted after the last real run,
    and applies the limits as of today or later. An older one counts records
    that are gone or misses records that have become due. A preview confirms
    one real run only: once a run is requested after it, even a queued one,
    a second confirmation is refused.
    """
    if preview is None or preview.status != RetentionRun.Status.SUCCEEDED:
        return None
    if last_run is not None and preview.created_at < last_run.created_at:
        return None
    requested_since = RetentionRun.objects.filter(
        dry_run=False, created_at__gt=preview.created_at
    )
    if requested_since.exists():
        return None
    if preview.as_of < local_today():
        return None
    return preview


def preview_current() -> RetentionRun | None:
    """Return the latest preview if a real run may confirm its counts."""
    return preview_confirmable(
        run_latest(dry_run=True, ahead_only=True), run_latest(dry_run=False)
    )
