"""Export of the whole breach register (GDPR Art. 33(5)) as CSV, XLSX, ODS or PDF.

Art. 33(5) requires the controller to document every breach, notified or not,
with its facts, effects and remedial action, so that the authority can check
compliance. Every export goes through ``breach_register_export``, which
writes the audit event. The files are in the active language.
"""

from collections.abc import Callable
from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from apps.core.audit import audit_record
from apps.core.dates import ambiguous_time_offset
from apps.core.dates import format_datetime
from apps.core.exports import csv_bytes
from apps.core.exports import csv_delimiter
from apps.core.exports import ods_bytes
from apps.core.exports import xlsx_bytes
from apps.core.models import Organisation

from .clock import notified_late_text
from .clock import time_left_text
from .models import Breach
from .models import BreachEvent
from .pdf import breach_register_pdf
from .selectors import breach_register_for_export
from .selectors import communication_text

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    "pdf": ("application/pdf", "pdf"),
}

# CSV cells write times in local time in this sortable form. The column
# headers name the time zone.


class BreachExportError(ValueError):
    """An export requested in a format that does not exist."""


def _people_informed(breach: Breach) -> int:
    # Annotated by breach_register_for_export, 0 for a breach with no
    # communication recorded.
    return breach.people_informed or 0


def _activities(breach: Breach) -> str:
    return "; ".join(str(activity) for activity in breach.activities.all())


def _columns(now: datetime) -> list[tuple[str, Callable[[Breach], object]]]:
    """Return the register's (header, value getter) pairs, in column order.

    A getter returns text, an integer, a boolean, an aware datetime or None.
    """
    zone = timezone.get_current_timezone_name()

    def timed(label: str) -> str:
        return f"{label} ({zone})"

    return [
        (_("Reference"), lambda breach: breach.reference),
        (_("Title"), lambda breach: breach.title),
        (_("What happened"), lambda breach: breach.description),
        (timed(_("Detected at")), lambda breach: breach.detected_at),
        (timed(_("Became aware at")), lambda breach: breach.aware_at),
        (timed(_("Notification deadline")), lambda breach: breach.deadline_at),
        (timed(_("Notified at")), lambda breach: breach.notified_at),
        (_("Authority reference"), lambda breach: breach.authority_reference),
        (timed(_("Data subjects first informed at")), _first_informed_at),
        (timed(_("Closed at")), lambda breach: breach.closed_at),
        (_("Status"), lambda breach: breach.get_status_display()),
        (_("Notification late"), lambda breach: breach.is_late(now)),
        (_("Time past the deadline"), lambda breach: _lateness(breach, now)),
        (_("Reasons for the delay"), lambda breach: breach.delay_reasons),
        (_("Type of breach"), lambda breach: ", ".join(breach.natures)),
        (_("Categories of data subjects"), lambda breach: breach.subject_categories),
        (
            _("Approximate number of data subjects"),
            lambda breach: breach.subjects_approx,
        ),
        (_("Categories of personal data"), lambda breach: breach.data_categories),
        (_("Approximate number of records"), lambda breach: breach.records_approx),
        (_("Processing activities concerned"), _activities),
        (_("Likely consequences"), lambda breach: breach.likely_consequences),
        (_("Measures taken"), lambda breach: breach.measures_taken),
        (_("Measures proposed"), lambda breach: breach.measures_proposed),
        (_("Risk"), lambda breach: breach.get_risk_level_display()),
        (_("Reasoning"), lambda breach: breach.risk_reasoning),
        (
            _("Notification to the authority"),
            lambda breach: breach.get_notification_decision_display(),
        ),
        (
            _("Why the authority is not notified"),
            lambda breach: breach.no_notification_reason,
        ),
        (
            _("Data subjects must be informed"),
            lambda breach: breach.subjects_must_be_informed,
        ),
        (
            _("Why data subjects are not informed"),
            lambda breach: breach.no_communication_reason,
        ),
        (_("Communications to data subjects"), _communications),
        (_("People informed"), _people_informed),
        (_("Notifications to the authority"), _notifications),
        (_("Notes"), _notes),
    ]


def _lateness(breach: Breach, now: datetime) -> str:
    """Return how late the notification came, or how overdue it is, or ""."""
    if not breach.is_late(now):
        return ""
    if breach.notified_at is not None:
        return notified_late_text(
            int((breach.notified_at - breach.deadline_at).total_seconds())
        )
    return time_left_text(int((breach.deadline_at - now).total_seconds()))


