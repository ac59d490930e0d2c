"""Reads of the retention app: the plan of a run and what the page shows.

A run is a list of steps, built from the register for one day. The rented lists
whose licence has ended come first. Each contact rule of each activity in force
or retired follows, then the default prospect rule for contacts that no
applicable rule governs. Closed subject requests, breach records and import
leftovers come last.

A run stores each step's label and not-applied reason as a code with its params,
beside the sentence in the site's language, so that a page rebuilds the
sentence in the reader's language.
"""

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Exists
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone
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


class StepLabel:
    """Codes of the sentences that name a step."""

    RENTED_LISTS = "rented_lists"
    RULE = "rule"
    DEFAULT_CONTACTS = "default_contacts"
    IMPORT_LEFTOVERS = "import_leftovers"


class NotApplied:
    """Codes of the reasons why a run leaves the records of a step unchanged."""

    START_EVENT_NOT_RECORDED = "start_event_not_recorded"
    ARCHIVE_OUTSIDE_REGISTRE = "archive_outside_registre"
    PERIOD_BEFORE_YEAR_ONE = "period_before_year_one"
    LONGER_RULE = "longer_rule"


# The rule fields that ``RetentionRule.describe`` words: register entries (a
# category of data, a period, an event) that the stored sentence contains too.
RULE_LABEL_FIELDS = (
    "data_category",
    "duration",
    "unit",
    "start_event",
    "start_event_other",
    "action",
)

# Keys of a step's summary that word the step or store what rebuilds the words.
# Audit events leave them out.
STEP_WORDING_KEYS = frozenset(
    {
        "label",
        "label_code",
        "label_params",
        "not_applied_reason",
        "not_applied_code",
        "not_applied_params",
    }
)


def _rule_label_params(rule: RetentionRule) -> dict:
    return {name: getattr(rule, name) for name in RULE_LABEL_FIELDS}


def _rule_label(params: dict) -> str:
    # An unsaved rule words the stored fields as the register does, with the
    # choices in the active language.
    rule = RetentionRule(**{name: params[name] for name in RULE_LABEL_FIELDS})
    return rule.describe()


def _rented_lists_label(params: dict) -> str:
    return _("Rented lists whose licence has ended")


def _default_contacts_label(params: dict) -> str:
    return _(
        "Prospects without an applicable rule: %(years)s years from collection "
        "or last contact from the person, then delete"
    ) % {"years": params["years"]}


def _import_leftovers_label(params: dict) -> str:
    return _("Import files and staging rows older than %(hours)s hours") % {
        "hours": params["hours"]
    }


def _start_event_not_recorded(params: dict) -> str:
    rule = RetentionRule(start_event=params["start_event"])
    return _(
        "Contacts do not record the start event “%(event)s”; change the rule "
        "to start from collection or from the last contact."
    ) % {"event": rule.get_start_event_display()}


def _archive_outside_registre(params: dict) -> str:
    return _(
        "Archiving (intermediate storage) happens outside Registre: the "
        "contacts are counted here but not changed."
    )


def _period_before_year_one(params: dict) -> str:
    rule = RetentionRule(unit=params["unit"])
    return _(
        "The period of this rule (%(duration)s %(unit)s) reaches back before "
        "the year 1, so nothing is due under it. Correct the duration in the "
        "register."
    ) % {"duration": params["duration"], "unit": rule.get_unit_display()}


def _longer_rule(params: dict) -> str:
    return _(
        "A longer rule of %(activity)s keeps these records, so this rule "
        "removes nothing."
    ) % {"activity": params["activity"]}


LABEL_TEXTS = {
    StepLabel.RENTED_LISTS: _rented_lists_label,
    StepLabel.RULE: _rule_label,
    StepLabel.DEFAULT_CONTACTS: _default_contacts_label,
    StepLabel.IMPORT_LEFTOVERS: _import_leftovers_label,
}

