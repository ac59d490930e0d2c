"""Exports of the register: XLSX and ODS like the CNIL template, CSV and PDF.

Every export goes through ``register_export``, which writes the audit event.
"""

import re
import unicodedata
from collections.abc import Sequence

from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.audit import audit_record
from apps.core.models import Organisation
from apps.register import spreadsheets
from apps.register.cells import column_letter
from apps.register.layout import CONTROLLERS_SERVED_LABEL
from apps.register.layout import PART_TABLES
from apps.register.layout import RECORD_FIELDS
from apps.register.layout import RECORD_TITLE
from apps.register.layout import SUMMARY_SHEET
from apps.register.layout import RecordPart
from apps.register.layout import choice_label
from apps.register.layout import format_value
from apps.register.layout import organisation_rows
from apps.register.layout import record_parts
from apps.register.layout import register_titles
from apps.register.layout import sensitive_data_label
from apps.register.models import ProcessingActivity
from apps.register.pdf import register_pdf
from apps.register.services import activity_missing_items
from apps.register.spreadsheets import Sheet

FORMATS = {
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "pdf": ("application/pdf", "pdf"),
}

CSV_KIND_COLUMN = "Type de ligne"
CSV_ACTIVITY_KIND = "Traitement"


class ExportError(ValueError):
    """An export that cannot be produced with the given options."""


def register_export(
    *,
    activities: Sequence[ProcessingActivity],
    file_format: str,
    actor=None,
    actor_label: str = "",
    processor_record: bool | None = None,
) -> bytes:
    """Return the register (or one activity) in ``file_format`` and audit it.

    The files use the CNIL template's French wording whatever the user's
    language, because they are what an inspector reads. ``processor_record``
    titles the file as the processor's record (Art. 30(2)), in which the
    organisation is the processor. When it is None, the file gets that title
    if every activity exported has the processor role.
    """
    if file_format not in FORMATS:
        raise ExportError(
            _("Unknown export format %(format)r; use one of %(formats)s.")
            % {"format": file_format, "formats": ", ".join(FORMATS)}
        )
    activities = list(activities)
    organisation = Organisation.current()
    if processor_record is None:
        processor_record = is_processor_record(activities)

    with translation.override("fr"):
        content = _export_content(
            activities, file_format, organisation, processor_record
        )

    audit_record(
        action="register.exported",
        actor=actor,
        actor_label=actor_label,
        target_type="register.processingactivity",
        target_id=activities[0].pk if len(activities) == 1 else "",
        count=len(activities),
        details={
            "format": file_format,
            "activity_ids": [a.pk for a in activities],
            "processor_record": processor_record,
        },
    )
    return content


def is_processor_record(activities: Sequence[ProcessingActivity]) -> bool:
    """Tell whether the activities form the processor's record (Art. 30(2))."""
    return bool(activities) and all(
        activity.role == ProcessingActivity.Role.PROCESSOR for activity in activities
    )


def _export_content(
    activities, file_format: str, organisation, processor_record: bool
) -> bytes:
    if file_format == "pdf":
        return register_pdf(
            activities=activities,
            organisation=organisation,
            processor_record=processor_record,
        )
    if file_format == "csv":
        rows = register_csv_rows(
            activities, organisation=organisation, processor_record=processor_record
        )
        return spreadsheets.csv_write(rows)
    sheets = register_sheets(
        activities=activities,
        organisation=organisation,
        processor_record=processor_record,
    )
    if file_format == "xlsx":
        _xlsx_cells_check(sheets)
        return spreadsheets.xlsx_write(sheets)
    return spreadsheets.ods_write(sheets)


# Excel cuts the text of a cell after 32,767 characters when it opens a file
# ("Excel specifications and limits", Microsoft support).
XLSX_CELL_MAX = 32_767


