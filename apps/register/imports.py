"""Import of a register spreadsheet: this app's exports and the CNIL template.

``register_import`` reads the file, parses every sheet into activities and a
list of problems (each with its sheet, row and column), and applies the result
only when there is no error and the run is not a dry run. The dry run performs
the same database writes inside a transaction that is rolled back, so the
preview reports exactly what the real import would do. When reading the file
already found errors, the values read are still checked without writing, so
that the report lists the errors of every cell at once.

An import never undoes a change made in Registre after the file was exported,
nor removes a row that the file lacks, unless ``ImportConfirmation`` records
that the user accepted it after seeing the preview. An activity changed after the
export is skipped by default: skipping loses nothing that the user cannot
import again with a confirmation, while overwriting would silently lose the
later change. The exports write their date and time ("Date de l'export"). Some
files give no readable export time: the CNIL template, an older CSV export, or
an export whose column was removed. Any existing activity may have been changed
since such a file was made, so every existing activity that the import would
change is skipped in the same way unless confirmed.
"""

import datetime
import logging
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import audit_record
from apps.core.dates import format_datetime
from apps.core.text import text_excerpt
from apps.core.text import text_shortened
from apps.register.cells import ERROR
from apps.register.cells import WARNING
from apps.register.cells import CellLocation
from apps.register.cells import Problem
from apps.register.cells import column_letter
from apps.register.changes import RowAction
from apps.register.models import ProcessingActivity
from apps.register.parsing import ParsedActivity
from apps.register.parsing import RegisterParser
from apps.register.services import CHILD_MODELS
from apps.register.services import FieldError
from apps.register.services import RegisterError
from apps.register.services import SaveOutcome
from apps.register.services import activity_validate
from apps.register.services import activity_write
from apps.register.spreadsheets import Sheet
from apps.register.spreadsheets import SpreadsheetError
from apps.register.spreadsheets import read_grid

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportConfirmation:
    """The changes the user accepted after seeing the preview.

    ``overwrite`` maps the reference of an activity changed in Registre after
    the file's export to its ``updated_at`` (ISO 8601) as the preview showed
    it. The import overwrites the activity only while that is still its
    version, so a change saved after the preview is not lost either.
    ``overwrite_all`` overwrites every such activity without that check.
    ``remove_missing`` lists the references whose stored rows that the file
    lacks are removed, and ``remove_missing_all`` allows it for every activity.
    """

    overwrite: dict[str, str] = field(default_factory=dict)
    overwrite_all: bool = False
    remove_missing: frozenset[str] = frozenset()
    remove_missing_all: bool = False

    def allows_overwrite(self, activity: ProcessingActivity) -> bool:
        if self.overwrite_all:
            return True
        seen = self.overwrite.get(activity.reference)
        return seen is not None and seen == activity.updated_at.isoformat()

    def allows_removal(self, reference: str) -> bool:
        return self.remove_missing_all or reference in self.remove_missing


@dataclass
class ImportReport:
    """Outcome of one import run.

    ``activities`` lists, for each activity: its reference, name and outcome
    (created, updated, unchanged, or skipped because it was changed in
    Registre after the file's export); ``changed_after_export``, which is also
    true for an existing activity when the file gives no export time;
    ``export_time_known``; the stored ``version`` (its ``updated_at``, ISO
    8601) that a confirmation must name; ``needs_overwrite``, true for a
    skipped activity and for one changed after the export that has kept rows,
    because confirming their removal without the overwrite skips it; the
    changed ``fields`` (label, old and new value, shortened); the ``rows`` of
    its parts that are added, changed, removed, or kept although the file
    lacks them.
    """

    file_name: str
    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)
    applied: bool = False

    @property
    def has_errors(self) -> bool:
        return any(problem.level == ERROR for problem in self.problems)

    def as_dict(self) -> dict:
        return {
            "file": self.file_name,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "activities": self.activities,
            "problems": [asdict(problem) for problem in self.problems],
        }


def register_import(
    *,
    path: Path | str,
    file_name: str | None = None,
    actor=None,
    actor_label: str = "",
    dry_run: bool,
    confirmation: ImportConfirmation | None = None,
) -> ImportReport:
    """Import a register file; write nothing on errors or when ``dry_run``.

    ``confirmation`` lists the overwrites and removals the user accepted; by
    default there are none. The report lists the problems by sheet, in the
    order a first problem was found in each, then by row.
    """
    report = _register_import(
        path=path,
        file_name=file_name,
        actor=actor,
        actor_label=actor_label,
        dry_run=dry_run,
        confirmation=confirmation or ImportConfirmation(),
    )
    sheets = list(dict.fromkeys(problem.sheet for problem in report.problems))
    report.problems.sort(
        key=lambda problem: (sheets.index(problem.sheet), problem.row or 0)
    )
    return report