NOT_APPLIED_TEXTS = {
    NotApplied.START_EVENT_NOT_RECORDED: _start_event_not_recorded,
    NotApplied.ARCHIVE_OUTSIDE_REGISTRE: _archive_outside_registre,
    NotApplied.PERIOD_BEFORE_YEAR_ONE: _period_before_year_one,
    NotApplied.LONGER_RULE: _longer_rule,
}


def step_label(summary: dict) -> str:
    """Return the label of a stored step in the active language.

    A step without a known ``label_code``, such as one of a run recorded
    before the codes were stored, returns its stored sentence.
    """
    wording = LABEL_TEXTS.get(summary.get("label_code", ""))
    if wording is None:
        return summary.get("label", "")
    return wording(summary.get("label_params", {}))


def step_not_applied_reason(summary: dict) -> str:
    """Return why a stored step was not applied, in the active language.

    A step without a known ``not_applied_code`` returns its stored sentence,
    which is empty for a step that was applied.
    """
    wording = NOT_APPLIED_TEXTS.get(summary.get("not_applied_code", ""))
    if wording is None:
        return summary.get("not_applied_reason", "")
    return wording(summary.get("not_applied_params", {}))


RESTRICTED = Contact.Status.RESTRICTED
# Contacts that no retention step removes: those already anonymised, and
# those whose processing the person asked to restrict.
STATUSES_KEPT = (Contact.Status.ANONYMISED, RESTRICTED)


