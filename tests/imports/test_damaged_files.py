"""Damaged or truncated workbooks get a translated message, never a crash."""

import io
import zipfile

import openpyxl
import pytest
import tablib

from apps.contacts.models import Contact
from apps.imports.models import ImportJob
from apps.imports.readers import FileReader
from apps.imports.readers import UnreadableFile
from apps.imports.readers import layout_detect
from apps.imports.services import ImportInputError
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created
from tests.imports.conftest import sheet_corrupted

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

DAMAGED = "damaged or truncated spreadsheet"


def _xlsx(row_count: int) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["E-mail", "Nom"])
    for number in range(row_count):
        sheet.append([f"personne{number}@example.com", f"Nom {number}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _stored_files(root):
    return [path for path in root.rglob("*") if path.is_file()]


def test_truncated_xlsx_is_rejected_in_plain_words(upload_root, write_file):
    content = _xlsx(200)
    path = write_file("coupe.xlsx", content[: len(content) // 2])

    with pytest.raises(ImportInputError) as raised:
        import_file_created(path)

    message = str(raised.value)
    assert DAMAGED in message
    assert "save it again" in message
    assert "not a zip file" not in message
    assert not ImportJob.objects.exists()
    assert _stored_files(upload_root) == []


def test_truncated_ods_is_rejected_in_plain_words(upload_root, write_file):
    content = tablib.Dataset(
        ["jean.dupont@example.com", "Dupont"], headers=["E-mail", "Nom"]
    ).export("ods")
    path = write_file("coupe.ods", content[: len(content) // 2])

    with pytest.raises(ImportInputError, match=DAMAGED):
        import_file_created(path)


def test_corrupted_sheet_start_is_rejected(upload_root, write_file):
    path = write_file("abime.xlsx", sheet_corrupted(_xlsx(200), at=0.1))

    with pytest.raises(ImportInputError, match=DAMAGED):
        import_file_created(path)
    assert _stored_files(upload_root) == []


def test_corrupted_rows_raise_unreadable_file(write_file):
    """Damage past the rows read for the layout shows up while rows are read."""
    path = write_file("abime.xlsx", sheet_corrupted(_xlsx(3000), at=0.8))
    layout = layout_detect(path)
    reader = FileReader(path, layout)

    with pytest.raises(UnreadableFile, match=DAMAGED):
        for _row in reader.data_rows():
            pass
    reader.close()


def test_corrupted_rows_fail_the_job(upload_root, write_file):
    path = write_file("abime.xlsx", sheet_corrupted(_xlsx(3000), at=0.8))

    job = import_file(path)

    assert job.status == ImportJob.Status.FAILED
    assert DAMAGED in job.error


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ('{\n  "email": {"label": "E-mail"}\n}\n', "JSON"),
        ('[{"email": "jean.dupont@example.com"}]', "JSON"),
        ('\ufeff[\n  "jean.dupont@example.com"\n]', "JSON"),
        ('<?xml version="1.0"?>\n<contacts/>\n', "XML or HTML"),
        ("<html><body><table></table></body></html>", "XML or HTML"),
    ],
)
def test_json_or_markup_file_rejected(write_file, content, kind):
    path = write_file("liste.csv", content)

    with pytest.raises(UnreadableFile, match=f"The file is {kind}"):
        layout_detect(path)


def test_bracketed_csv_header_read(write_file):
    path = write_file("liste.csv", "[ID];Courriel\n1;jean.dupont@example.com\n")

    layout = layout_detect(path)

    assert layout.headers == ["[ID]", "Courriel"]


# A PDF without images or compressed streams is plain text.
TEXT_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"4 0 obj\n<< /Length 44 >>\nstream\nBT /F1 12 Tf (jean.dupont@example.com) Tj ET\n"
    b"endstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def test_text_pdf_renamed_csv_is_rejected(upload_root, write_file):
    with pytest.raises(ImportInputError, match="The file is a PDF document") as raised:
        import_file(write_file("liste.csv", TEXT_PDF))

    assert "Export the list as CSV, XLSX or ODS" in str(raised.value)
    assert not ImportJob.objects.exists()
    assert _stored_files(upload_root) == []


def _xlsx_with_cell(text: str) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["E-mail", "Nom", "Notes"])
    sheet.append(["jean.dupont@example.com", "Dupont", text])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_with_huge_cell(characters: int) -> bytes:
    """Return a workbook whose one cell contains ``characters`` letters.

    openpyxl cuts a cell at Excel's 32,767 characters, so the sheet is
    rewritten in the archive.
    """
    marker = "X" * 10
    source = zipfile.ZipFile(io.BytesIO(_xlsx_with_cell(marker)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            content = source.read(part)
            if part.filename.startswith("xl/worksheets/"):
                content = content.replace(marker.encode(), b"X" * characters)
            target.writestr(part, content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_zip_bomb_workbook_is_rejected_before_reading(upload_root, write_file):
    """A file of about 200 KB whose one cell decompresses to 200 MB."""
    path = write_file("bombe.xlsx", _xlsx_with_huge_cell(200_000_000))

    with pytest.raises(ImportInputError, match="so Registre does not open it"):
        import_file_created(path)

    assert _stored_files(upload_root) == []


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_cell_over_limit_rejects_file_naming_row(upload_root, write_file, file_format):
    if file_format == "xlsx":
        content = _xlsx_with_huge_cell(150_000)
    else:
        text = "Longue note. " * 10_000
        content = f"E-mail;Nom;Notes\njean.dupont@example.com;Dupont;{text}\n".encode()
    path = write_file(f"longue.{file_format}", content)

    with pytest.raises(ImportInputError, match="Row 2 has a cell of more than 100,000"):
        import_file_created(path)

    assert _stored_files(upload_root) == []


ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods_row(values, repeat=1) -> str:
    cells = "".join(
        value
        if value.startswith("<")
        else f'<table:table-cell office:value-type="string"><text:p>{value}</text:p>'
        "</table:table-cell>"
        for value in values
    )
    repeated = f'table:number-rows-repeated="{repeat}"'
    return f"<table:table-row {repeated}>{cells}</table:table-row>"


def _ods_document(*rows: str) -> bytes:
    """Build an ODS file whose one sheet contains the given ``table-row`` elements."""
    content = (
        f"<office:document-content {ODS_NAMESPACES}><office:body>"
        '<office:spreadsheet><table:table table:name="Contacts">'
        + "".join(rows)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return buffer.getvalue()


def _ods_with_repeated_row(repeat) -> bytes:
    """Build an ODS sheet with a header and one row repeated ``repeat`` times."""
    return _ods_document(
        _ods_row(["E-mail", "Nom"]),
        _ods_row(["jean.dupont@example.com", "Dupont"], repeat),
    )


def test_repeated_ods_rows_counted(upload_root, write_file):
    path = write_file("repete.ods", _ods_with_repeated_row(1500))

    job = import_file(path)

    assert job.status == ImportJob.Status.DONE
    assert job.row_count == 1500
    assert job.created_count == 1
    assert job.duplicate_count == 1499


@pytest.mark.parametrize("repeat", ["+3", " 3 ", "003"])
def test_schema_repeat_forms_read(upload_root, write_file, repeat):
    path = write_file("repete.ods", _ods_with_repeated_row(repeat))

    job = import_file(path)

    assert job.row_count == 3


def test_ods_copy_limit_rejected(upload_root, write_file):
    path = write_file("bombe.ods", _ods_with_repeated_row(1_000_000))

    with pytest.raises(
        ImportInputError, match="From row 2, the sheet asks for more than 10,000"
    ):
        import_file_created(path)

    assert not ImportJob.objects.exists()
    assert _stored_files(upload_root) == []


@pytest.mark.parametrize("repeat", ["abc", "0", "-1000000", "1_000", "١٢"])
def test_invalid_repeat_count_rejected(upload_root, write_file, repeat):
    path = write_file("repete.ods", _ods_with_repeated_row(repeat))

    with pytest.raises(ImportInputError) as raised:
        import_file_created(path)

    assert f"Row 2 has the repeat count '{repeat}'" in str(raised.value)
    assert not ImportJob.objects.exists()


def test_number_cell_without_value_reads_text(upload_root, write_file):
    empty_number = '<table:table-cell office:value-type="float"/>'
    shown_number = (
        '<table:table-cell office:value-type="float"><text:p>75001</text:p>'
        "</table:table-cell>"
    )
    not_a_number = (
        '<table:table-cell office:value-type="float" office:value="NaN">'
        "<text:p>75002</text:p></table:table-cell>"
    )
    path = write_file(
        "nombres.ods",
        _ods_document(
            _ods_row(["E-mail", "Nom", "Code postal"]),
            _ods_row(["a.martin@example.com", "Martin", empty_number]),
            _ods_row(["b.durand@example.com", "Durand", shown_number]),
            _ods_row(["c.petit@example.com", "Petit", not_a_number]),
        ),
    )

    job = import_file(path)

    assert job.status == ImportJob.Status.DONE
    assert job.created_count == 3
    postcodes = sorted(
        Contact.objects.values_list("postcode", flat=True).order_by("postcode")
    )
    assert postcodes == ["", "75001", "75002"]
