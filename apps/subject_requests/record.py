"""The record of one subject-rights request as a PDF, for an inspector or a file.

It gives what the request page gives: the request and its deadline, the
identity check, the outcome, the proofs of erasure and the whole timeline.
"""

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph
from reportlab.platypus import SimpleDocTemplate
from reportlab.platypus import Spacer
from reportlab.platypus import Table
from reportlab.platypus import TableStyle

from apps.core.dates import format_date
from apps.core.dates import format_datetime
from apps.core.models import Organisation
from apps.subject_requests import labels
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.selectors import request_timeline


def _paragraph(text: str, style) -> Paragraph:
    # Paragraph reads a small XML markup, so the text is escaped and its line
    # breaks become <br/>.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _moment(value) -> str:
    return format_datetime(value) if value else "—"


def _request_rows(request: SubjectRequest) -> list[tuple[str, str]]:
    due = format_date(request.due_on)
    if request.extension_months:
        due = _("%(due)s, extended by %(months)s months: %(reason)s") % {
            "due": due,
            "months": request.extension_months,
            "reason": request.extension_reason,
        }
    rows = [
        (_("Controller"), Organisation.current().name or "—"),
        (_("Right exercised"), request.get_kind_display()),
        (_("Channel"), request.get_channel_display()),
        (_("Requester"), request.requester_name or "—"),
        (_("E-mail"), request.requester_email or "—"),
        (_("Phone"), request.requester_phone or "—"),
        (_("Received at"), _moment(request.received_at)),
        (_("Due date"), due),
        (
            _("Identity check"),
            " · ".join(
                part
                for part in (
                    request.get_identity_status_display(),
                    request.identity_method,
                    format_datetime(request.identity_checked_at)
                    if request.identity_checked_at
                    else "",
                )
                if part
            ),
        ),
        (_("Status"), request.get_status_display()),
        (_("Closed at"), _moment(request.closed_at)),
        (_("Linked contacts"), str(request.contacts.count())),
    ]
    if request.refusal_reason:
        rows.append((_("Reason for refusal"), request.refusal_reason))
    return rows


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
    bold = body.clone("bold", fontName="Helvetica-Bold")
    cells = [
        [_paragraph(value, bold if (header and number == 0) else body) for value in row]
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


def request_record_pdf(request: SubjectRequest) -> bytes:
    """Return the record of ``request`` as PDF bytes."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    title = _("Subject-rights request %(reference)s") % {"reference": request.reference}
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
    )
    story = [
        _paragraph(title, styles["Title"]),
        _paragraph(
            _("Record generated on %(when)s.")
            % {"when": format_datetime(timezone.now())},
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
        _table([list(row) for row in _request_rows(request)], [50 * mm, None], styles),
    ]
    proofs = _proof_rows(request)
    if proofs:
        story += [
            _paragraph(_("Proof of erasure"), styles["Heading2"]),
            _table([list(row) for row in proofs], [50 * mm, None], styles),
        ]
    timeline = [[_("When"), _("Action"), _("By"), _("Details")]] + [
        [
            format_datetime(event.occurred_at),
            str(event.action_label),
            event.actor.get_username() if event.actor else "—",
            labels.event_details_text(event.details),
        ]
        for event in request_timeline(request)
    ]
    story += [
        _paragraph(_("Timeline"), styles["Heading2"]),
        _table(timeline, [38 * mm, 45 * mm, 25 * mm, None], styles, header=True),
    ]
    document.build(story)
    return buffer.getvalue()
