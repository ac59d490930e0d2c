"""Business rules of the processing register: saving activities and their parts."""

import logging
from dataclasses import dataclass
from dataclasses import field

from django.core.exceptions import ValidationError
from django.db import models
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.core.audit import audit_record
from apps.register.models import DataSubjectCategory
from apps.register.models import LawfulBasis
from apps.register.models import PersonalDataCategory
from apps.register.models import ProcessingActivity
from apps.register.models import Processor
from apps.register.models import Recipient
from apps.register.models import ReferenceTerm
from apps.register.models import RetentionRule
from apps.register.models import Sensitivity
from apps.register.models import Transfer

logger = logging.getLogger(__name__)

# The parts of an activity, in the order forms, exports and imports show them.
CHILD_MODELS: dict[str, type[models.Model]] = {
    "data_subjects": DataSubjectCategory,
    "data_categories": PersonalDataCategory,
    "recipients": Recipient,
    "processors": Processor,
    "transfers": Transfer,
    "retention_rules": RetentionRule,
}

# Editable fields of each part, without the id and the activity.
CHILD_FIELDS: dict[str, list[str]] = {
    "data_subjects": ["label", "details"],
    "data_categories": ["label", "details", "sensitivity"],
    "recipients": ["label", "details", "third_country"],
    "processors": ["name", "service", "country", "dpa_signed_on"],
    "transfers": ["recipient", "country", "safeguard", "documentation"],
    "retention_rules": [
        "data_category",
        "record_type",
        "duration",
        "unit",
        "start_event",
        "start_event_other",
        "action",
        "notes",
    ],
}

ACTIVITY_FIELDS = [
    "reference",
    "name",
    "description",
    "role",
    "joint_controllers",
    "controllers_served",
    "purposes",
    "lawful_basis",
    "legitimate_interest",
    "concerns_recipients_profession",
    "special_category_condition",
    "criminal_data_authority",
    "data_sources",
    "security_measures",
    "dpia_required",
    "dpia_done",
    "dpia_reference",
    "status",
    "owner",
    "last_reviewed_on",
    "next_review_on",
]

# Allowed status changes through the forms; an import restores any status.
STATUS_TRANSITIONS = {
    ProcessingActivity.Status.DRAFT: {ProcessingActivity.Status.IN_FORCE},
    ProcessingActivity.Status.IN_FORCE: {ProcessingActivity.Status.RETIRED},
    ProcessingActivity.Status.RETIRED: {ProcessingActivity.Status.IN_FORCE},
}


@dataclass
class ActivityData:
    """The values of one activity and of its parts, as forms and imports give them.

    ``fields`` maps activity field names to values (``owner`` is a user or None).
    Each list in ``parts`` contains dicts of ``CHILD_FIELDS``; a dict may carry the
    ``id`` of the existing row it updates.
    """

    fields: dict
    parts: dict[str, list[dict]] = field(default_factory=dict)


@dataclass(frozen=True)
class MissingItem:
    """An Art. 30 item an inspector would ask for and the activity lacks."""

    code: str
    label: str


class RegisterError(ValidationError):
    """A register change that breaks a domain rule."""


def activity_missing_items(*, activity: ProcessingActivity) -> list[MissingItem]:
    """List what the activity lacks for a complete record, in form order.

    A controller's activity follows Art. 30(1) plus what the CNIL template
    asks for. A processor's activity follows the lighter Art. 30(2) record:
    the controllers, the categories of processing, transfers and security.
    """
    if activity.role == ProcessingActivity.Role.PROCESSOR:
        checks = _processor_checks(activity)
    else:
        checks = _controller_checks(activity)
    return [MissingItem(code, label) for passed, code, label in checks if not passed]


