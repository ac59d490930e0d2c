"""Business rules of the processing register: saving activities and their parts."""

import logging
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from django.contrib.auth import get_permission_codename
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError
from django.db import models
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.core.audit import audit_record
from apps.core.dates import format_datetime
from apps.core.text import newlines_unified
from apps.core.text import text_excerpt
from apps.register.changes import RowAction
from apps.register.changes import RowChange
from apps.register.changes import ValueChange
from apps.register.changes import row_values
from apps.register.changes import value_changes
from apps.register.countries import country_key
from apps.register.countries import is_eea_country
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
    "started_on",
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


@dataclass(frozen=True)
class FieldError:
    """One rejected value of an activity, with where it is in ``ActivityData``.

    ``part`` is None for the activity's own fields, and otherwise names the
    part, with ``row`` the index of the row in ``ActivityData.parts[part]``, or
    None when the error concerns the part as a whole.
    ``field`` is None when the error concerns the whole activity or row.
    """

    part: str | None
    row: int | None
    field: str | None
    messages: tuple[str, ...]

    @property
    def label(self) -> str:
        """Return the field's verbose name in the active language, or ""."""
        return field_label(part=self.part, field=self.field)


class RegisterError(ValidationError):
    """A register change that breaks a domain rule.

    ``field_errors`` lists every rejected value with its place, so that the
    import can point at each cell. ``message_dict`` groups the same messages
    by activity field, or by part with the row number and the field's label.
    """

    def __init__(self, field_errors: list[FieldError]):
        self.field_errors = list(field_errors)
        super().__init__(_grouped_messages(self.field_errors))


