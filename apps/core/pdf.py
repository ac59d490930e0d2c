"""Shared parts of the PDFs that Registre writes with reportlab: fonts, page, text."""

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph
from reportlab.platypus import SimpleDocTemplate

# DejaVu Sans covers the Latin, Greek and Cyrillic letters of European names,
# but not Chinese or Japanese characters. The built-in Helvetica, the fallback
# where Debian's fonts-dejavu is not installed, covers Western European
# letters only.
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def pdf_fonts() -> tuple[str, str]:
    """Register DejaVu Sans once and return the (regular, bold) font names."""
    regular = _DEJAVU / "DejaVuSans.ttf"
    bold = _DEJAVU / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        return "Helvetica", "Helvetica-Bold"
    if "RegistreSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("RegistreSans", str(regular)))
        pdfmetrics.registerFont(TTFont("RegistreSans-Bold", str(bold)))
    return "RegistreSans", "RegistreSans-Bold"


def a4_document(buffer, title: str) -> SimpleDocTemplate:
    """Return an A4 document with 18 mm margins, written to ``buffer``."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
    )


def pdf_paragraph(text: str, style) -> Paragraph:
    """Return ``text`` as a paragraph, escaped, with its line breaks kept.

    Paragraph reads a small XML markup, so text from users must be escaped.
    """
    text = font_printable(text, style.fontName)
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def font_printable(text: str, font_name: str) -> str:
    """Return ``text`` with each character that the font has no glyph for, or
    beyond U+FFFF, written as its code point, such as "[U+1F680]".

    ReportLab 5.1 draws a character without a glyph as nothing, and writes a
    malformed text layer for one beyond U+FFFF, so the PDF would lose either
    without a sign. Only TrueType fonts list their glyphs: text in a built-in
    font keeps its characters up to U+FFFF.
    """
    font = pdfmetrics.getFont(font_name)
    glyphs = getattr(getattr(font, "face", None), "charToGlyph", None)

    def printable(character: str) -> bool:
        code = ord(character)
        if code > 0xFFFF:
            return False
        return not glyphs or code in glyphs or character in "\n\r\t"

    return "".join(
        character if printable(character) else f"[U+{ord(character):04X}]"
        for character in text
    )
