"""Reads of the processing register: lists, filters, visibility and history."""

import datetime
from dataclasses import dataclass
from datetime import date

from django.db.models import Count
from django.db.models import Prefetch
from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from apps.core.audit import actor_label_name
from apps.register.models import ProcessingActivity
from apps.register.services import ACTIVITY_FIELDS
from apps.register.services import CHILD_FIELDS
from apps.register.services import CHILD_MODELS
from apps.register.services import activity_missing_items

_PARTS = list(CHILD_MODELS)


def activity_visible_to(*, user) -> QuerySet[ProcessingActivity]:
    """Return the activities ``user`` may read.

    Users who may view the whole register see everything; other readers (sales)
    see only the activities that cover at least one of the contacts.
    """
    activities = ProcessingActivity.objects.all()
    if user.has_perm("register.view_whole_register"):
        return activities
    if not user.has_perm("register.view_processingactivity"):
        return activities.none()
    covering = ProcessingActivity.objects.filter(contacts__isnull=False).values("pk")
    return activities.filter(pk__in=covering)


def activity_list(*, user, filters: dict) -> list[ProcessingActivity]:
    """Return the visible activities matching the filter form's cleaned data.

    Each activity carries ``missing`` (its missing Art. 30 items) and
    ``review_due``, because the list shows both and filters on them.
    """
    activities = (
        activity_visible_to(user=user).select_related("owner").prefetch_related(*_PARTS)
    )
    search = (filters.get("search") or "").strip()
    if search:
        activities = activities.filter(
            Q(reference__icontains=search)
            | Q(name__icontains=search)
            | Q(purposes__icontains=search)
            | Q(description__icontains=search)
        )
    if filters.get("status"):
        activities = activities.filter(status=filters["status"])
    if filters.get("role"):
        activities = activities.filter(role=filters["role"])
    if filters.get("lawful_basis"):
        activities = activities.filter(lawful_basis=filters["lawful_basis"])
    if filters.get("owner"):
        activities = activities.filter(owner=filters["owner"])

    today = timezone.localdate()
    rows = []
    for activity in activities:
        activity.missing = activity_missing_items(activity=activity)
        activity.review_due = review_is_due(activity=activity, today=today)
        if filters.get("needs_review") and not activity.review_due:
            continue
        if filters.get("incomplete") and not activity.missing:
            continue
        rows.append(activity)
    return rows


def review_is_due(*, activity: ProcessingActivity, today: date) -> bool:
    """Tell whether an activity in force has no review date or one in the past."""
    if activity.status == ProcessingActivity.Status.RETIRED:
        return False
    return activity.next_review_on is None or activity.next_review_on <= today


def activity_detail(*, user, pk: int) -> ProcessingActivity:
    """Return one visible activity with its parts; raise DoesNotExist otherwise."""
    return (
        activity_visible_to(user=user)
        .select_related("owner")
        .prefetch_related(*_PARTS)
        .get(pk=pk)
    )


def activities_for_export(*, user, pk: int | None = None, pks=None):
    """Return the activities to export, with every part fetched in one go.

    ``pk`` selects one activity and ``pks`` several (those a filtered list shows).
    """
    activities = activity_visible_to(user=user).select_related("owner")
    if pk is not None:
        activities = activities.filter(pk=pk)
    if pks is not None:
        activities = activities.filter(pk__in=list(pks))
    return activities.prefetch_related(*[Prefetch(part) for part in _PARTS]).order_by(
        "reference"
    )


def register_summary(*, user) -> dict:
    """Count activities by status, incomplete ones and reviews due, for a panel."""
    activities = list(
        activity_visible_to(user=user).prefetch_related(*_PARTS).select_related("owner")
    )
    today = timezone.localdate()
    by_status = dict(
        activity_visible_to(user=user)
        .values_list("status")
        .annotate(total=Count("pk"))
        .values_list("status", "total")
    )
    return {
        "by_status": [
            (label, by_status.get(value, 0))
            for value, label in ProcessingActivity.Status.choices
        ],
        "incomplete": [
            activity
            for activity in activities
            if activity.status != ProcessingActivity.Status.RETIRED
            and activity_missing_items(activity=activity)
        ],
        "reviews_due": [
            activity
            for activity in activities
            if review_is_due(activity=activity, today=today)
        ],
    }