@dataclass
class Step:
    """One unit of a run: which records, what to do with them, and from when.

    ``due`` selects the contacts the real run acts on, never an anonymised or
    a restricted one: a person who asked for restriction (GDPR Art. 18) may
    need the data kept, so ``restricted_kept`` selects those for the counts only.
    ``preview`` is ``due``
    without the contacts that an earlier step of the same run removes, so the
    counts of a dry run match those of the real run that follows it.
    ``label`` and ``not_applied_reason`` are worded from their codes when the
    step is built, in the language active then.
    """

    key: str
    kind: str
    action: str
    label_code: str
    label_params: dict = field(default_factory=dict)
    activity_id: int | None = None
    activity_reference: str = ""
    rule_id: int | None = None
    cutoff: datetime | None = None
    due: Q | None = None
    preview: Q | None = None
    # The restricted contacts that ``due`` would select but the job keeps.
    restricted_kept: Q | None = None
    ended_list_ids: tuple[int, ...] = ()
    # Keyword arguments of a purge step's function, besides its cutoff.
    purge_arguments: dict = field(default_factory=dict)
    not_applied_code: str = ""
    not_applied_params: dict = field(default_factory=dict)
    label: str = field(init=False)
    not_applied_reason: str = field(init=False)

    def __post_init__(self):
        self.label = LABEL_TEXTS[self.label_code](self.label_params)
        self.not_applied_reason = ""
        if self.not_applied_code:
            wording = NOT_APPLIED_TEXTS[self.not_applied_code]
            self.not_applied_reason = wording(self.not_applied_params)

    def as_summary(self) -> dict:
        """Return the step's description as JSON-ready values (no personal data)."""
        return {
            "key": self.key,
            "kind": self.kind,
            "action": self.action,
            "label": self.label,
            "label_code": self.label_code,
            "label_params": self.label_params,
            "activity_id": self.activity_id,
            "activity_reference": self.activity_reference,
            "rule_id": self.rule_id,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "ended_list_ids": list(self.ended_list_ids),
            "not_applied_reason": self.not_applied_reason,
            "not_applied_code": self.not_applied_code,
            "not_applied_params": self.not_applied_params,
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


def rented_delete_q(ended_list_ids, *, restricted: bool = False) -> Q:
    """Return the contacts that come only from ended rented lists.

    Contacts already anonymised, or restricted, are kept: they only lose the
    list's rows. ``restricted`` returns the restricted ones instead.
    """
    ended = list(ended_list_ids)
    in_ended = Provenance.objects.filter(
        contact=OuterRef("pk"), contact_list_id__in=ended
    )
    elsewhere = Provenance.objects.filter(contact=OuterRef("pk")).exclude(
        contact_list_id__in=ended
    )
    if restricted:
        return Q(Exists(in_ended)) & ~Q(Exists(elsewhere)) & Q(status=RESTRICTED)
    return Q(Exists(in_ended)) & ~Q(Exists(elsewhere)) & ~Q(status__in=STATUSES_KEPT)


def _rented_lists_step(*, as_of: date) -> Step:
    ended = tuple(rented_list_ids_ended(as_of=as_of))
    delete_q = rented_delete_q(ended) if ended else Q(pk__in=[])
    return Step(
        key=RENTED_LISTS_KEY,
        kind=StepKind.RENTED_LISTS,
        action=RetentionRule.Action.DELETE,
        label_code=StepLabel.RENTED_LISTS,
        due=delete_q,
        preview=delete_q,
        restricted_kept=rented_delete_q(ended, restricted=True) if ended else None,
        ended_list_ids=ended,
    )


def _contact_rule_step(rule, activity, cutoff, start_q) -> Step:
    due = restricted_kept = None
    not_applied_code = ""
    not_applied_params = {}
    if start_q is None:
        not_applied_code = NotApplied.START_EVENT_NOT_RECORDED
        not_applied_params = {"start_event": rule.start_event}
    else:
        past_limit = Q(processing_activity_id=activity.pk) & start_q
        due = past_limit & ~Q(status__in=STATUSES_KEPT)
        restricted_kept = past_limit & Q(status=RESTRICTED)
        if rule.action not in ACTIONS_THAT_REMOVE:
            not_applied_code = NotApplied.ARCHIVE_OUTSIDE_REGISTRE

    return Step(
        key=f"contacts:rule:{rule.pk}",
        kind=StepKind.CONTACTS,
        action=rule.action,
        label_code=StepLabel.RULE,
        label_params=_rule_label_params(rule),
        activity_id=activity.pk,
        activity_reference=activity.reference,
        rule_id=rule.pk,
        cutoff=cutoff,
        due=due,
        restricted_kept=restricted_kept,
        not_applied_code=not_applied_code,
        not_applied_params=not_applied_params,
    )


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
        label_code=StepLabel.RULE,
        label_params=_rule_label_params(rule),
        activity_id=activity.pk,
        activity_reference=activity.reference,
        rule_id=rule.pk,
        not_applied_code=NotApplied.PERIOD_BEFORE_YEAR_ONE,
        not_applied_params={"duration": rule.duration, "unit": rule.unit},
    )


def _purge_steps(purge_rules) -> list[Step]:
    """Return the steps of the rules for closed requests and breach records.

    A record is removed only once every rule that covers it has ended, so the
    longest rule governs. Subject requests name no activity, so the longest
    request rule of the register applies to all of them. A breach follows
    the longest breach rule of the activities it concerns, or the longest
    breach rule of the register when none of them has one. The other rules
    remove nothing, and their steps name the activity that keeps the records.
    A rule whose period cannot end (cutoff None) keeps them for good.
    """
    requests = [item for item in purge_rules if item[0].record_type != BREACH]
    longest_request = _longest(requests)
    breach_cutoffs: dict[int, datetime | None] = {}
    longest_breach_rules: dict[int, RetentionRule] = {}
    for rule, activity, cutoff in purge_rules:
        if rule.record_type != BREACH:
            continue
        current = longest_breach_rules.get(activity.pk)
        if current is None or _keeps_longer(cutoff, breach_cutoffs[activity.pk]):
            longest_breach_rules[activity.pk] = rule
            breach_cutoffs[activity.pk] = cutoff

    steps = []
    for rule, activity, cutoff in purge_rules:
        if cutoff is None:
            steps.append(_unreachable_rule_step(rule, activity))
        elif rule.record_type == BREACH:
            if longest_breach_rules[activity.pk] == rule:
                step = _purge_step(rule, activity, StepKind.BREACHES, cutoff)
                step.purge_arguments = {
                    "activity_id": activity.pk,
                    "activity_cutoffs": breach_cutoffs,
                }
            else:
                step = _longer_rule_step(rule, activity, activity.reference)
            steps.append(step)
        elif longest_request[0] == rule:
            steps.append(_purge_step(rule, activity, StepKind.SUBJECT_REQUESTS, cutoff))
        else:
            steps.append(
                _longer_rule_step(rule, activity, longest_request[1].reference)
            )
    return steps