def _controller_checks(activity: ProcessingActivity):
    categories = list(activity.data_categories.all())
    sensitivities = {item.sensitivity for item in categories}

    yield bool(activity.purposes.strip()), "purposes", _("purposes")
    yield bool(activity.lawful_basis), "lawful_basis", _("lawful basis")
    if activity.lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS:
        yield (
            bool(activity.legitimate_interest.strip()),
            "legitimate_interest",
            _("legitimate interest pursued"),
        )
    if activity.role == ProcessingActivity.Role.JOINT_CONTROLLER:
        yield (
            bool(activity.joint_controllers.strip()),
            "joint_controllers",
            _("joint controllers"),
        )
    yield (
        activity.data_subjects.exists(),
        "data_subjects",
        _("categories of data subjects"),
    )
    yield bool(categories), "data_categories", _("categories of personal data")
    if Sensitivity.SPECIAL in sensitivities:
        yield (
            bool(activity.special_category_condition.strip()),
            "special_category_condition",
            _("condition for special-category data"),
        )
    if Sensitivity.CRIMINAL in sensitivities:
        yield (
            bool(activity.criminal_data_authority.strip()),
            "criminal_data_authority",
            _("authority for criminal-offence data"),
        )
    yield activity.recipients.exists(), "recipients", _("recipients")
    yield from _contract_checks(activity)
    yield activity.retention_rules.exists(), "retention_rules", _("retention rule")
    yield (
        bool(activity.security_measures.strip()),
        "security_measures",
        _("security measures"),
    )
    yield bool(activity.data_sources.strip()), "data_sources", _("data sources")
    yield activity.dpia_required is not None, "dpia_required", _("DPIA decision")
    if activity.dpia_required:
        yield activity.dpia_done, "dpia_done", _("DPIA carried out")
    yield from _follow_up_checks(activity)


def _processor_checks(activity: ProcessingActivity):
    yield (
        bool(activity.controllers_served.strip()),
        "controllers_served",
        _("controllers the organisation acts for"),
    )
    yield (
        bool(activity.purposes.strip() or activity.description.strip()),
        "purposes",
        _("categories of processing carried out for the controllers"),
    )
    yield from _contract_checks(activity)
    yield (
        bool(activity.security_measures.strip()),
        "security_measures",
        _("security measures"),
    )
    yield from _follow_up_checks(activity)


def _contract_checks(activity: ProcessingActivity):
    """Check each transfer's safeguard and each processor's Art. 28 contract.

    A recipient in a third country needs a transfer recorded with its safeguard.
    """
    transfers = list(activity.transfers.all())
    if not transfers and any(r.third_country for r in activity.recipients.all()):
        yield False, "transfers", _("transfer to the recipient in a third country")
    for transfer in transfers:
        yield (
            bool(transfer.safeguard),
            f"transfer_safeguard_{transfer.pk}",
            _("safeguard of the transfer to %(recipient)s")
            % {"recipient": transfer.recipient},
        )
    for processor in activity.processors.all():
        yield (
            processor.dpa_signed_on is not None,
            f"processor_dpa_{processor.pk}",
            _("data-processing agreement of %(name)s") % {"name": processor.name},
        )


def _follow_up_checks(activity: ProcessingActivity):
    yield activity.owner_id is not None, "owner", _("person in charge")
    yield activity.next_review_on is not None, "next_review_on", _("next review")


@dataclass(frozen=True)
class SaveOutcome:
    """The saved activity, whether it is new, and how many rows changed."""

    activity: ProcessingActivity
    created: bool
    activity_changed: bool
    part_changes: dict[str, int]

    @property
    def changed(self) -> bool:
        return self.created or self.activity_changed or any(self.part_changes.values())


def activity_save(
    *,
    data: ActivityData,
    actor=None,
    activity: ProcessingActivity | None = None,
    check_transition: bool = True,
    audit: bool = True,
) -> ProcessingActivity:
    """Create or update an activity and replace its parts; see ``activity_write``."""
    return activity_write(
        data=data,
        actor=actor,
        activity=activity,
        check_transition=check_transition,
        audit=audit,
    ).activity


