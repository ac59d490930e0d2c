"""Changes to the organisation profile, the controller's identity that heads
every register export (GDPR Art. 30(1)(a))."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from apps.core.audit import audit_actor_name
from apps.core.audit import audit_record
from apps.core.dates import format_datetime
from apps.core.models import AuditEvent
from apps.core.models import Organisation

ORGANISATION_CHANGED = "core.organisation.changed"


def organisation_update(
    *,
    organisation: Organisation,
    values: dict[str, Any],
    actor=None,
    loaded_version: datetime | None = None,
) -> list[str]:
    """Set ``values`` on the organisation, save it and return the changed fields.

    ``loaded_version`` is the ``updated_at`` the editor saw when the page was
    opened, and None skips the check. The row is locked before the comparison, so
    of two saves from pages opened at the same version only the first is
    kept, and the second raises ValidationError naming who saved and when.
    A save that changes nothing writes nothing and records no audit event.
    """
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if loaded_version is not None and locked.updated_at != loaded_version:
            raise ValidationError(organisation_stale_message(locked), code="stale")

        changed = sorted(
            name for name, value in values.items() if getattr(locked, name) != value
        )
        if not changed:
            return []

        for name in changed:
            setattr(locked, name, values[name])
        locked.full_clean()
        locked.save()
        audit_record(
            action=ORGANISATION_CHANGED,
            actor=actor,
            target=locked,
            details={"fields": changed},
        )
    return changed


def organisation_stale_message(organisation: Organisation) -> str:
    """Return the error of a save from a page opened before ``organisation``'s
    last save, with the user who saved it when the audit trail records them."""
    time = format_datetime(organisation.updated_at)
    saver = _last_saver(organisation)
    if saver:
        message = gettext(
            "%(user)s saved the organisation profile at %(time)s, after you "
            "opened the page. Reload the page and enter your changes again."
        )
        return message % {"user": saver, "time": time}
    message = gettext(
        "Someone saved the organisation profile at %(time)s, after you opened "
        "the page. Reload the page and enter your changes again."
    )
    return message % {"time": time}


def _last_saver(organisation: Organisation) -> str:
    """Return who made the organisation's last save, or "" when it is not known.

    ``organisation_update`` records its audit event after the save, so the
    event of the last save is the first one at or after ``updated_at``. A
    save that records no event, from the admin site or the demo data, leaves
    every event before ``updated_at``, and the saver is then not known.
    """
    event = (
        AuditEvent.objects.filter(
            action=ORGANISATION_CHANGED,
            target_type=organisation._meta.label_lower,
            target_id=str(organisation.pk),
            occurred_at__gte=organisation.updated_at,
        )
        .select_related("actor")
        .order_by("occurred_at", "pk")
        .first()
    )
    if event is None:
        return ""
    return audit_actor_name(event)