BREACH = RetentionRule.RecordType.BREACH


def _keeps_longer(cutoff: datetime | None, other: datetime | None) -> bool:
    """Tell whether a rule ending at ``cutoff`` keeps records longer than one
    ending at ``other``: an earlier cutoff, or None (kept for good)."""
    if other is None:
        return False
    return cutoff is None or cutoff < other


def _longest(purge_rules):
    """Return the ``(rule, activity, cutoff)`` that keeps records longest."""
    longest = None
    for item in purge_rules:
        if longest is None or _keeps_longer(item[2], longest[2]):
            longest = item
    return longest or (None, None, None)


def _purge_step(rule, activity, kind, cutoff=None, **fields) -> Step:
    """Return the step of a rule for closed requests or breach records."""
    return Step(
        key=f"{kind}:rule:{rule.pk}",
        kind=kind,
        action="purge",
        label_code=StepLabel.RULE,
        label_params=_rule_label_params(rule),
        activity_id=activity.pk,
        activity_reference=activity.reference,
        rule_id=rule.pk,
        cutoff=cutoff,
        **fields,
    )


def _longer_rule_step(rule, activity, keeping_reference: str) -> Step:
    """Return the step of a rule that a longer rule of ``keeping_reference``
    overrides, so that it removes nothing."""
    return _purge_step(
        rule,
        activity,
        RECORD_TYPE_STEP_KINDS[rule.record_type],
        not_applied_code=NotApplied.LONGER_RULE,
        not_applied_params={"activity": keeping_reference},
    )


def _default_contacts_step(governed_activity_ids, as_of: date) -> Step:
    cutoff = start_cutoff(
        duration=relativedelta(years=PROSPECT_DEFAULT_YEARS), as_of=as_of
    )
    ungoverned = Q(processing_activity__isnull=True) | ~Q(
        processing_activity_id__in=list(governed_activity_ids)
    )
    past_limit = ungoverned & contact_start_q(
        start_event=RetentionRule.StartEvent.COLLECTION_OR_LAST_CONTACT,
        cutoff=cutoff,
    )
    return Step(
        key=DEFAULT_CONTACTS_KEY,
        kind=StepKind.CONTACTS,
        action=RetentionRule.Action.DELETE,
        label_code=StepLabel.DEFAULT_CONTACTS,
        label_params={"years": PROSPECT_DEFAULT_YEARS},
        cutoff=cutoff,
        due=past_limit & ~Q(status__in=STATUSES_KEPT),
        restricted_kept=past_limit & Q(status=RESTRICTED),
    )


def _activities_applied():
    """Return the activities whose retention rules a run applies.

    An activity in force or retired applies all its rules: a retired
    activity's contacts stay under the limits that the register sets for
    them and not under the longer default prospect rule, and its breach and
    request records are kept for the periods of its rules. A draft that has
    contacts applies only its contact rules. A draft gets contacts only when
    a register import or the admin sets it back to draft.
    """
    statuses = ProcessingActivity.Status
    has_contacts = Exists(Contact.objects.filter(processing_activity=OuterRef("pk")))
    return (
        ProcessingActivity.objects.filter(
            Q(status__in=[statuses.IN_FORCE, statuses.RETIRED])
            | Q(has_contacts, status=statuses.DRAFT)
        )
        .prefetch_related("retention_rules")
        .order_by("reference")
    )


