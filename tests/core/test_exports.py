import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

from apps.core.exports import csv_bytes
from apps.core.exports import neutralize_formula
from apps.core.exports import xlsx_bytes


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://evil.example";"click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "-2+3",
        "+1/2",
        "+33 1 44-55-66-77",
    ],
)
def test_formula_text_gets_apostrophe(value):
    assert neutralize_formula(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    ["+33612345678", "+33 (0)6 12 34 56 78", "-142.85", "Jean", "a=b", 42, None],
)
def test_plain_values_left_intact(value):
    assert neutralize_formula(value) == value


def test_csv_bytes_neutralises_cells():
    content = csv_bytes(["name", "phone"], [["=1+1", "+33612345678"]])

    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))

    assert rows[1] == ["'=1+1", "+33612345678"]


def test_xlsx_bytes_stores_formula_as_text():
    content = xlsx_bytes(["name"], [["=1+1"], ["@SUM(A1)"], ["#N/A"], ["Jean"]])

    sheet = load_workbook(io.BytesIO(content)).active

    assert sheet["A2"].value == "=1+1"
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].quotePrefix
    assert sheet["A3"].value == "@SUM(A1)"
    assert sheet["A3"].data_type == "s"
    assert sheet["A4"].value == "#N/A"
    assert sheet["A4"].data_type == "s"
    assert not sheet["A5"].quotePrefix


def test_xlsx_dates_read_day_first():
    workbook = load_workbook(
        io.BytesIO(
            xlsx_bytes(
                ["Quand", "Jour"],
                [
                    [
                        # XLSX cells hold naive local times.
                        datetime.datetime(2026, 10, 27, 20, 55),  # noqa: DTZ001
                        datetime.date(2026, 10, 27),
                    ]
                ],
            )
        )
    )
    moment, day = workbook.active[2]

    assert moment.number_format == "DD/MM/YYYY HH:MM"
    assert day.number_format == "DD/MM/YYYY"


def test_xlsx_bytes_drops_control_characters():
    """GIVEN text pasted from Word (a vertical tab) and a stray control character
    WHEN it is written to XLSX, which openpyxl would refuse
    THEN the file is written, with a line break for the vertical tab.
    """
    content = xlsx_bytes(
        ["Texte"],
        [
            ["Ligne un\x0bligne deux"],
            ["Ctl\x01A"],
            ["bel\x07@example.com"],
            ["non\ufffecaractère\uffff"],
        ],
    )

    sheet = load_workbook(io.BytesIO(content)).active
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == [
        "Ligne un\nligne deux",
        "CtlA",
        "bel@example.com",
        "noncaractère",
    ]


def test_font_printable_names_missing_glyphs():
    from apps.core.pdf import font_printable
    from apps.core.pdf import pdf_fonts

    regular, _bold = pdf_fonts()
    if regular == "Helvetica":
        pytest.skip("DejaVu Sans is not installed (apt-get install fonts-dejavu-core)")

    printable = font_printable("Anaïs Ngô 😀\nΩ", regular)

    assert printable == "Anaïs Ngô [U+1F600]\nΩ"
