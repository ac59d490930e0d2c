"""The printable register: a PDF with the organisation's header on every page."""

import datetime
import io
import re
from functools import partial

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import BaseDocTemplate
from reportlab.platypus import Frame
from reportlab.platypus import NextPageTemplate
from reportlab.platypus import PageBreak
from reportlab.platypus import PageTemplate
from reportlab.platypus import Paragraph
from reportlab.platypus import Spacer
from reportlab.platypus import Table
from reportlab.platypus import TableStyle

from apps.core.models import Organisation
from apps.core.pdf import font_printable
from apps.core.pdf import pdf_fonts
from apps.core.pdf import pdf_paragraph
from apps.core.text import newlines_unified
from apps.register.layout import CONTROLLERS_SERVED_LABEL
from apps.register.layout import PART_TABLES
from apps.register.layout import RECORD_FIELDS
from apps.register.layout import RecordPart
from apps.register.layout import format_value
from apps.register.layout import organisation_rows
from apps.register.layout import record_parts
from apps.register.layout import register_titles
from apps.register.layout import sensitive_data_label
from apps.register.services import activity_missing_items


def register_pdf(
    *, activities, organisation: Organisation, processor_record: bool = False
) -> bytes:
    """Return the PDF: for each record of ``record_parts``, the organisation
    and a summary table, then one page per activity.

    ``processor_record`` titles it as the processor's record (Art. 30(2)). An
    export that mixes both roles prints the controller's record, then the
    processor's, each with its own title in the page header.
    """
    parts = record_parts(activities, processor_record=processor_record)
    regular, bold = pdf_fonts()
    styles = _styles(regular, bold)
    text = partial(_paragraph, style=styles["body"])

    story = []
    for index, part in enumerate(parts):
        if index:
            story.append(NextPageTemplate(_template_id(part)))
            story.append(PageBreak())
        story.extend(_record_story(part, organisation, text, styles, regular, bold))

    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=2.6 * cm,
        bottomMargin=1.5 * cm,
        title=register_titles(processor_record=parts[0].processor_record)[0],
        author=organisation.name,
    )
    frame = Frame(
        document.leftMargin,
        document.bottomMargin,
        document.width,
        document.height,
        id="body",
    )
    document.addPageTemplates(
        [
            PageTemplate(
                id=_template_id(part),
                frames=[frame],
                onPage=_page_header(
                    organisation,
                    regular,
                    bold,
                    register_titles(processor_record=part.processor_record)[1],
                ),
            )
            for part in parts
        ]
    )
    document.build(story)
    return buffer.getvalue()


def _template_id(part: RecordPart) -> str:
    return "processor" if part.processor_record else "controller"


def _styles(regular: str, bold: str) -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "body": ParagraphStyle(
            "body", parent=base["BodyText"], fontName=regular, fontSize=8.5
        ),
        # A heading moves to the next page with the table it introduces.
        "heading": ParagraphStyle(
            "heading", parent=base["Heading1"], fontName=bold, keepWithNext=1
        ),
        "subheading": ParagraphStyle(
            "sub", parent=base["Heading3"], fontName=bold, keepWithNext=1
        ),
    }


def _paragraph(value, style) -> Paragraph:
    display_value = format_value("text", value)
    if isinstance(display_value, datetime.datetime):
        display_value = display_value.strftime("%d/%m/%Y %H:%M:%S")
    elif hasattr(display_value, "strftime"):
        display_value = display_value.strftime("%d/%m/%Y")
    lines = words_breakable(newlines_unified(str(display_value)))
    return pdf_paragraph(lines, style)


def _record_story(part: RecordPart, organisation, text, styles, regular, bold):
    """Return the flowables of one record: its title, the organisation's
    identity, the summary table and one page per activity."""
    register_title, _short_title = register_titles(
        processor_record=part.processor_record
    )
    story = [pdf_paragraph(register_title, styles["heading"])]
    # Art. 30(1)(a) and 30(2)(a) GDPR: the controller's or processor's name
    # and contact details, its representative and its DPO. The page header
    # only repeats a short form.
    story.append(
        _grid(
            organisation_rows(organisation, processor_record=part.processor_record),
            text,
            bold,
            widths=[6 * cm, 12 * cm],
            header=False,
        )
    )
    story.append(Spacer(1, 0.4 * cm))
    story.append(_summary_table(part, styles["body"], regular, bold))
    for activity in part.activities:
        story.append(PageBreak())
        story.extend(_activity_story(activity, text, styles, regular, bold))
    return story