def _xlsx_cells_check(sheets: list[Sheet]) -> None:
    """Raise ``ExportError`` naming every cell that Excel would cut.

    The register's text limits keep new text far shorter, so only text saved
    before those limits existed can reach this.
    """
    too_long = []
    for sheet in sheets:
        for row_index, row in enumerate(sheet.rows):
            for column, value in enumerate(row):
                if not (isinstance(value, str) and len(value) > XLSX_CELL_MAX):
                    continue
                cell = f"{sheet.name}!{column_letter(column)}{row_index + 1}"
                # A record sheet's label, such as "Description du traitement".
                label = f" “{row[0]}”" if column == 1 and row[0] else ""
                too_long.append(f"{cell}{label} ({len(value)})")
    if too_long:
        raise ExportError(
            _(
                "The XLSX export would cut these cells, which are longer than "
                "the %(limit)d characters an Excel cell holds (length in "
                "brackets): %(cells)s. Shorten these texts in the register, or "
                "export as ODS, CSV or PDF, which keep them whole."
            )
            % {"limit": XLSX_CELL_MAX, "cells": ", ".join(too_long)}
        )


def export_filename(
    *,
    file_format: str,
    activity: ProcessingActivity | None = None,
    processor_record: bool = False,
    extract: bool = False,
):
    """Return the download's file name; the processor's record (Art. 30(2))
    is named "registre-sous-traitant", as the CSV has no title to say so.

    ``extract`` marks a file of the activities that a filtered list shows,
    named "extrait" so that it is not taken for the whole register.
    """
    stamp = timezone.localdate().isoformat()
    suffix = FORMATS[file_format][1]
    if activity is not None:
        # Accented letters keep their base letter: "ÉT/2026" gives "ET-2026".
        ascii_reference = (
            unicodedata.normalize("NFKD", activity.reference)
            .encode("ascii", "ignore")
            .decode()
        )
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_reference).strip("-")
        return f"registre-{slug}-{stamp}.{suffix}"
    name = "registre-sous-traitant" if processor_record else "registre"
    if extract:
        name += "-extrait"
    return f"{name}-{stamp}.{suffix}"


def register_sheets(
    *, activities, organisation: Organisation, processor_record: bool = False
) -> list[Sheet]:
    """Build the summary sheet and one record sheet per activity.

    The summary lists each record of ``record_parts`` under its own title and
    identity block, and the record sheets follow in the same order.
    """
    parts = record_parts(activities, processor_record=processor_record)
    sheets = [_summary_sheet(parts, organisation)]
    used_names = {SUMMARY_SHEET.casefold()}
    for part in parts:
        for activity in part.activities:
            name = _sheet_name(activity.reference, used_names)
            used_names.add(name.casefold())
            sheets.append(_record_sheet(activity, name))
    return sheets


def _summary_sheet(parts: list[RecordPart], organisation: Organisation) -> Sheet:
    sheet = Sheet(
        name=SUMMARY_SHEET, column_widths=[22, 40, 14, 24, 30, 50, 14, 14, 12, 40]
    )
    for index, part in enumerate(parts):
        if index:
            sheet.append([])
            sheet.append([])
        title, _short_title = register_titles(processor_record=part.processor_record)
        sheet.append([title], bold=True)
        for row in organisation_rows(
            organisation, processor_record=part.processor_record
        ):
            sheet.append(row)
        sheet.append([])
        if part.processor_record:
            sheet.append(PROCESSOR_SUMMARY_HEADERS, bold=True)
        else:
            sheet.append(SUMMARY_HEADERS, bold=True)
        for activity in part.activities:
            sheet.append(_summary_row(activity, processor_record=part.processor_record))
    return sheet


def _summary_row(activity: ProcessingActivity, *, processor_record: bool) -> list:
    """Return the activity's summary row, under ``PROCESSOR_SUMMARY_HEADERS`` in
    the processor's record and under ``SUMMARY_HEADERS`` otherwise."""
    missing = activity_missing_items(activity=activity)
    if processor_record:
        basis_or_controllers = activity.controllers_served
    else:
        basis_or_controllers = choice_label("lawful_basis", activity.lawful_basis)
    return [
        activity.reference,
        activity.name,
        choice_label("status", activity.status),
        choice_label("role", activity.role),
        basis_or_controllers,
        activity.purposes,
        format_value("date", activity.created_at),
        format_value("date", activity.updated_at),
        sensitive_data_label(activity),
        ", ".join(str(item.label) for item in missing),
    ]