def retention_plan(*, as_of: date, now: datetime) -> list[Step]:
    """Return the steps of a run that applies the register as of ``as_of``."""
    rented = _rented_lists_step(as_of=as_of)
    contact_steps: list[Step] = []
    purge_rules: list[tuple[RetentionRule, ProcessingActivity, datetime | None]] = []
    governed: set[int] = set()
    for activity in _activities_applied():
        draft = activity.status == ProcessingActivity.Status.DRAFT
        removed_before = Q(pk__in=[])
        for rule in activity.retention_rules.all():
            record_type = rule.record_type
            if record_type not in RECORD_TYPE_STEP_KINDS:
                continue
            # A retired activity's records of requests and breaches are kept
            # for the periods of its rules, as its contacts are.
            if draft and record_type != RetentionRule.RecordType.CONTACT:
                continue
            try:
                cutoff = start_cutoff(duration=rule_duration(rule), as_of=as_of)
            except (OverflowError, ValueError):
                # The register keeps these records for good: the default rule
                # must not remove them either.
                cutoff = None
            if record_type != RetentionRule.RecordType.CONTACT:
                purge_rules.append((rule, activity, cutoff))
            elif cutoff is None:
                governed.add(activity.pk)
                contact_steps.append(_unreachable_rule_step(rule, activity))
            else:
                start_q = contact_start_q(start_event=rule.start_event, cutoff=cutoff)
                step = _contact_rule_step(rule, activity, cutoff, start_q)
                if step.due is not None:
                    governed.add(activity.pk)
                    step.preview = step.due & ~rented.due & ~removed_before
                    if rule.action in ACTIONS_THAT_REMOVE:
                        removed_before |= step.due
                contact_steps.append(step)

    purge_steps = _purge_steps(purge_rules)
    default = _default_contacts_step(governed, as_of)
    default.preview = default.due & ~rented.due
    leftovers = Step(
        key=IMPORT_LEFTOVERS_KEY,
        kind=StepKind.IMPORT_LEFTOVERS,
        action="purge",
        label_code=StepLabel.IMPORT_LEFTOVERS,
        label_params={"hours": settings.IMPORT_FILE_RETENTION_HOURS},
        cutoff=_leftovers_reference(as_of=as_of, now=now)
        - timedelta(hours=settings.IMPORT_FILE_RETENTION_HOURS),
    )
    return [rented, *contact_steps, default, *purge_steps, leftovers]


def _leftovers_reference(*, as_of: date, now: datetime) -> datetime:
    """Return the time from which import leftovers count their age.

    A run of today counts from now. A preview of a later day's run counts from
    the start of that day, the earliest time the run can start, so it shows
    the files that run will remove at least.
    """
    if as_of <= local_today(now):
        return now
    return datetime.combine(as_of, time.min, tzinfo=RETENTION_TIME_ZONE)


def run_latest(*, dry_run: bool, ahead_only: bool = False) -> RetentionRun | None:
    """Return the latest run of the kind that has started, finished or not.

    With ``ahead_only``, a run that applied the limits as of a day before the
    day it was created is left out: a dry run that looks back previews no
    coming run. A failed dry run is left out too, since it counted nothing:
    the preview before it stays the one to read (``preview_failed_since``
    tells about the failure).
    """
    runs = RetentionRun.objects.filter(dry_run=dry_run)
    if ahead_only:
        created_on = TruncDate("created_at", tzinfo=RETENTION_TIME_ZONE)
        runs = runs.filter(as_of__gte=created_on)
    hidden = [RetentionRun.Status.QUEUED, RetentionRun.Status.SKIPPED]
    if dry_run:
        hidden.append(RetentionRun.Status.FAILED)
    return (
        runs.exclude(status__in=hidden)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")
        .first()
    )