def _summary_table(part: RecordPart, body: ParagraphStyle, regular, bold) -> Table:
    """Return the record's table of activities with their dates, sensitive
    data and missing items, as in the spreadsheet's summary.

    The processor's record (Art. 30(2)(a)) also names the controllers that
    each activity is carried out for.
    """
    rows = []
    for activity in part.activities:
        missing = activity_missing_items(activity=activity)
        row = [
            activity.reference,
            activity.name,
            format_value("status", activity.status),
            format_value("date", activity.created_at),
            format_value("date", activity.updated_at),
            sensitive_data_label(activity),
            ", ".join(str(item.label) for item in missing) or "—",
        ]
        if part.processor_record:
            row.insert(2, activity.controllers_served or "—")
        rows.append(row)

    headers = [
        "N° / RÉF",
        "Nom du traitement",
        "Statut",
        "Date de création de la fiche",
        "Dernière mise à jour de la fiche",
        "Données sensibles ?",
        "Éléments manquants",
    ]
    if part.processor_record:
        headers.insert(2, CONTROLLERS_SERVED_LABEL)
    # The columns fill the 18 cm between the page's margins, each as wide as
    # its longest word at least, so that references and addresses stay whole.
    table_rows = [headers, *rows]
    widths, size = _table_layout(
        table_rows, total=18 * cm, font=regular, size=body.fontSize
    )
    table_style = ParagraphStyle(
        "table", parent=body, fontSize=size, leading=size * 1.2
    )
    return _grid(
        table_rows, partial(_paragraph, style=table_style), bold, widths=widths
    )


def _activity_story(activity, text, styles, regular, bold):
    story = [
        pdf_paragraph(f"{activity.reference} · {activity.name}", styles["heading"])
    ]
    rows = [
        [label, format_value(kind, getattr(activity, name))]
        for name, label, kind in RECORD_FIELDS
    ]
    story.append(_grid(rows, text, bold, widths=[6 * cm, 12 * cm], header=False))
    body = styles["body"]
    for part, (title, columns) in PART_TABLES.items():
        story.append(Spacer(1, 0.3 * cm))
        story.append(pdf_paragraph(title, styles["subheading"]))
        items = list(getattr(activity, part).all())
        if not items:
            story.append(text("—"))
            continue
        table_rows = [[header for _name, header, _kind in columns]]
        for item in items:
            table_rows.append(
                [
                    format_value(kind, getattr(item, name))
                    for name, _header, kind in columns
                ]
            )
        widths, size = _table_layout(
            table_rows, total=18 * cm, font=regular, size=body.fontSize
        )
        table_style = ParagraphStyle(
            "table", parent=body, fontSize=size, leading=size * 1.2
        )
        story.append(
            _grid(
                table_rows, partial(_paragraph, style=table_style), bold, widths=widths
            )
        )
    return story


# ReportLab 5.1 splits a word wider than its column letter by letter, again on
# every page that a table cell runs over: a 200,000-character word took 159 s
# to export. A word longer than _LONG_WORD characters
# is therefore cut into chunks of _WORD_CHUNK characters separated by spaces,
# where lines can break. Such words are rare: a URL is usually shorter.
_LONG_WORD = 100
_WORD_CHUNK = 50
_LONG_WORD_PATTERN = re.compile(r"\S{" + str(_LONG_WORD + 1) + r",}")


def words_breakable(text: str) -> str:
    """Return ``text`` with a space every 50 characters of each long word.

    NOTE: a cell of 200,000 characters in ordinary words still took 28 s
    (a two-cell ReportLab table, on a shared 2-core machine), because each
    page wraps the rest of the cell again. Only text saved before the limits
    of ``MAX_TEXT_LENGTH`` (10,000 characters) can be that long.
    """

    def split(match: re.Match) -> str:
        word = match.group(0)
        return " ".join(
            word[start : start + _WORD_CHUNK]
            for start in range(0, len(word), _WORD_CHUNK)
        )

    return _LONG_WORD_PATTERN.sub(split, text)


# ReportLab's default left and right padding of a table cell, in points.
_CELL_PADDING = 2 * 6
# The smallest font that a wide table shrinks to so that its words stay whole.
_MIN_TABLE_FONT_SIZE = 6


