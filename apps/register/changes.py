"""Descriptions of what saving an activity changes, for the import preview.

``activity_write`` compares each value before and after the new values are set,
and these records keep the difference in words that a reader of the preview
understands: field labels, choice labels and user names, with long text
shortened.
"""

import datetime
from dataclasses import asdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.core.text import text_shortened

# Fields that Registre maintains itself, which the preview does not list.
# A new activity's notice token is drawn again when it is saved.
_HIDDEN_FIELDS = {"id", "activity_id", "created_at", "updated_at", "notice_token"}


class RowAction:
    """The action of a save on one row of a part."""

    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"
    # A stored row that the file lacks, kept because its removal was not
    # confirmed.
    KEPT = "kept"


@dataclass(frozen=True)
class ValueChange:
    """One field whose value a save changes, with both values shortened."""

    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class RowChange:
    """One row of a part that a save adds, changes, removes or keeps."""

    part: str
    action: str
    label: str
    values: tuple[ValueChange, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


def value_changes(
    model: type[models.Model], before: dict, after: dict
) -> list[ValueChange]:
    """List the fields whose value differs between ``before`` and ``after``.

    Both map attribute names to values, as ``_field_values`` in the services
    returns them, so a foreign key appears as ``owner_id``.
    """
    changes = []
    for attname, new in after.items():
        if attname in _HIDDEN_FIELDS:
            continue
        old = before.get(attname)
        if old == new:
            continue
        model_field = _model_field(model, attname)
        changes.append(
            ValueChange(
                field=model_field.name,
                label=str(model_field.verbose_name),
                old=value_display(model_field, old),
                new=value_display(model_field, new),
            )
        )
    return changes


def row_values(model: type[models.Model], values: dict) -> list[ValueChange]:
    """List the filled-in fields of a row that is added or removed."""
    empty = {attname: None for attname in values}
    return [
        change
        for change in value_changes(model, empty, values)
        if change.new not in ("", _("no"))
    ]


def value_display(model_field: models.Field, value) -> str:
    """Return ``value`` as the preview shows it, shortened to one line's length."""
    if value is None or value == "":
        return ""
    if model_field.choices:
        value = dict(model_field.flatchoices).get(value, value)
    elif model_field.is_relation:
        user = get_user_model().objects.filter(pk=value).first()
        value = user.get_username() if user is not None else value
    elif isinstance(value, bool):
        value = _("yes") if value else _("no")
    elif isinstance(value, datetime.datetime):
        value = date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    elif isinstance(value, datetime.date):
        value = date_format(value, "SHORT_DATE_FORMAT")
    return text_shortened(str(value))


def _model_field(model: type[models.Model], attname: str) -> models.Field:
    for model_field in model._meta.concrete_fields:
        if model_field.attname == attname:
            return model_field
    raise FieldDoesNotExist(f"{model.__name__} has no field {attname}")