def preview_failed_since(preview: RetentionRun | None) -> RetentionRun | None:
    """Return the latest preview that failed after ``preview``, if any."""
    failed = RetentionRun.objects.filter(
        dry_run=True, status=RetentionRun.Status.FAILED
    )
    if preview is not None:
        failed = failed.filter(created_at__gt=preview.created_at)
    return failed.order_by("-created_at", "-pk").first()


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
    """Group a run's consecutive steps of one activity, in the run's order.

    An activity whose contact rules and purge rules run apart gets one group
    per stretch, and so do the steps without an activity: the rented lists
    first, the default rule and the import leftovers last. The steps then
    read in the order they ran. ``for_page`` adds ``order``, the step's place in the
    run, ``cutoff_at``, the cutoff as a datetime, and ``erased_labels``, the
    other apps' counts with labels in the active language.
    It also rewords ``label`` and ``not_applied_reason`` in the active language.
    """
    groups: list[dict] = []
    for order, step in enumerate(run.steps, start=1):
        activity_id = step.get("activity_id")
        if not groups or groups[-1]["activity_id"] != activity_id:
            groups.append(
                {
                    "activity_id": activity_id,
                    "activity_reference": step.get("activity_reference", ""),
                    "steps": [],
                }
            )
        displayed = dict(step)
        if for_page:
            displayed["order"] = order
            displayed["label"] = step_label(step)
            displayed["not_applied_reason"] = step_not_applied_reason(step)
            if step.get("cutoff"):
                displayed["cutoff_at"] = datetime.fromisoformat(step["cutoff"])
            displayed["erased_labels"] = [
                (record_kind_label(kind), count)
                for kind, count in step.get("erased", {}).items()
            ]
        groups[-1]["steps"].append(displayed)
    return groups


# The fields of a step that decide which records a run removes, compared
# between a preview and the current plan.
STEP_PLAN_FIELDS = (
    "key",
    "action",
    "cutoff",
    "label_params",
    "not_applied_code",
    "ended_list_ids",
)


def _step_plan(summary: dict) -> dict:
    plan = {name: summary.get(name) for name in STEP_PLAN_FIELDS}
    if summary.get("key") == IMPORT_LEFTOVERS_KEY:
        # This cutoff follows the clock, not the register, and its period is
        # compared through ``label_params``.
        plan["cutoff"] = None
    return plan


def preview_plan_changed(preview: RetentionRun | None) -> bool:
    """Tell whether the plan of a run has changed since ``preview`` was counted.

    The current plan is built as of the preview's day, so only a change of
    the register or of the rented lists' licences makes it differ. A preview
    recorded before the steps stored ``label_params`` counts as changed,
    because its steps do not show the rules it applied. Returns False without
    a preview that succeeded, since there is no complete plan to compare.
    """
    if preview is None or preview.status != RetentionRun.Status.SUCCEEDED:
        return False
    if any("label_params" not in step for step in preview.steps):
        return True

    current = retention_plan(as_of=preview.as_of, now=timezone.now())
    current_plan = [_step_plan(step.as_summary()) for step in current]
    return current_plan != [_step_plan(step) for step in preview.steps]


def run_is_real(run_id: int) -> bool:
    """Tell whether ``run_id`` is the id of a real run (not a dry run)."""
    return RetentionRun.objects.filter(pk=run_id, dry_run=False).exists()


def preview_confirmable(
    preview: RetentionRun | None, last_run: RetentionRun | None
) -> RetentionRun | None:
    """Return the preview whose counts a real run may confirm, or None.

    That is a preview that succeeded, was counted after the last real run,
    applies the limits as of today or later, and whose plan has not changed
    since. An older one counts records that are gone or misses records that
    have become due. A preview confirms one real run only: once a run is
    requested after it, even a queued one, a second confirmation is refused.
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
    if preview_plan_changed(preview):
        return None
    return preview


def preview_current() -> RetentionRun | None:
    """Return the latest preview if a real run may confirm its counts."""
    return preview_confirmable(
        run_latest(dry_run=True, ahead_only=True), run_latest(dry_run=False)
    )
