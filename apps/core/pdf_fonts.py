"""Fonts of the PDFs that Registre writes with reportlab."""

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

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