def _moment(value: datetime) -> str:
    """Return a local time as the active language writes it, 27/10/2026 20:55."""
    local = timezone.localtime(value)
    return date_format(local, "SHORT_DATETIME_FORMAT") + ambiguous_time_offset(local)


def _notifications(breach: Breach) -> str:
    """Return one line per notification: phase, time, reference and content."""
    lines = []
    for notification in breach.notifications.all():
        parts = [
            notification.get_phase_display(),
            _moment(notification.submitted_at),
            notification.authority_reference,
            notification.content,
        ]
        lines.append(" · ".join(part for part in parts if part))
    return "\n".join(lines)


def _first_informed_at(breach: Breach) -> datetime | None:
    # The earliest time, whatever order the communications were recorded in.
    times = [item.communicated_at for item in breach.communications.all()]
    return min(times, default=None)


def _communications(breach: Breach) -> str:
    """Return one line per communication to the people: time, means and count."""
    return "\n".join(
        communication_text(communication, when=_moment(communication.communicated_at))
        for communication in breach.communications.all()
    )


def _notes(breach: Breach) -> str:
    """Return one line per timeline note, with its time.

    A reason for a new awareness time is a note too, headed by its kind.
    """
    lines = []
    for note in breach.notes:
        text = note.text
        if note.kind != BreachEvent.Kind.NOTE:
            label = _("%(label)s:") % {"label": note.get_kind_display()}
            text = f"{label} {text}"
        lines.append(f"{_moment(note.occurred_at)} · {text}")
    return "\n".join(lines)


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, datetime):
        return _moment(value)
    return value


def _spreadsheet_cell(value):
    """Return an XLSX or ODS cell value: text for a boolean, a local datetime."""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, datetime):
        # An XLSX or ODS date has no time zone, so the cell contains the local
        # time that the column header names. A time of the hour repeated in autumn
        # is written as text with its UTC offset, which a date cannot hold.
        local = timezone.localtime(value)
        if ambiguous_time_offset(local):
            return _moment(value)
        return local.replace(tzinfo=None, microsecond=0)
    return value


def _pdf_text(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "—"
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, int):
        return number_format(value, force_grouping=True)
    return str(value)


def _pdf_entries(
    breaches: Sequence[Breach], columns: list[tuple[str, Callable]]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return one (heading, label/value rows) entry per breach for the PDF."""
    entries = []
    for breach in breaches:
        rows = [(header, _pdf_text(value(breach))) for header, value in columns]
        entries.append((str(breach), rows))
    return entries


def breach_register_content(
    *, breaches: Sequence[Breach], file_format: str, now: datetime
) -> bytes:
    """Return ``breaches`` as a file in ``file_format``, without auditing."""
    columns = _columns(now)
    headers = [header for header, _value in columns]
    if file_format == "pdf":
        return breach_register_pdf(
            organisation=Organisation.current(),
            entries=_pdf_entries(breaches, columns),
        )

    rows = ([value(breach) for _header, value in columns] for breach in breaches)
    if file_format == "csv":
        cells = ([_csv_cell(cell) for cell in row] for row in rows)
        return csv_bytes(headers, cells, delimiter=csv_delimiter())

    cells = ([_spreadsheet_cell(cell) for cell in row] for row in rows)
    if file_format == "ods":
        return ods_bytes(headers, cells, title=_("Breaches"))
    return xlsx_bytes(headers, cells, title=_("Breaches"))


def breach_register_export(
    *, file_format: str, actor=None, actor_label: str = ""
) -> tuple[bytes, int]:
    """Return the whole breach register in ``file_format`` and audit the export.

    Returns the file's bytes and the number of breaches it lists. Raises
    ``BreachExportError`` for a format not in ``FORMATS``.
    """
    if file_format not in FORMATS:
        raise BreachExportError(
            _("Unknown export format %(format)r; use one of %(formats)s.")
            % {"format": file_format, "formats": ", ".join(FORMATS)}
        )

    breaches = list(breach_register_for_export())
    content = breach_register_content(
        breaches=breaches, file_format=file_format, now=timezone.now()
    )

    audit_record(
        action="breaches.register.exported",
        actor=actor,
        actor_label=actor_label,
        target_type="breaches.breach",
        count=len(breaches),
        details={
            "format": file_format,
            "breach_ids": [breach.pk for breach in breaches],
        },
    )
    return content, len(breaches)


def breach_register_filename(file_format: str) -> str:
    # Translators: a download's file name; keep it ASCII, with no spaces.
    return _("breach-register-%(date)s.%(extension)s") % {
        "date": timezone.localdate().isoformat(),
        "extension": FORMATS[file_format][1],
    }