def _register_import(
    *,
    path: Path | str,
    file_name: str | None,
    actor,
    actor_label: str,
    dry_run: bool,
    confirmation: ImportConfirmation,
) -> ImportReport:
    file_name = file_name or Path(path).name
    report = ImportReport(file_name=file_name, dry_run=dry_run)
    try:
        sheets = read_grid(path, name=file_name)
    except SpreadsheetError as error:
        report.problems.append(Problem(ERROR, "", None, "", str(error)))
        return report

    report.problems.extend(_nul_characters_removed(sheets))
    parser = RegisterParser()
    parsed = parser.parse(sheets)
    report.problems.extend(parser.problems)
    if not parsed and not report.has_errors:
        report.problems.append(
            Problem(
                ERROR,
                "",
                None,
                "",
                _(
                    "No processing activity was found in %(file)s. Expected an "
                    "export of this register or the CNIL's register template "
                    "with at least one record sheet whose 'Nom du traitement' "
                    "is filled in."
                )
                % {"file": file_name},
            )
        )
    if report.has_errors:
        # The file is rejected, but the checks that saving would make still
        # run, so that the report lists every error at once.
        for item in parsed:
            _check_one(item=item, report=report)
        return report

    if _existing_without_export_time(parsed):
        report.problems.append(
            Problem(
                WARNING,
                "",
                None,
                "",
                _(
                    "%(file)s does not say when it was exported, so changes "
                    "made in Registre since then cannot be detected. The "
                    "existing activities that the file would change are "
                    "skipped unless you tick them. Check the changes listed for "
                    "each activity before you confirm."
                )
                % {"file": file_name},
            )
        )
    with transaction.atomic():
        for item in parsed:
            _apply_one(
                item=item,
                actor=actor,
                actor_label=actor_label,
                report=report,
                confirmation=confirmation,
            )
        if report.has_errors or dry_run:
            transaction.set_rollback(True)

    report.applied = not (report.has_errors or dry_run)
    if report.applied:
        outcomes = {
            outcome: sum(
                1 for entry in report.activities if entry["outcome"] == outcome
            )
            for outcome in ("created", "updated", "unchanged", "skipped")
        }
        audit_record(
            action="register.imported",
            actor=actor,
            actor_label=actor_label,
            target_type="register.processingactivity",
            # The activities that the import changed, as other events count.
            count=outcomes["created"] + outcomes["updated"],
            details={
                "outcomes": outcomes,
                "rows_removed": sum(
                    1
                    for entry in report.activities
                    if entry["outcome"] != "skipped"
                    for row in entry["rows"]
                    if row["action"] == RowAction.REMOVED
                ),
                "references": [entry["reference"] for entry in report.activities],
            },
        )
    logger.info(
        "register import file=%s dry_run=%s activities=%d problems=%d applied=%s",
        file_name,
        dry_run,
        len(report.activities),
        len(report.problems),
        report.applied,
    )
    return report


def _existing_without_export_time(parsed: list[ParsedActivity]) -> bool:
    """Tell whether an activity of the file exists and the file has no export
    time to compare its last change with."""
    references = [
        item.data.fields["reference"] for item in parsed if item.exported_at is None
    ]
    return ProcessingActivity.objects.filter(reference__in=references).exists()


def _nul_characters_removed(sheets: list[Sheet]) -> list[Problem]:
    """Remove NUL characters from the cells, with an error for each cell.

    PostgreSQL cannot store a NUL in a text column. The error rejects the
    file, and removing the character lets the other checks run.
    """
    problems = []
    for sheet in sheets:
        for row_index, row in enumerate(sheet.rows):
            for column_index, value in enumerate(row):
                if not (isinstance(value, str) and "\x00" in value):
                    continue
                problems.append(
                    Problem(
                        ERROR,
                        sheet.name,
                        row_index + 1,
                        column_letter(column_index),
                        _(
                            "The cell %(value)s contains a NUL character (\\x00), "
                            "which cannot be stored. Remove it and import the "
                            "file again."
                        )
                        % {"value": text_excerpt(value)},
                    )
                )
                row[column_index] = value.replace("\x00", "")
    return problems


def _check_one(*, item: ParsedActivity, report: ImportReport) -> None:
    reference = item.data.fields["reference"]
    existing = ProcessingActivity.objects.filter(reference=reference).first()
    errors = activity_validate(
        data=item.data, activity=existing, check_transition=False
    )
    _errors_report(item=item, errors=errors, report=report)


