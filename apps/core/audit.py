"""The audit trail's single entry point."""

import functools
import logging
from collections import defaultdict
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db import transaction
from django.urls import reverse

from apps.core.inserts import objects_insert
from apps.core.models import AuditEvent

logger = logging.getLogger(__name__)


def audit_event(
    *,
    action: str,
    actor=None,
    actor_label: str = "",
    target: models.Model | None = None,
    target_type: str = "",
    target_id: Any = "",
    count: int | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Return a checked audit event, not saved yet (see ``audit_record``)."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None

    event = AuditEvent(
        action=action,
        actor=actor,
        actor_label=actor_label,
        target_type=target_type,
        target_id="" if target_id in (None, "") else str(target_id),
        count=count,
        details=details or {},
    )
    # The caller passes a user object, and the foreign key checks that it exists.
    event.full_clean(exclude=["actor"])
    return event


def audit_record(**event_fields) -> AuditEvent:
    """Append an audit event.

    ``action`` is a dotted code such as ``contacts.list.imported``. Pass either a
    model instance as ``target`` or ``target_type`` and ``target_id``. ``details``
    contains ids, counts and choices only: never names, e-mails or phone numbers.
    """
    event = audit_event(**event_fields)
    event.save()
    _logged(event)
    return event


def audit_record_with(event: AuditEvent, *rows: models.Model) -> None:
    """Append ``event`` (from ``audit_event``) and insert the new ``rows`` it records.

    On PostgreSQL they are one statement (``apps.core.inserts``), so the rows'
    models must not need their ``save`` method or signals.
    """
    objects_insert(*rows, event)
    _logged(event)


def _logged(event: AuditEvent) -> None:
    """Log the event once its transaction commits, so a rollback logs nothing."""
    transaction.on_commit(
        lambda: logger.info(
            "audit %s target=%s:%s count=%s",
            event.action,
            event.target_type,
            event.target_id,
            event.count,
        )
    )


def audit_events_for(target: models.Model):
    """Return the audit events that name ``target``, newest first."""
    return AuditEvent.objects.filter(
        target_type=target._meta.label_lower, target_id=str(target.pk)
    ).select_related("actor")


def _audit_actions_modules():
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("apps."):
            continue
        module_name = f"{app_config.name}.audit_actions"
        try:
            yield import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise


@functools.cache
def _action_labels() -> dict:
    labels = {}
    for module in _audit_actions_modules():
        labels.update(module.ACTION_LABELS)
    return labels


@dataclass(frozen=True)
class TargetPage:
    """The page that shows one type of audit target, for the audit list's links.

    ``url_name`` takes the target's id. ``outlives_target`` is true when the
    page still shows a deleted target, as an activity's history shows a
    deleted draft.
    """

    url_name: str
    permission: str
    outlives_target: bool = False


@functools.cache
def _target_pages() -> dict[str, TargetPage]:
    pages = {}
    for module in _audit_actions_modules():
        pages.update(getattr(module, "TARGET_PAGES", {}))
    return pages


def audit_target_urls(events, user) -> dict[int, str]:
    """Return the target page of each event that ``user`` may open, by event id.

    Apps give their pages in ``audit_actions.TARGET_PAGES``. A target deleted
    since the event gets no link, unless its page outlives it. One query per
    target type checks which targets remain.
    """
    pages = _target_pages()
    permitted_ids = defaultdict(set)
    for event in events:
        page = pages.get(event.target_type)
        if page and event.target_id.isdigit() and user.has_perm(page.permission):
            permitted_ids[event.target_type].add(event.target_id)
    linked_ids = {}
    for target_type, ids in permitted_ids.items():
        if pages[target_type].outlives_target:
            linked_ids[target_type] = ids
        else:
            model = apps.get_model(target_type)
            remaining = model._base_manager.filter(pk__in=ids)
            linked_ids[target_type] = {
                str(pk) for pk in remaining.values_list("pk", flat=True)
            }
    return {
        event.pk: reverse(pages[event.target_type].url_name, args=[event.target_id])
        for event in events
        if event.target_id in linked_ids.get(event.target_type, ())
    }


@functools.cache
def _actor_labels() -> dict:
    labels = {}
    for module in _audit_actions_modules():
        labels.update(getattr(module, "ACTOR_LABELS", {}))
    return labels


@functools.cache
def _detail_labels() -> dict:
    labels = {}
    for module in _audit_actions_modules():
        labels.update(getattr(module, "DETAIL_LABELS", {}))
    return labels


def audit_detail_label(key: str) -> str:
    """Return the label of a detail key in the active language.

    Apps give the labels of their keys in ``audit_actions.DETAIL_LABELS``. Any
    other key, such as a count named after a purged table, reads with spaces
    in place of its underscores.
    """
    label = _detail_labels().get(key)
    return key.replace("_", " ") if label is None else str(label)


@functools.cache
def _detail_value_labels() -> dict:
    """Return the labels of coded detail values, by (app label, key)."""
    labels = {}
    for module in _audit_actions_modules():
        app_label = module.__name__.split(".")[1]
        for key, choices in getattr(module, "DETAIL_VALUE_LABELS", {}).items():
            labels[(app_label, key)] = dict(choices)
    return labels


# Detail keys whose values are field names of the event's target.
FIELD_LIST_KEYS = ("fields", "fields_changed")


def audit_field_labels(target_type: str, names) -> list:
    """Return the verbose names of ``names``, fields of the target's model.

    A name that the model does not have (a part of an activity, a field
    since removed) stays as it is.
    """
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return list(names)
    labels = []
    for name in names:
        try:
            labels.append(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            labels.append(name)
    return labels


def audit_detail_value_label(action: str, key: str, value):
    """Return the label of a coded detail value, or the value unchanged.

    Apps give the choices of their coded keys in
    ``audit_actions.DETAIL_VALUE_LABELS``, read for the actions of that app
    only, since two apps may use one key ("kind") for different codes.
    """
    choices = _detail_value_labels().get((action.split(".", 1)[0], key))
    if choices is None or not isinstance(value, str) or value not in choices:
        return value
    return str(choices[value])


def audit_action_label(action: str) -> str:
    """Return the label of an action code in the active language.

    Each app lists the labels of its codes in ``audit_actions.ACTION_LABELS``.
    A code without a label is returned unchanged.
    """
    label = _action_labels().get(action)
    return action if label is None else str(label)


def audit_actor_name(event: AuditEvent) -> str:
    """Return who acted: the user's name, or the job or channel in the active language.

    ``actor_label`` keeps a stable English name, such as "retention job" or
    "unsubscribe link". Apps give its labels in ``audit_actions.ACTOR_LABELS``;
    a name without a label, such as a command's, is returned unchanged.
    """
    if event.actor_id is not None:
        return event.actor.get_username()
    return actor_label_name(event.actor_label)


def actor_label_name(actor_label: str) -> str:
    """Return the name of a job or channel from its ``actor_label``, in the
    active language, or the label unchanged when no app gives its name."""
    label = _actor_labels().get(actor_label)
    return actor_label if label is None else str(label)
