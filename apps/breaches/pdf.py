"""The notification draft and the breach register as PDFs, written with reportlab."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Spacer
from reportlab.platypus import Table
from reportlab.platypus import TableStyle

from apps.core.dates import format_datetime
from apps.core.models import Organisation
from apps.core.pdf import a4_document
from apps.core.pdf import pdf_paragraph

from .models import Breach
from .selectors import DraftSection
from .selectors import breach_controllers_served


def _rows_table(rows: list[tuple[str, str]], styles) -> Table:
    """Return a two-column table of labels and values."""
    body = styles["BodyText"]
    label_style = body.clone("label", fontName="Helvetica-Bold")
    cells = [
        [pdf_paragraph(label, label_style), pdf_paragraph(value, body)]
        for label, value in rows
    ]
    # A value longer than a page splits across pages instead of failing.
    table = Table(cells, colWidths=[55 * mm, None], splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
            ]
        )
    )
    return table


def breach_draft_pdf(*, breach: Breach, sections: list[DraftSection]) -> bytes:
    """Return the notification draft of ``breach`` as PDF bytes."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = a4_document(buffer, f"{breach.reference} {_('notification draft')}")

    story = [
        pdf_paragraph(_("Personal data breach notification: draft"), styles["Title"]),
        pdf_paragraph(f"{breach.reference} · {breach.title}", styles["Heading2"]),
        pdf_paragraph(
            _generated_text(breach) % {"when": format_datetime(timezone.now())},
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
    ]
    for section in sections:
        story.append(pdf_paragraph(section.title, styles["Heading3"]))
        story.extend([_rows_table(section.rows, styles), Spacer(1, 3 * mm)])

    document.build(story)
    return buffer.getvalue()


def breach_register_pdf(
    *, organisation: Organisation, entries: list[tuple[str, list[tuple[str, str]]]]
) -> bytes:
    """Return the breach register as PDF bytes.

    ``entries`` contains one (heading, label/value rows) pair per breach, in
    the order the register lists them.
    """
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    title = _("Breach register")
    document = a4_document(buffer, title)

    story = [
        pdf_paragraph(title, styles["Title"]),
        pdf_paragraph(organisation.name, styles["Heading2"]),
        pdf_paragraph(
            _(
                "Every personal-data breach, notified or not, with its facts, "
                "effects and remedial action (GDPR Art. 33(5)). Generated on "
                "%(when)s."
            )
            % {"when": format_datetime(timezone.now())},
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
    ]
    if not entries:
        story.append(pdf_paragraph(_("No breach recorded."), styles["BodyText"]))
    for heading, rows in entries:
        story.append(pdf_paragraph(heading, styles["Heading3"]))
        story.extend([_rows_table(rows, styles), Spacer(1, 3 * mm)])

    document.build(story)
    return buffer.getvalue()


def _generated_text(breach) -> str:
    if breach_controllers_served(breach):
        return _(
            "Generated on %(when)s, for the controller, who notifies the authority."
        )
    return _("Generated on %(when)s, to copy into the CNIL's online form.")