@dataclass(frozen=True)
class HistoryChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    """One saved version of the activity or of one of its parts."""

    when: object
    user: object
    # The command or job that saved the version without a user, or "".
    actor_name: str
    kind: str
    action: str
    label: str
    changes: list[HistoryChange]


def activity_history(*, activity: ProcessingActivity) -> list[HistoryEntry]:
    """Return every version of the activity and its parts, newest first, with diffs.

    ``activity`` may be a deleted draft from ``deleted_activity``, since the
    history tables keep the versions of deleted rows.
    """
    records = list(
        ProcessingActivity.history.filter(id=activity.pk).select_related("history_user")
    )
    for model in CHILD_MODELS.values():
        records.extend(
            model.history.filter(activity_id=activity.pk).select_related("history_user")
        )
    records.sort(key=lambda record: (record.history_date, record.history_id))

    entries = [_history_entry(record) for record in records]
    entries.reverse()
    return entries


def deleted_activity(*, user, pk: int) -> tuple[ProcessingActivity, object] | None:
    """Return a deleted activity as last saved and the time of its deletion.

    Returns None when no activity with ``pk`` was deleted, or when ``user``
    may not view the whole register: other readers only see activities that
    cover contacts, which a deleted activity no longer does.
    """
    if not user.has_perm("register.view_whole_register"):
        return None
    if ProcessingActivity.objects.filter(pk=pk).exists():
        return None
    record = ProcessingActivity.history.filter(id=pk).order_by("-history_date").first()
    if record is None or record.history_type != "-":
        return None
    return record.instance, record.history_date


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
_HIDDEN_FIELDS = {"id", "activity", "created_at", "updated_at", "notice_token"}


def _history_entry(record) -> HistoryEntry:
    model = record.instance_type
    previous = record.prev_record if record.history_type == "~" else None
    changes: list[HistoryChange] = []
    if previous is not None:
        delta = record.diff_against(previous)
        for change in delta.changes:
            if change.field in _HIDDEN_FIELDS:
                continue
            changes.append(
                HistoryChange(
                    field=str(model._meta.get_field(change.field).verbose_name),
                    old=_display(model, change.field, change.old),
                    new=_display(model, change.field, change.new),
                )
            )
    elif record.history_type == "+":
        for item in model._meta.concrete_fields:
            if item.name in _HIDDEN_FIELDS:
                continue
            value = getattr(record, item.attname)
            if value in (None, "", False):
                continue
            changes.append(
                HistoryChange(
                    field=str(item.verbose_name),
                    old="",
                    new=_display(model, item.name, value),
                )
            )
    return HistoryEntry(
        when=record.history_date,
        user=record.history_user,
        actor_name=actor_label_name(record.history_change_reason or ""),
        kind=str(model._meta.verbose_name),
        action=_ACTIONS[record.history_type],
        label=str(record.instance),
        changes=changes,
    )


def _display(model, name: str, value) -> str:
    if value in (None, ""):
        return ""
    model_field = model._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        related = model_field.related_model.objects.filter(pk=value).first()
        return str(related) if related else str(value)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def activity_snapshot(*, activity: ProcessingActivity) -> dict:
    """Return the activity's register content as plain values, parts in order.

    Two activities with equal snapshots have the same register content. The
    import compares snapshots to detect an unchanged activity, and the tests
    compare them to check round trips.
    """
    snapshot = {}
    for name in ACTIVITY_FIELDS:
        value = getattr(activity, name)
        snapshot[name] = value.get_username() if name == "owner" and value else value
    snapshot["created_on"] = timezone.localtime(activity.created_at).date()
    for part, model in CHILD_MODELS.items():
        snapshot[part] = [
            {name: getattr(row, name) for name in CHILD_FIELDS[part]}
            for row in model.objects.filter(activity=activity).order_by("pk")
        ]
    return snapshot


def register_snapshot() -> dict[str, dict]:
    """Return the snapshot of every activity, keyed by reference."""
    return {
        activity.reference: activity_snapshot(activity=activity)
        for activity in ProcessingActivity.objects.select_related("owner")
    }