def activity_write(
    *,
    data: ActivityData,
    actor=None,
    activity: ProcessingActivity | None = None,
    check_transition: bool = True,
    audit: bool = True,
) -> SaveOutcome:
    """Create or update an activity and replace its parts with ``data.parts``.

    ``activity`` must be as stored, because its values before the change decide
    whether anything changed. A part with an ``id`` updates that row. Parts
    without one update the existing rows in order, so a re-import of unchanged
    data adds no history entry. Rows left unmatched are deleted. A broken rule
    raises ``ValidationError`` naming the field and the value, and then nothing
    is saved.
    """
    creating = activity is None
    activity = activity or ProcessingActivity()
    previous_status = activity.status if not creating else None
    before = _field_values(activity)

    for name, value in data.fields.items():
        setattr(activity, name, value)
    _activity_check(
        activity=activity,
        previous_status=previous_status,
        check_transition=check_transition,
    )

    with transaction.atomic():
        changed = creating or _field_values(activity) != before
        if changed:
            activity.save()
        part_counts = {
            part: _parts_sync(activity=activity, part=part, rows=rows)
            for part, rows in data.parts.items()
        }
        # A save that changes nothing writes nothing, so it skips the check and
        # an unchanged re-import costs no extra queries. Raising here rolls
        # back the activity and its parts together.
        if changed or any(part_counts.values()):
            _in_force_check(activity=activity, previous_status=previous_status)

    outcome = SaveOutcome(activity, creating, changed and not creating, part_counts)
    if audit and outcome.changed:
        audit_record(
            action="register.activity.created"
            if creating
            else "register.activity.changed",
            actor=actor,
            target=activity,
            details={"parts_changed": part_counts, "status": activity.status},
        )
    return outcome


def _activity_check(
    *,
    activity: ProcessingActivity,
    previous_status: str | None,
    check_transition: bool,
) -> None:
    try:
        activity.full_clean()
    except ValidationError as error:
        raise RegisterError(error.message_dict) from error

    if (
        activity.lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS
        and not activity.legitimate_interest.strip()
    ):
        raise RegisterError(
            {
                "legitimate_interest": _(
                    "Describe the legitimate interest pursued: it is required "
                    "when the lawful basis is legitimate interests."
                )
            }
        )

    allowed = STATUS_TRANSITIONS.get(previous_status, set())
    if (
        check_transition
        and previous_status is not None
        and activity.status != previous_status
        and activity.status not in allowed
    ):
        raise RegisterError(
            {
                "status": _(
                    "An activity cannot go from “%(old)s” to “%(new)s”. From "
                    "“%(old)s”, the allowed status is: %(allowed)s."
                )
                % {
                    "old": _status_label(previous_status),
                    "new": _status_label(activity.status),
                    "allowed": ", ".join(
                        _status_label(status) for status in sorted(allowed)
                    ),
                }
            }
        )


def _status_label(status: str) -> str:
    return str(ProcessingActivity.Status(status).label)


def _in_force_check(
    *, activity: ProcessingActivity, previous_status: str | None
) -> None:
    """Reject an activity in force whose record still lacks Art. 30 items.

    The check runs on every save through this service that writes a row, so
    it covers a new activity, a change of status and an edit that empties an
    item. Drafts and retired activities may stay incomplete. Rows created
    straight through the ORM skip it, as other apps' tests do.
    """
    if activity.status != ProcessingActivity.Status.IN_FORCE:
        return

    # A fresh read returns the parts saved above, not a stale prefetch cache.
    stored = ProcessingActivity.objects.get(pk=activity.pk)
    missing = activity_missing_items(activity=stored)
    if not missing:
        return

    labels = ", ".join(str(item.label) for item in missing)
    if previous_status == ProcessingActivity.Status.IN_FORCE:
        # STATUS_TRANSITIONS does not allow going back to draft.
        message = ngettext(
            "An activity in force needs a complete record, and %(count)d item "
            "is missing: %(items)s. Fill it in before saving.",
            "An activity in force needs a complete record, and %(count)d items "
            "are missing: %(items)s. Fill them in before saving.",
            len(missing),
        )
    else:
        message = ngettext(
            "An activity in force needs a complete record, and %(count)d "
            "item is missing: %(items)s. Fill it in or keep the activity "
            "as a draft.",
            "An activity in force needs a complete record, and %(count)d "
            "items are missing: %(items)s. Fill them in or keep the "
            "activity as a draft.",
            len(missing),
        )
    raise RegisterError({"status": message % {"count": len(missing), "items": labels}})