def field_label(*, part: str | None, field: str | None) -> str:
    """Return the verbose name of an activity or part field, or "" for None."""
    if field is None:
        return ""
    model = ProcessingActivity if part is None else CHILD_MODELS[part]
    try:
        return str(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def _grouped_messages(field_errors: list[FieldError]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for error in field_errors:
        text = " ".join(error.messages)
        if error.part is None:
            grouped.setdefault(error.field or NON_FIELD_ERRORS, []).append(text)
            continue
        if error.row is None:
            grouped.setdefault(error.part, []).append(text)
            continue
        if error.field is None:
            text = _("Row %(row)d: %(errors)s") % {"row": error.row + 1, "errors": text}
        else:
            text = _("Row %(row)d, %(field)s: %(messages)s") % {
                "row": error.row + 1,
                "field": error.label,
                "messages": text,
            }
        grouped.setdefault(error.part, []).append(text)
    return grouped


def _validation_errors(
    error: ValidationError, *, part: str | None = None, row: int | None = None
) -> list[FieldError]:
    return [
        FieldError(
            part=part,
            row=row,
            field=None if name == NON_FIELD_ERRORS else name,
            messages=tuple(messages),
        )
        for name, messages in error.message_dict.items()
    ]


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

    A recipient in a third country needs a transfer recorded with its safeguard,
    and so does a processor established outside the EEA.
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
        if processor.country.strip() and not is_eea_country(processor.country):
            yield (
                _transfer_recorded(processor, transfers),
                f"processor_transfer_{processor.pk}",
                _("transfer to %(name)s in “%(country)s”")
                % {"name": processor.name, "country": processor.country},
            )


def _transfer_recorded(processor: Processor, transfers: list[Transfer]) -> bool:
    """Tell whether a transfer names the processor, or goes to its country.

    A name matches when one starts with the other, so that "Cloud Asia" names
    "Cloud Asia Ltd"; a country matches under any spelling of the country
    tables.
    """
    country = country_key(processor.country)
    name = processor.name.strip().casefold()
    for transfer in transfers:
        recipient = transfer.recipient.strip().casefold()
        if (
            recipient
            and name
            and (name.startswith(recipient) or recipient.startswith(name))
        ):
            return True
        if country_key(transfer.country) == country:
            return True
    return False


def _follow_up_checks(activity: ProcessingActivity):
    yield activity.owner_id is not None, "owner", _("person in charge")
    yield activity.next_review_on is not None, "next_review_on", _("next review")


@dataclass(frozen=True)
class SaveOutcome:
    """The saved activity, whether it is new, and how many rows changed.

    ``field_changes`` lists the activity's changed fields and ``row_changes``
    the rows of its parts that were added, changed, removed, or kept although
    ``data`` left them out.
    """

    activity: ProcessingActivity
    created: bool
    activity_changed: bool
    part_changes: dict[str, int]
    field_changes: list[ValueChange] = field(default_factory=list)
    row_changes: list[RowChange] = field(default_factory=list)

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
    loaded_version: datetime | None = None,
) -> ProcessingActivity:
    """Create or update an activity and replace its parts; see ``activity_write``."""
    return activity_write(
        data=data,
        actor=actor,
        activity=activity,
        check_transition=check_transition,
        audit=audit,
        loaded_version=loaded_version,
    ).activity


def activity_write(
    *,
    data: ActivityData,
    actor=None,
    activity: ProcessingActivity | None = None,
    check_transition: bool = True,
    audit: bool = True,
    loaded_version: datetime | None = None,
    remove_missing: bool = True,
    actor_label: str = "",
) -> SaveOutcome:
    """Create or update an activity and replace its parts with ``data.parts``.

    ``activity`` must be as stored, because its values before the change decide
    whether anything changed. Text is stored with LF line breaks only. A part
    with an ``id`` updates that row. Parts without one, as an import gives
    them, update the stored row with the same values, or else the one with the
    same label (or name), so a re-import of unchanged data adds no history
    entry. Stored rows left unmatched are deleted, unless ``remove_missing`` is
    False: they are then kept and listed as kept in the outcome. Adding or
    deleting rows of a part needs the ``actor``'s add or delete permission on
    the part's model, unless ``actor`` is None, as for commands and the demo
    data. ``actor_label`` names the command or job that saves without a user,
    in the audit event and in the versions of the history. Every value is
    checked before anything is written: a broken rule raises
    ``RegisterError`` listing every rejected value of the activity and of its
    parts, and then nothing is saved.

    ``loaded_version`` is the ``updated_at`` the editor saw when the page was
    opened. The activity's row is locked before it is compared, so that of two
    saves from pages opened at the same version, only the first one is kept.
    """
    creating = activity is None
    activity = activity or ProcessingActivity()
    previous_status = activity.status if not creating else None
    before = _field_values(activity)

    plans, errors = _changes_prepare(
        activity=activity,
        data=data,
        previous_status=previous_status,
        check_transition=check_transition,
        remove_missing=remove_missing,
    )
    if actor is not None:
        errors += _part_permission_errors(actor=actor, plans=plans)
    if errors:
        raise RegisterError(errors)

    # Described before writing, while new rows have no id yet. A new
    # activity lists its filled-in fields, as an added row does.
    if creating:
        field_changes = row_values(ProcessingActivity, _field_values(activity))
    else:
        field_changes = value_changes(
            ProcessingActivity, before, _field_values(activity)
        )
    row_changes = [
        change for part, plan in plans.items() for change in plan.changes(part)
    ]
    if actor_label:
        _history_label_set(activity, plans, actor_label)
    with transaction.atomic():
        if not creating and loaded_version is not None:
            _version_check(activity, loaded_version)
        changed = creating or _field_values(activity) != before
        if changed:
            activity.save()
        part_counts = {part: _parts_apply(plan) for part, plan in plans.items()}
        if not changed and any(part_counts.values()):
            _updated_at_touch(activity)
        # A save that changes nothing writes nothing, so it skips the check and
        # an unchanged re-import costs no extra queries. Raising here rolls
        # back the activity and its parts together.
        if changed or any(part_counts.values()):
            _in_force_check(activity=activity, previous_status=previous_status)

    outcome = SaveOutcome(
        activity,
        creating,
        changed and not creating,
        part_counts,
        field_changes=field_changes,
        row_changes=row_changes,
    )
    if audit and outcome.changed:
        details = {"parts_changed": part_counts, "status": activity.status}
        if not creating:
            details["fields_changed"] = _changed_fields(before, activity)
        audit_record(
            action="register.activity.created"
            if creating
            else "register.activity.changed",
            actor=actor,
            actor_label=actor_label,
            target=activity,
            details=details,
        )
    return outcome


def _history_label_set(
    activity: ProcessingActivity, plans: dict[str, "_PartPlan"], actor_label: str
) -> None:
    """Record ``actor_label`` in the versions that saving the activity adds.

    django-simple-history (3.13) stores an instance's ``_change_reason`` in the
    ``history_change_reason`` column of the version it adds on save or delete.
    The History page shows it when the version has no user.
    """
    activity._change_reason = actor_label
    for plan in plans.values():
        for instance, _before in plan.rows:
            instance._change_reason = actor_label
        for row in plan.leftovers:
            row._change_reason = actor_label


def _changed_fields(before: dict, activity: ProcessingActivity) -> list[str]:
    """Return the names of the activity's fields that differ from ``before``."""
    after = _field_values(activity)
    return sorted(
        name
        for name, value in after.items()
        if name != "id" and before.get(name) != value
    )


def _version_check(activity: ProcessingActivity, loaded_version: datetime) -> None:
    """Lock the activity's row, then reject a save made from an older version."""
    saved = (
        ProcessingActivity.objects.select_for_update()
        .values_list("updated_at", flat=True)
        .get(pk=activity.pk)
    )
    if saved != loaded_version:
        raise RegisterError([FieldError(None, None, None, (stale_message(saved),))])


def stale_message(saved: datetime) -> str:
    when = format_datetime(saved)
    return _(
        "Someone saved this activity at %(time)s, after you opened the page. "
        "Reload the page and enter your changes again."
    ) % {"time": when}


def _updated_at_touch(activity: ProcessingActivity) -> None:
    """Set the activity's ``updated_at`` to now, after a change to its parts only.

    The edit form's check for a later save by someone else compares
    ``updated_at``, so a change to the parts must move it too. An UPDATE
    query, unlike ``save()``, adds no empty version to the activity's history.
    """
    activity.updated_at = timezone.now()
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        updated_at=activity.updated_at
    )


