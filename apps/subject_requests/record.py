"""The record of one subject-rights request as a PDF, for an inspector or a file.

It contains what the request page shows: the request, its deadline and whether
it was met, the identity check, the last search, the outcome, the proofs of
erasure and the whole timeline.
"""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Spacer
from reportlab.platypus import Table
from reportlab.platypus import TableStyle

from apps.core.dates import format_date
from apps.core.dates import format_datetime
from apps.core.models import Organisation
from apps.core.pdf import a4_document
from apps.core.pdf import pdf_fonts
from apps.core.pdf import pdf_paragraph
from apps.subject_requests import labels
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.selectors import days_late
from apps.subject_requests.selectors import extension_notices
from apps.subject_requests.selectors import identity_checks
from apps.subject_requests.selectors import request_timeline


def _moment(value) -> str:
    return format_datetime(value) if value else "—"


def _due_text(request: SubjectRequest) -> str:
    due = format_date(request.due_on)
    if not request.extension_months:
        return due
    return ngettext(
        "%(due)s (initially %(initial)s, extended by %(months)s month)",
        "%(due)s (initially %(initial)s, extended by %(months)s months)",
        request.extension_months,
    ) % {
        "due": due,
        "initial": format_date(request.initial_due_on),
        "months": request.extension_months,
    }


def _deadline_text(request: SubjectRequest) -> str:
    """Return whether the response met the deadline, or "" while the request is open."""
    late = days_late(request)
    if late is None:
        return ""
    if late == 0:
        return _("answered on time")
    return ngettext(
        "answered %(days)s day late", "answered %(days)s days late", late
    ) % {"days": late}


def _linked_text(request: SubjectRequest) -> str:
    """Return the number of linked contacts, or "" once an erasure deleted them.

    An erasure deletes the contacts and so their links: the proof of erasure
    gives what it removed instead.
    """
    count = request.contacts.count()
    if count == 0 and request.erasure_proofs.exists():
        return ""
    return str(count)


def _identity_text(request: SubjectRequest) -> str:
    """Return the identity status, then one line per check."""
    lines = [request.get_identity_status_display()]
    checks = list(identity_checks(request))
    for check in checks:
        parts = [format_datetime(check.checked_at), check.result_label, check.method]
        if check.checked_by:
            parts.append(check.checked_by.get_username())
        lines.append(" · ".join(parts))
    if not checks and request.identity_checked_at:
        lines[0] += " · " + " · ".join(
            [request.identity_method, format_datetime(request.identity_checked_at)]
        )
    return "\n".join(lines)


def _extension_notice_text(request: SubjectRequest) -> str:
    return "\n".join(
        f"{format_date(notice.informed_on)} ({notice.informed_by})"
        for notice in extension_notices(request)
    )


def _request_rows(request: SubjectRequest) -> list[tuple[str, str]]:
    rows = [
        (_("Controller"), Organisation.current().name or "—"),
        (_("Right exercised"), request.get_kind_display()),
        (_("Requester"), request.requester_name or "—"),
        (_("E-mail"), request.requester_email or "—"),
        (_("Phone"), request.requester_phone or "—"),
        (_("Postal address"), request.requester_address or "—"),
        (
            _("Received"),
            f"{_moment(request.received_at)} ({request.get_channel_display()})",
        ),
        (_("Due date"), _due_text(request)),
        (_("Reason for the extension"), request.extension_reason),
        (_("Person informed of the extension"), _extension_notice_text(request)),
        (_("Identity check"), _identity_text(request)),
        (_("Handler"), request.handler.get_username() if request.handler else "—"),
        (_("Status"), request.get_status_display()),
        (_("Response sent"), _moment(request.response_sent_at)),
        (_("Closed"), _moment(request.closed_at)),
        (_("Deadline"), _deadline_text(request)),
        (_("Linked contacts"), _linked_text(request)),
        (_("Reason for refusal"), request.refusal_reason),
        (_("Notes"), request.notes),
    ]
    if request.last_search.get("sources"):
        rows.append(
            (_("Last search"), labels.search_summary(request.last_search)["sentence"])
        )
    return [(label, value) for label, value in rows if value]


def _proof_rows(request: SubjectRequest) -> list[tuple[str, str]]:
    rows = []
    for proof in request.erasure_proofs.select_related("erased_by"):
        erased_by = (
            proof.erased_by.get_username() if proof.erased_by else proof.erased_by_label
        )
        rows.append(
            (
                _moment(proof.erased_at),
                "\n".join(
                    (
                        _("Erased by %(who)s") % {"who": erased_by},
                        labels.record_counts_text(proof.record_counts),
                        labels.suppression_text(
                            kinds=proof.suppression_kinds,
                            counts=proof.suppression_counts,
                            added=proof.suppression_added,
                        ),
                    )
                ),
            )
        )
    return rows


def _table(rows: list[list], widths: list, styles, *, header: bool = False) -> Table:
    body = styles["BodyText"]
    bold = styles["Bold"]
    cells = [
        [
            pdf_paragraph(value, bold if (header and number == 0) else body)
            for value in row
        ]
        for number, row in enumerate(rows)
    ]
    # A long value splits across pages instead of failing.
    table = Table(cells, colWidths=widths, splitInRow=1, repeatRows=1 if header else 0)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
            ]
        )
    )
    return table


def _styles() -> dict:
    """Return the styles of the record, in fonts that cover European names."""
    regular, bold = pdf_fonts()
    base = getSampleStyleSheet()
    return {
        "Title": ParagraphStyle("title", parent=base["Title"], fontName=bold),
        "Heading2": ParagraphStyle("heading", parent=base["Heading2"], fontName=bold),
        "BodyText": ParagraphStyle("body", parent=base["BodyText"], fontName=regular),
        "Bold": ParagraphStyle("bold", parent=base["BodyText"], fontName=bold),
    }


def _timeline_rows(request: SubjectRequest) -> list[list[str]]:
    """Return the timeline as table rows, under a header row."""
    rows = [[_("When"), _("Action"), _("By"), _("Details")]]
    for event in request_timeline(request):
        rows.append(
            [
                format_datetime(event.occurred_at),
                str(event.action_label),
                event.actor.get_username() if event.actor else "—",
                labels.event_details_text(event.details),
            ]
        )
    return rows


def request_record_pdf(request: SubjectRequest) -> bytes:
    """Return the record of ``request`` as PDF bytes."""
    styles = _styles()
    title = _("Subject-rights request %(reference)s") % {"reference": request.reference}
    generated = _("Record generated on %(when)s.") % {
        "when": format_datetime(timezone.now())
    }
    story = [
        pdf_paragraph(title, styles["Title"]),
        pdf_paragraph(generated, styles["BodyText"]),
        Spacer(1, 4 * mm),
        _table([list(row) for row in _request_rows(request)], [50 * mm, None], styles),
    ]

    proofs = _proof_rows(request)
    if proofs:
        story.append(pdf_paragraph(_("Proof of erasure"), styles["Heading2"]))
        story.append(_table([list(row) for row in proofs], [50 * mm, None], styles))

    story.append(pdf_paragraph(_("Timeline"), styles["Heading2"]))
    story.append(
        _table(
            _timeline_rows(request),
            [38 * mm, 45 * mm, 25 * mm, None],
            styles,
            header=True,
        )
    )

    buffer = io.BytesIO()
    a4_document(buffer, title).build(story)
    return buffer.getvalue()
