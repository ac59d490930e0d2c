"""The notification draft as a PDF, written with reportlab."""

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

from apps.core.dates import format_datetime

from .models import Breach
from .selectors import DraftSection
from .selectors import breach_controllers_served


def _paragraph(text: str, style) -> Paragraph:
    # Paragraph reads a small XML markup, so the user's text is escaped and
    # its line breaks become <br/>.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def breach_draft_pdf(*, breach: Breach, sections: list[DraftSection]) -> bytes:
    """Return the notification draft of ``breach`` as PDF bytes."""
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    label_style = styles["BodyText"].clone("label", fontName="Helvetica-Bold")
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{breach.reference} {_('notification draft')}",
    )

    story = [
        _paragraph(_("Personal data breach notification: draft"), styles["Title"]),
        _paragraph(f"{breach.reference} · {breach.title}", styles["Heading2"]),
        _paragraph(
            _generated_text(breach) % {"when": format_datetime(timezone.now())},
            body,
        ),
        Spacer(1, 4 * mm),
    ]
    for section in sections:
        story.append(_paragraph(section.title, styles["Heading3"]))
        rows = [
            [_paragraph(label, label_style), _paragraph(value, body)]
            for label, value in section.rows
        ]
        # A value longer than a page splits across pages instead of failing.
        table = Table(rows, colWidths=[55 * mm, None], splitInRow=1)
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ]
            )
        )
        story.extend([table, Spacer(1, 3 * mm)])

    document.build(story)
    return buffer.getvalue()


def _generated_text(breach) -> str:
    if breach_controllers_served(breach):
        return _(
            "Generated on %(when)s, for the controller, who notifies the authority."
        )
    return _("Generated on %(when)s, to copy into the CNIL's online form.")