def activity_validate(
    *,
    data: ActivityData,
    activity: ProcessingActivity | None = None,
    check_transition: bool = True,
) -> list[FieldError]:
    """Return every value of ``data`` that ``activity_write`` would reject.

    Nothing is written. The checks are those made before writing, so the
    completeness of an activity in force, which needs the saved parts, is not
    checked. Like ``activity_write``, this sets the new values on ``activity``,
    which the caller should then not save.
    """
    previous_status = activity.status if activity is not None else None
    _plans, errors = _changes_prepare(
        activity=activity or ProcessingActivity(),
        data=data,
        previous_status=previous_status,
        check_transition=check_transition,
        remove_missing=True,
    )
    return errors


def _changes_prepare(
    *,
    activity: ProcessingActivity,
    data: ActivityData,
    previous_status: str | None,
    check_transition: bool,
    remove_missing: bool,
) -> tuple[dict[str, "_PartPlan"], list[FieldError]]:
    """Set the new values on ``activity``, match the parts' rows, and check both."""
    errors = _values_assign(activity, data.fields, part=None, row=None)
    errors += _activity_errors(
        activity=activity,
        previous_status=previous_status,
        check_transition=check_transition,
        skip={error.field for error in errors},
    )
    plans = {}
    for part, rows in data.parts.items():
        plans[part], part_errors = _parts_match(
            activity=activity, part=part, rows=rows, remove_missing=remove_missing
        )
        errors += part_errors
    return plans, errors


def _values_assign(
    instance: models.Model, values: dict, *, part: str | None, row: int | None
) -> list[FieldError]:
    """Set ``values`` on ``instance``, with LF line breaks in text.

    A text containing a NUL character is left out and reported, because
    PostgreSQL cannot store it in a text column. Leaving it out also keeps it
    away from the lookups that ``full_clean`` makes, such as the reference's.
    """
    errors = []
    for name, value in values.items():
        if isinstance(value, str):
            if "\x00" in value:
                # The repr shows the NUL as \x00, so the message names it.
                message = _(
                    "%(value)s contains a NUL character (\\x00), which cannot be "
                    "stored. Remove it and try again."
                ) % {"value": text_excerpt(value)}
                errors.append(FieldError(part, row, name, (message,)))
                continue
            value = newlines_unified(value)
        setattr(instance, name, value)
    return errors


