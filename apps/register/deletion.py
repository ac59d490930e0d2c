"""Deletion of processing activities.

Only a draft that was never in force and that nothing refers to is deleted.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from apps.core.audit import audit_record
from apps.register.models import ProcessingActivity


@transaction.atomic
def activity_delete(*, activity: ProcessingActivity, actor=None) -> None:
    """Delete a draft activity that no contact, import or breach refers to.

    An activity in force or retired, or a draft with such a version in its
    history, is part of the record of processing activities, which GDPR
    Art. 30(4) requires to be made available to the supervisory authority, so
    it is retired instead and never deleted.
    Raises ``ValidationError`` for such an activity, and for a draft naming
    each kind of record that still refers to it, with counts. The versions of
    a deleted draft stay in its history (``activity_history``).
    """
    reference = activity.reference
    status = ProcessingActivity.objects.filter(pk=activity.pk).values_list(
        "status", flat=True
    )
    if status.first() != ProcessingActivity.Status.DRAFT:
        raise ValidationError(_not_draft_message(activity))
    if activity.has_left_draft():
        # A draft now, but put back to draft by an earlier version of the
        # import or the admin site after it was in force.
        raise ValidationError(
            _(
                "Activity %(reference)s is a draft now, but its history shows "
                "it was in force or retired, so it cannot be deleted: the "
                "register keeps every activity that was in force (GDPR Art. "
                "30). Retire it instead."
            )
            % {"reference": reference}
        )
    references = activity_references(activity=activity)
    if not references:
        audit_record(
            action="register.activity.deleted",
            actor=actor,
            target=activity,
            details={"reference": reference},
        )
        try:
            activity.delete()
            return
        except ProtectedError:
            # A record added since the count above refers to the activity.
            references = activity_references(activity=activity)

    counts = ", ".join(
        f"{count} {singular if count == 1 else plural}"
        for singular, plural, count in references
    )
    raise ValidationError(
        _(
            "Activity %(reference)s cannot be deleted because other records "
            "refer to it: %(counts)s. Keep it as a draft, or link those records "
            "to another activity first."
        )
        % {"reference": reference, "counts": counts}
    )


def _not_draft_message(activity: ProcessingActivity) -> str:
    if activity.status == ProcessingActivity.Status.RETIRED:
        return _(
            "Activity %(reference)s is retired, so it cannot be deleted: the "
            "register keeps every activity that was in force (GDPR Art. 30). It "
            "already stays out of the lists of activities in force."
        ) % {"reference": activity.reference}
    return _(
        "Activity %(reference)s is “%(status)s”, so it cannot be deleted: the "
        "register keeps every activity that was in force (GDPR Art. 30). Only "
        "a draft can be deleted. Retire the activity instead."
    ) % {
        "reference": activity.reference,
        "status": ProcessingActivity.Status(activity.status).label,
    }


def activity_references(*, activity: ProcessingActivity) -> list[tuple[str, str, int]]:
    """Count the records of other apps that refer to the activity, by kind.

    Returns (verbose name, plural verbose name, count) for each kind with at
    least one record. A kind counts when its foreign key protects the activity
    (PROTECT or RESTRICT), and for many-to-many links such as breaches:
    deleting would only unlink the breaches, so the breach register would lose
    which activity a breach concerned. The activity's own parts (CASCADE) and
    its history (DO_NOTHING) do not count.
    """
    counts = []
    for relation in ProcessingActivity._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete:
            continue
        blocking = relation.many_to_many or relation.on_delete in (
            models.PROTECT,
            models.RESTRICT,
        )
        if not blocking:
            continue
        model = relation.related_model
        count = model._base_manager.filter(**{relation.field.name: activity}).count()
        if count:
            meta = model._meta
            counts.append(
                (str(meta.verbose_name), str(meta.verbose_name_plural), count)
            )
    return sorted(counts)