SUMMARY_HEADERS = [
    "N° / RÉF",
    "Nom du traitement",
    "Statut",
    "Rôle de l'organisme",
    "Base légale",
    "Finalité(s) du traitement",
    "Date de création de la fiche",
    "Dernière mise à jour de la fiche",
    "Données sensibles ?",
    "Éléments manquants",
]
# The processor's record (Art. 30(2)(a)) names the controllers that each
# activity is carried out for. It has no lawful basis, because choosing the
# basis is the controller's task.
PROCESSOR_SUMMARY_HEADERS = [
    CONTROLLERS_SERVED_LABEL if header == "Base légale" else header
    for header in SUMMARY_HEADERS
]


def _record_sheet(activity: ProcessingActivity, name: str) -> Sheet:
    sheet = Sheet(name=name, column_widths=[45, 45, 30, 20, 30, 30, 20, 30])
    sheet.append([RECORD_TITLE, activity.reference], bold=True)
    sheet.append([])
    for field_name, label, kind in RECORD_FIELDS:
        sheet.append([label, format_value(kind, getattr(activity, field_name))])
    for part, (title, columns) in PART_TABLES.items():
        sheet.append([])
        sheet.append([title], bold=True)
        sheet.append([header for _name, header, _kind in columns], bold=True)
        for item in getattr(activity, part).all():
            sheet.append(
                [
                    format_value(kind, getattr(item, field_name))
                    for field_name, _header, kind in columns
                ]
            )
    return sheet


# Excel rejects a sheet name longer than 31 characters, containing []:*?/\,
# starting or ending with an apostrophe, or equal to "History" in any case,
# which it reserves for its own use. Excel and LibreOffice compare sheet names
# without regard to case, so "A-B" and "a-b" cannot both exist.
SHEET_NAME_MAX = 31
RESERVED_SHEET_NAMES = {"history"}


def _sheet_name(reference: str, used: set[str]) -> str:
    """Return a sheet name for ``reference`` that Excel accepts.

    ``used`` contains the case-folded names already taken. A taken or
    reserved name gets a number, as in "TRT-001 (2)".
    """
    base = re.sub(r"[\[\]:*?/\\]", "-", reference)[:SHEET_NAME_MAX]
    base = base.strip("'") or "Fiche"
    name = base
    counter = 2
    while name.casefold() in used or name.casefold() in RESERVED_SHEET_NAMES:
        suffix = f" ({counter})"
        name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        counter += 1
    return name


def csv_headers(identity: list[list] | None = None) -> list[str]:
    """Return the CSV columns: the row kind, the activity fields, each part's,
    then the organisation's identity block, ``identity`` as from
    ``organisation_rows``."""
    headers = [CSV_KIND_COLUMN] + [label for _name, label, _kind in RECORD_FIELDS]
    for title, columns in PART_TABLES.values():
        headers.extend(f"{title} : {header}" for _name, header, _kind in columns)
    headers.extend(label.rstrip(" :") for label, _value in identity or [])
    return headers


def register_csv_rows(
    activities, *, organisation: Organisation, processor_record: bool = False
) -> list[list]:
    """Return one CSV row per activity and one per part row, under ``csv_headers``.

    Every row repeats the activity's reference so that the file can be filtered
    and re-imported in any order of activities. Every activity row also
    repeats the organisation's identity, the controller's or the processor's
    (Art. 30(1)(a) and 30(2)(a) GDPR) with its DPO, and the export's date and
    time, so that a file filtered to one activity still has them.
    """
    identity = organisation_rows(organisation, processor_record=processor_record)
    headers = csv_headers(identity)
    rows = [headers]
    reference_column = headers.index("N° / RÉF")
    for activity in activities:
        row = [CSV_ACTIVITY_KIND] + [
            format_value(kind, getattr(activity, name))
            for name, _label, kind in RECORD_FIELDS
        ]
        row += [""] * (len(headers) - len(row) - len(identity))
        rows.append(row + [value for _label, value in identity])
        for part, (title, columns) in PART_TABLES.items():
            start = headers.index(f"{title} : {columns[0][1]}")
            for item in getattr(activity, part).all():
                line = [""] * len(headers)
                line[0] = title
                line[reference_column] = activity.reference
                for offset, (name, _header, kind) in enumerate(columns):
                    line[start + offset] = format_value(kind, getattr(item, name))
                rows.append(line)
    return rows