def _activity_errors(
    *,
    activity: ProcessingActivity,
    previous_status: str | None,
    check_transition: bool,
    skip: set,
) -> list[FieldError]:
    """Check the activity's own fields; ``skip`` names fields already rejected."""
    errors = []
    try:
        activity.full_clean(exclude=skip)
    except ValidationError as error:
        errors += _validation_errors(error)
    rejected = skip | {error.field for error in errors}

    if (
        "legitimate_interest" not in rejected
        and activity.lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS
        and not activity.legitimate_interest.strip()
    ):
        message = _(
            "Describe the legitimate interest pursued: it is required "
            "when the lawful basis is legitimate interests."
        )
        errors.append(FieldError(None, None, "legitimate_interest", (message,)))

    allowed = STATUS_TRANSITIONS.get(previous_status, set())
    if (
        "status" not in rejected
        and check_transition
        and previous_status is not None
        and activity.status != previous_status
        and activity.status not in allowed
    ):
        message = _(
            "An activity cannot go from “%(old)s” to “%(new)s”. From "
            "“%(old)s”, the allowed status is: %(allowed)s."
        ) % {
            "old": _status_label(previous_status),
            "new": _status_label(activity.status),
            "allowed": ", ".join(_status_label(status) for status in sorted(allowed)),
        }
        errors.append(FieldError(None, None, "status", (message,)))
    return errors


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
    message = message % {"count": len(missing), "items": labels}
    raise RegisterError([FieldError(None, None, "status", (message,))])


def _field_values(instance: models.Model) -> dict:
    return {
        item.attname: getattr(instance, item.attname)
        for item in instance._meta.concrete_fields
        if item.attname not in {"updated_at", "created_at"}
    }


def part_permitted(*, user, part: str, action: str) -> bool:
    """Return whether ``user`` has the ``action`` permission on ``part``'s model.

    ``action`` is one of Django's default permissions: "add", "change",
    "delete" or "view".
    """
    options = CHILD_MODELS[part]._meta
    codename = get_permission_codename(action, options)
    return user.has_perm(f"{options.app_label}.{codename}")


def _part_permission_errors(
    *, actor, plans: dict[str, "_PartPlan"]
) -> list[FieldError]:
    """Reject the rows that ``actor`` would add or delete without the permission.

    The retention job applies the register's rules, so a user who may change
    the rules but not delete them must not remove one by leaving it out.
    """
    errors = []
    for part, plan in plans.items():
        names = CHILD_MODELS[part]._meta.verbose_name_plural
        added = sum(1 for instance, _before in plan.rows if instance.pk is None)
        if added and not part_permitted(user=actor, part=part, action="add"):
            message = ngettext(
                "Your account is not allowed to add %(parts)s, so %(count)d new "
                "row cannot be saved. Remove it, or ask a user who has the "
                "permission to add it.",
                "Your account is not allowed to add %(parts)s, so %(count)d new "
                "rows cannot be saved. Remove them, or ask a user who has the "
                "permission to add them.",
                added,
            ) % {"parts": names, "count": added}
            errors.append(FieldError(part, None, None, (message,)))
        deleted = len(plan.leftovers)
        if deleted and not part_permitted(user=actor, part=part, action="delete"):
            message = ngettext(
                "Your account is not allowed to delete %(parts)s, so %(count)d "
                "row cannot be removed. Keep it, or ask a user who has the "
                "permission to delete it.",
                "Your account is not allowed to delete %(parts)s, so %(count)d "
                "rows cannot be removed. Keep them, or ask a user who has the "
                "permission to delete them.",
                deleted,
            ) % {"parts": names, "count": deleted}
            errors.append(FieldError(part, None, None, (message,)))
    return errors


@dataclass
class _PartPlan:
    """The rows of one part to save, each with its values before the change,
    the stored rows to delete, and the unmatched stored rows to keep."""

    rows: list[tuple[models.Model, dict]]
    leftovers: list[models.Model]
    kept: list[models.Model] = field(default_factory=list)

    def changes(self, part: str) -> list[RowChange]:
        """Describe what applying the plan does to each row, in words."""
        model = CHILD_MODELS[part]
        changes = []
        for instance, before in self.rows:
            after = _field_values(instance)
            if instance.pk is None:
                values = tuple(row_values(model, after))
                changes.append(RowChange(part, RowAction.ADDED, str(instance), values))
            elif after != before:
                values = tuple(value_changes(model, before, after))
                changes.append(
                    RowChange(part, RowAction.CHANGED, str(instance), values)
                )
        for action, rows in (
            (RowAction.REMOVED, self.leftovers),
            (RowAction.KEPT, self.kept),
        ):
            for row in rows:
                values = tuple(row_values(model, _field_values(row)))
                changes.append(RowChange(part, action, str(row), values))
        return changes