class _Skipped(Exception):
    """Rolls back the save of an activity that the import must not overwrite."""

    def __init__(self, outcome: SaveOutcome):
        super().__init__()
        self.outcome = outcome


def _apply_one(
    *,
    item: ParsedActivity,
    actor,
    actor_label: str,
    report: ImportReport,
    confirmation: ImportConfirmation,
) -> None:
    reference = item.data.fields["reference"]
    existing = ProcessingActivity.objects.filter(reference=reference).first()
    # Read before the write below, which sets ``existing.updated_at`` to now
    # even when the preview rolls it back.
    changed_at = existing.updated_at if existing is not None else None
    # Without an export time, the activity may have been changed after the
    # export, and overwriting it could undo that change.
    changed_later = existing is not None and (
        item.exported_at is None or changed_at > item.exported_at
    )
    version = changed_at.isoformat() if existing is not None else ""
    skip = changed_later and not confirmation.allows_overwrite(existing)
    try:
        with transaction.atomic():
            outcome = activity_write(
                data=item.data,
                actor=actor,
                actor_label=actor_label,
                activity=existing,
                check_transition=False,
                remove_missing=confirmation.allows_removal(reference),
            )
            if skip and outcome.changed:
                raise _Skipped(outcome)
    except RegisterError as error:
        _errors_report(item=item, errors=error.field_errors, report=report)
        return
    except _Skipped as skipped:
        _skipped_report(item=item, changed_at=changed_at, report=report)
        report.activities.append(
            _activity_entry(
                item,
                skipped.outcome,
                "skipped",
                changed_later,
                version,
                needs_overwrite=True,
            )
        )
        return

    activity = outcome.activity
    if outcome.created and item.created_on is not None:
        # Noon keeps the local date whatever the time zone's offset.
        created_at = timezone.make_aware(
            datetime.datetime.combine(item.created_on, datetime.time(12))
        )
        ProcessingActivity.objects.filter(pk=activity.pk).update(created_at=created_at)
    if outcome.created:
        result = "created"
        _same_name_report(item=item, activity=activity, report=report)
    elif outcome.changed:
        result = "updated"
    else:
        result = "unchanged"
    _kept_report(item=item, outcome=outcome, report=report)
    # Removing the kept rows changes the activity, so an import that confirms
    # their removal but not the overwrite skips it, as above.
    needs_overwrite = skip and _has_kept_rows(outcome)
    if needs_overwrite:
        _removal_conflict_report(item=item, changed_at=changed_at, report=report)
    report.activities.append(
        _activity_entry(
            item,
            outcome,
            result,
            changed_later,
            version,
            needs_overwrite=needs_overwrite,
        )
    )


def _activity_entry(
    item: ParsedActivity,
    outcome: SaveOutcome,
    result: str,
    changed_later: bool,
    version: str,
    *,
    needs_overwrite: bool,
) -> dict:
    return {
        "reference": item.data.fields["reference"],
        "name": outcome.activity.name,
        "outcome": result,
        "changed_after_export": changed_later,
        "export_time_known": item.exported_at is not None,
        "version": version,
        "needs_overwrite": needs_overwrite,
        # A new activity's fields and rows are listed with their values, so
        # that what was read from the file can be checked before confirming.
        "fields": [asdict(change) for change in outcome.field_changes],
        "rows": [
            {**change.as_dict(), "part_label": _part_label(change.part)}
            for change in outcome.row_changes
        ],
        "rows_kept": sum(
            1 for change in outcome.row_changes if change.action == RowAction.KEPT
        ),
    }


def _part_label(part: str) -> str:
    return str(CHILD_MODELS[part]._meta.verbose_name)


def _has_kept_rows(outcome: SaveOutcome) -> bool:
    return any(change.action == RowAction.KEPT for change in outcome.row_changes)


def _skipped_report(
    *, item: ParsedActivity, changed_at: datetime.datetime, report: ImportReport
) -> None:
    if item.exported_at is None:
        message = _(
            "Activity %(reference)s was last changed in Registre on "
            "%(changed)s, and the file does not say when it was exported, so "
            "importing it could undo a later change. It is skipped unless you "
            "confirm that the file's version replaces it."
        )
    else:
        message = _(
            "Activity %(reference)s was changed in Registre on %(changed)s, "
            "after the file was exported on %(exported)s, so importing it "
            "would undo that change. It is skipped unless you confirm that "
            "the file's version replaces it."
        )
    _activity_warning(report, item, message % _conflict_values(item, changed_at))