def _field_values(instance: models.Model) -> dict:
    return {
        item.attname: getattr(instance, item.attname)
        for item in instance._meta.concrete_fields
        if item.attname not in {"updated_at", "created_at"}
    }


def _parts_sync(*, activity: ProcessingActivity, part: str, rows: list[dict]) -> int:
    """Make the activity's rows of one part equal to ``rows``; return the changes."""
    model = CHILD_MODELS[part]
    existing = {row.pk: row for row in model.objects.filter(activity=activity)}
    by_position = not any(row.get("id") for row in rows)
    unmatched = list(existing.values())
    changes = 0

    for index, values in enumerate(rows):
        if by_position:
            instance = unmatched[index] if index < len(unmatched) else None
        else:
            instance = existing.get(values.get("id"))
        instance = instance or model(activity=activity)
        before = _field_values(instance)
        for name in CHILD_FIELDS[part]:
            if name in values:
                setattr(instance, name, values[name])
        try:
            # Django checks CheckConstraints with one query each, so only
            # models that declare some pay for it.
            instance.full_clean(
                exclude=["activity"], validate_constraints=bool(model._meta.constraints)
            )
        except ValidationError as error:
            raise RegisterError(
                {
                    part: _("Row %(row)d: %(errors)s")
                    % {"row": index + 1, "errors": _format_errors(error)}
                }
            ) from error
        if instance.pk is None or _field_values(instance) != before:
            instance.save()
            changes += 1
        existing.pop(instance.pk, None)

    # Rows still here were neither matched by id nor by position.
    leftovers = list(existing.values())
    for row in leftovers:
        row.delete()
        changes += 1
    return changes


def _format_errors(error: ValidationError) -> str:
    return "; ".join(
        f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
    )


def reference_term_add(*, kind: str, label: str, sensitivity: str, actor=None):
    """Add an entry to a reference list; raise ValidationError if it exists."""
    last = ReferenceTerm.objects.filter(kind=kind).order_by("-position").first()
    term = ReferenceTerm(
        kind=kind,
        label=label.strip(),
        sensitivity=sensitivity,
        position=(last.position + 1) if last else 0,
    )
    term.full_clean()
    term.save()
    audit_record(action="register.term.added", actor=actor, target=term)
    return term


def reference_term_delete(*, term, actor=None) -> None:
    """Remove an entry from a reference list; activities keep their own text."""
    audit_record(
        action="register.term.deleted",
        actor=actor,
        target=term,
        details={"kind": term.kind},
    )
    term.delete()


@transaction.atomic
def activity_delete(*, activity: ProcessingActivity, actor=None) -> None:
    """Delete an activity that no contact, import or breach refers to.

    Raises ``ValidationError`` naming what still refers to it: an activity in
    use stays in the register, and the way out is to retire it. The history
    of its versions is kept.
    """
    reference = activity.reference
    # Deleting would only unlink the breaches, so the breach register would
    # lose which activity a breach concerned: they protect it too.
    kinds = set()
    if activity.breaches.exists():
        kinds.add(str(activity.breaches.model._meta.verbose_name_plural))
    audit_record(
        action="register.activity.deleted",
        actor=actor,
        target=activity,
        details={"reference": reference},
    )
    try:
        if not kinds:
            activity.delete()
    except ProtectedError as error:
        kinds.update(
            str(row._meta.verbose_name_plural) for row in error.protected_objects
        )
    if kinds:
        raise ValidationError(
            _(
                "Activity %(reference)s cannot be deleted because %(kinds)s refer "
                "to it. Retire it instead: it then leaves the lists of activities "
                "in force and stays in the register's history."
            )
            % {"reference": reference, "kinds": ", ".join(sorted(kinds))}
        )
