"""The audit trail's single entry point."""

import functools
import logging
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db import models

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
    logger.info(
        "audit %s target=%s:%s count=%s",
        event.action,
        event.target_type,
        event.target_id,
        event.count,
    )


def audit_events_for(target: models.Model):
    """Return the audit events that name ``target``, newest first."""
    return AuditEvent.objects.filter(
        target_type=target._meta.label_lower, target_id=str(target.pk)
    ).select_related("actor")


@functools.cache
def _action_labels() -> dict:
    labels = {}
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("apps."):
            continue
        module_name = f"{app_config.name}.audit_actions"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        labels.update(module.ACTION_LABELS)
    return labels


def audit_action_label(action: str) -> str:
    """Return the label of an action code in the active language.

    Each app lists the labels of its codes in ``audit_actions.ACTION_LABELS``.
    A code without a label is returned unchanged.
    """
    label = _action_labels().get(action)
    return action if label is None else str(label)