def _parts_match(
    *,
    activity: ProcessingActivity,
    part: str,
    rows: list[dict],
    remove_missing: bool = True,
) -> tuple[_PartPlan, list[FieldError]]:
    """Match ``rows`` to the stored rows of one part and check each of them."""
    model = CHILD_MODELS[part]
    existing = {}
    if activity.pk is not None:
        existing = {row.pk: row for row in model.objects.filter(activity=activity)}
    if any(row.get("id") for row in rows):
        matches = [existing.get(values.get("id")) for values in rows]
    else:
        matches = _rows_pair(list(existing.values()), rows, part=part)
    plan = _PartPlan(rows=[], leftovers=[])
    errors: list[FieldError] = []

    seen_ids = set()
    for index, values in enumerate(rows):
        row_id = values.get("id")
        if row_id and (matches[index] is None or row_id in seen_ids):
            # A row id of another activity, of a deleted row or of an earlier
            # row: the form was changed or is out of date, so nothing is saved.
            errors.append(
                FieldError(
                    part=part,
                    row=index,
                    field=None,
                    messages=(
                        _(
                            "This row (id %(id)s) is not one of the activity's "
                            "rows, or appears twice: reload the page and enter "
                            "your changes again."
                        )
                        % {"id": row_id},
                    ),
                )
            )
            continue
        seen_ids.add(row_id)
        instance = matches[index] or model(activity=activity)
        before = _field_values(instance)
        editable = {
            name: value for name, value in values.items() if name in CHILD_FIELDS[part]
        }
        row_errors = _values_assign(instance, editable, part=part, row=index)
        try:
            # Django checks CheckConstraints with one query each, so only
            # models that declare some pay for it.
            instance.full_clean(
                exclude=["activity", *(error.field for error in row_errors)],
                validate_constraints=bool(model._meta.constraints),
            )
        except ValidationError as error:
            row_errors += _validation_errors(error, part=part, row=index)
        errors += row_errors
        plan.rows.append((instance, before))
        existing.pop(instance.pk, None)

    # Rows still here were neither matched by id nor by their values.
    if remove_missing:
        plan.leftovers = list(existing.values())
    else:
        plan.kept = list(existing.values())
    return plan, errors


def _rows_pair(
    stored: list[models.Model], rows: list[dict], *, part: str
) -> list[models.Model | None]:
    """Return the stored row that each of ``rows`` updates, or None for a new row.

    A stored row with the same values is taken first, then one with the same
    first field (the label or the name). Pairing by position instead would
    shift every row after one left out of a file onto its neighbour's stored
    row, so that the removal would show as changes to the wrong rows.
    """
    remaining = list(stored)
    matches: list[models.Model | None] = [None] * len(rows)
    names = CHILD_FIELDS[part]
    for compared, loose in ((names, False), (names[:1], True)):
        for index, values in enumerate(rows):
            if matches[index] is not None:
                continue
            for candidate in remaining:
                if all(
                    _comparable(values.get(name), loose)
                    == _comparable(getattr(candidate, name), loose)
                    for name in compared
                    if name in values
                ):
                    matches[index] = candidate
                    remaining.remove(candidate)
                    break
    return matches


def _comparable(value, loose: bool):
    """Return ``value`` as stored; ``loose`` also ignores case and spacing."""
    if not isinstance(value, str):
        return value
    value = newlines_unified(value)
    return " ".join(value.split()).casefold() if loose else value


def _parts_apply(plan: _PartPlan) -> int:
    """Save the changed rows of a checked plan, delete its leftovers, and
    return the number of rows written or deleted."""
    changes = 0
    for instance, before in plan.rows:
        if instance.pk is None or _field_values(instance) != before:
            instance.save()
            changes += 1
    for row in plan.leftovers:
        row.delete()
        changes += 1
    return changes


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