def _removal_conflict_report(
    *, item: ParsedActivity, changed_at: datetime.datetime, report: ImportReport
) -> None:
    """Warn that removing the rows that the file lacks also needs the overwrite
    confirmed, because they may have been added in Registre after the export."""
    if item.exported_at is None:
        message = _(
            "Activity %(reference)s was last changed in Registre on "
            "%(changed)s, and the file does not say when it was exported, so "
            "the rows that the file lacks may have been added since. To remove "
            "them, also confirm that the file's version replaces the one in "
            "Registre, or the activity is skipped."
        )
    else:
        message = _(
            "Activity %(reference)s was changed in Registre on %(changed)s, after "
            "the file was exported on %(exported)s, so the rows that the file "
            "lacks may have been added since. To remove them, also confirm that "
            "the file's version replaces the one in Registre, or the activity "
            "is skipped."
        )
    _activity_warning(report, item, message % _conflict_values(item, changed_at))


def _conflict_values(item: ParsedActivity, changed_at: datetime.datetime) -> dict:
    """Return the values of a conflict warning: the reference and both times."""
    values = {
        "reference": item.data.fields["reference"],
        "changed": format_datetime(changed_at),
    }
    if item.exported_at is not None:
        values["exported"] = format_datetime(item.exported_at)
    return values


def _activity_warning(report: ImportReport, item: ParsedActivity, message: str) -> None:
    """Add a warning that points at the activity's sheet and row."""
    report.problems.append(Problem(WARNING, item.sheet, item.row, "", message))


def _same_name_report(
    *, item: ParsedActivity, activity: ProcessingActivity, report: ImportReport
) -> None:
    """Warn that a new activity has the name of an existing one.

    Importing an export made before an activity's reference was renamed
    creates the old reference again, as a second copy of the activity.
    """
    namesakes = (
        ProcessingActivity.objects.filter(name__iexact=activity.name)
        .exclude(pk=activity.pk)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    if not namesakes:
        return
    message = _(
        "Activity %(reference)s will be created, but activity "
        "%(existing)s already has the name “%(name)s”. If the file was "
        "exported before %(existing)s got its reference, the import "
        "creates a second copy: remove the row from the file, or "
        "cancel and use the existing reference."
    ) % {
        "reference": activity.reference,
        "existing": ", ".join(namesakes),
        "name": text_shortened(activity.name),
    }
    _activity_warning(report, item, message)


def _kept_report(
    *, item: ParsedActivity, outcome: SaveOutcome, report: ImportReport
) -> None:
    kept = [change for change in outcome.row_changes if change.action == RowAction.KEPT]
    if not kept:
        return
    rows = "; ".join(f"{_part_label(change.part)} “{change.label}”" for change in kept)
    message = _(
        "Activity %(reference)s has rows in Registre that the file lacks: "
        "%(rows)s. They are kept unless you confirm their removal."
    ) % {"reference": outcome.activity.reference, "rows": rows}
    _activity_warning(report, item, message)


def _errors_report(
    *, item: ParsedActivity, errors: list[FieldError], report: ImportReport
) -> None:
    """Add a problem for each error, at the cell its value was read from.

    A cell that already has an error from reading the file gets no second one,
    such as "this field cannot be blank" after an unreadable value.
    """
    reported = {
        (problem.sheet, problem.row, problem.column)
        for problem in report.problems
        if problem.level == ERROR
    }
    reference = item.data.fields["reference"]
    for error in errors:
        location = _error_location(item, error)
        if (location.sheet, location.row, location.column) in reported:
            continue
        report.problems.append(
            Problem(
                ERROR,
                location.sheet,
                location.row,
                location.column,
                _error_message(reference, error, location.header),
            )
        )


def _error_location(item: ParsedActivity, error: FieldError) -> CellLocation:
    # A part's row is located as a whole when its field has no cell of its own.
    for key in ((error.part, error.row, error.field), (error.part, error.row, None)):
        if key in item.locations:
            return item.locations[key]
    # The value has no cell, such as the status of a CNIL record, which the
    # template lacks: the error points at the activity's row.
    return CellLocation(item.sheet, item.row, "")


def _error_message(reference: str, error: FieldError, header: str) -> str:
    names = []
    if error.part is not None:
        names.append(str(CHILD_MODELS[error.part]._meta.verbose_name))
    if error.label:
        names.append(error.label)
    values = {
        "reference": reference,
        "field": ", ".join(names),
        "header": header,
        "messages": " ".join(error.messages),
    }
    if names and header:
        message = _(
            "Activity %(reference)s, %(field)s (“%(header)s” in the file): %(messages)s"
        )
        return message % values
    if names:
        return _("Activity %(reference)s, %(field)s: %(messages)s") % values
    return _("Activity %(reference)s: %(messages)s") % values