def _table_layout(rows, *, total: float, font: str, size: float):
    """Return the column widths and font size of a table whose words stay whole.

    Each column gets at least the printed width of its longest word, and the
    rest of ``total`` goes to the columns in proportion to that width. When
    the longest words do not fit side by side, as in the eight-column
    retention table, the font shrinks down to 6 points. A word still wider
    than its column then wraps inside the word.
    """
    longest = [0.0] * len(rows[0])
    # A word wider than a third of the table (a long hyphenated name) wraps
    # in its column rather than squeezing every other column.
    widest = total / 3
    for row in rows:
        for index, value in enumerate(row):
            for word in str(format_value("text", value)).split():
                width = min(stringWidth(word[:_LONG_WORD], font, size), widest)
                longest[index] = max(longest[index], width)
    room = total - _CELL_PADDING * len(longest)
    words_width = sum(longest) or 1.0
    if words_width > room:
        smaller = max(_MIN_TABLE_FONT_SIZE, size * room / words_width)
        longest = [width * smaller / size for width in longest]
        size = smaller
        words_width = sum(longest)
        if words_width > room:
            longest = [width * room / words_width for width in longest]
            words_width = room
    spare = room - words_width
    widths = [_CELL_PADDING + width + spare * width / words_width for width in longest]
    return widths, size


def _grid(rows, text, bold_font, *, widths, header=True) -> Table:
    table = Table(
        [[text(value) for value in row] for row in rows],
        colWidths=widths,
        repeatRows=1 if header else 0,
        # A value longer than a page splits across pages instead of failing.
        splitInRow=1,
    )
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d9dee7")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f6")))
    else:
        style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef1f6")))
    table.setStyle(TableStyle(style))
    return table


def _fitted(text: str, font: str, size: float, width: float) -> str:
    """Return ``text``, cut with "…" to fit ``width`` points in the font."""
    if stringWidth(text, font, size) <= width:
        return text
    # A longer prefix is never narrower, so a binary search finds the longest
    # one that fits with "…" in about log2(len(text)) measures. Dropping one
    # character at a time measured the text once per character cut.
    fitting, too_wide = 0, len(text)
    while too_wide - fitting > 1:
        middle = (fitting + too_wide) // 2
        if stringWidth(text[:middle] + "…", font, size) <= width:
            fitting = middle
        else:
            too_wide = middle
    text = text[:fitting]
    # A code point that ``font_printable`` wrote, such as "[U+1F680]", is
    # kept whole or left out, never cut.
    text = _PARTIAL_CODE_POINT.sub("", text)
    return text.rstrip() + "…"


_PARTIAL_CODE_POINT = re.compile(r"\[(U(\+[0-9A-F]*)?)?$")


def _page_header(organisation: Organisation, regular: str, bold: str, title: str):
    """Return the page callback that prints the organisation and the page number.

    Each line is cut to the page's width, and the name to what the title on its
    right leaves: the first page's identity block gives them in full.
    """
    printed = timezone.localdate().strftime("%d/%m/%Y")
    lines = [
        ", ".join(
            line.strip() for line in organisation.address.splitlines() if line.strip()
        ),
        " · ".join(
            part
            for part in (
                organisation.registration_number,
                organisation.phone,
                organisation.email,
            )
            if part
        ),
        "DPO : "
        + " · ".join(
            part for part in (organisation.dpo_name, organisation.dpo_email) if part
        )
        if organisation.dpo_name
        else "",
    ]

    def draw(canvas, document):
        width, height = A4
        usable = width - 3 * cm
        right = f"{title} · {printed} · page {document.page}"
        right_width = stringWidth(right, regular, 8)
        canvas.saveState()
        canvas.setFont(bold, 11)
        name = _fitted(
            font_printable(organisation.name or "—", bold),
            bold,
            11,
            usable - right_width - cm,
        )
        canvas.drawString(1.5 * cm, height - 1.2 * cm, name)
        canvas.setFont(regular, 8)
        for index, line in enumerate(line for line in lines if line):
            line = _fitted(font_printable(line, regular), regular, 8, usable)
            canvas.drawString(1.5 * cm, height - (1.6 + 0.4 * index) * cm, line)
        canvas.drawRightString(width - 1.5 * cm, height - 1.2 * cm, right)
        canvas.restoreState()

    return draw
