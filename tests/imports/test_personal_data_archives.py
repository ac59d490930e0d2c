"""Erasure searches the decompressed text of damaged XLSX and ODS uploads."""

import io
import logging
import zipfile

import openpyxl
import pytest
import tablib

from apps.imports import personal_data
from apps.imports.models import ImportJob
from apps.imports.readers import UnreadableFile
from apps.imports.readers import layout_detect
from apps.imports.services import import_job_create
from tests.imports.conftest import RECENT_ACQUISITION
from tests.imports.conftest import prospecting_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

EMAIL = "jean.dupont@example.com"
PHONE = "+33612345678"
JEAN = (EMAIL, "Dupont", "06 12 34 56 78")
NOT_A_TABLE = "not readable as a table"


def _others(count: int, *, start: int = 0) -> list[tuple[str, str, str]]:
    return [
        (
            f"personne{number}@example.com",
            f"Nom {number}",
            f"07 00 00 {number // 100 % 100:02d} {number % 100:02d}",
        )
        for number in range(start, start + count)
    ]


def _xlsx(people) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["E-mail", "Nom", "Téléphone"])
    for person in people:
        sheet.append(list(person))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _ods(people) -> bytes:
    return tablib.Dataset(*people, headers=["E-mail", "Nom", "Téléphone"]).export("ods")


def _member_rewritten(content: bytes, name: str, rewrite) -> bytes:
    """Return the archive with member ``name`` replaced by ``rewrite(data)``."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, rewrite(data) if info.filename == name else data)
    return buffer.getvalue()


def _xml_broken_at(content: bytes, name: str, marker: bytes) -> bytes:
    """Return the archive with an unclosed tag inserted after ``marker``."""
    return _member_rewritten(
        content, name, lambda data: data.replace(marker, marker + b"<<", 1)
    )


def _cut_in(content: bytes, name: str, *, at: float) -> bytes:
    """Return the archive cut at ``at`` (0 to 1) of member ``name``'s data."""
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(name)
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    return content[: data_start + int(info.compress_size * at)]


def _local_header_damaged(content: bytes, name: str) -> bytes:
    """Return the archive with the signature of member ``name``'s header changed."""
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(name)
    damaged = bytearray(content)
    damaged[info.header_offset + 3] ^= 0xFF
    return bytes(damaged)


def _without_central_directory(content: bytes) -> bytes:
    last = max(
        zipfile.ZipFile(io.BytesIO(content)).infolist(),
        key=lambda info: info.header_offset,
    )
    return content[: content.index(b"PK\x01\x02", last.header_offset)]


def _job_with_upload(tmp_path, content: bytes) -> ImportJob:
    """Create a pending job from a CSV file, then store ``content`` as its file."""
    path = tmp_path / "liste.csv"
    path.write_bytes(b"Courriel;Nom\nzoe.petit@example.com;Petit\n")
    with path.open("rb") as upload:
        job = import_job_create(
            upload=upload,
            file_name="liste.xlsx",
            vendor_name="V",
            list_name="L",
            acquired_on=RECENT_ACQUISITION,
            processing_activity=prospecting_activity(),
        )
    with open(job.source_file.path, "wb") as handle:
        handle.write(content)
    return job


def _found(*, emails=(), phones=()) -> list:
    matches = personal_data.find(emails=list(emails), phones=list(phones), names=[])
    return [match for match in matches if match.kind == "import_source_file"]


def _assert_found_as_text(job, *, emails=(), phones=()) -> None:
    matches = _found(emails=emails, phones=phones)

    assert [match.record_id for match in matches] == [job.pk]
    assert NOT_A_TABLE in matches[0].label


DAMAGED_WORKBOOKS = {
    "broken XML at the start of the sheet": lambda: _xml_broken_at(
        _xlsx([*_others(5), JEAN]), "xl/worksheets/sheet1.xml", b"<sheetData>"
    ),
    "cut in a member after the sheet": lambda: _cut_in(
        _xlsx([*_others(5), JEAN]), "xl/styles.xml", at=0.5
    ),
    "cut in the sheet after the row": lambda: _cut_in(
        _xlsx([JEAN, *_others(2000)]), "xl/worksheets/sheet1.xml", at=0.5
    ),
    "central directory removed": lambda: _without_central_directory(
        _xlsx([*_others(5), JEAN])
    ),
    "local header of the sheet damaged": lambda: _local_header_damaged(
        _xlsx([*_others(5), JEAN]), "xl/worksheets/sheet1.xml"
    ),
    "ODS content with broken XML": lambda: _xml_broken_at(
        _ods([*_others(5), JEAN]), "content.xml", b"<table:table-row"
    ),
    "ODS cut in a member after the content": lambda: _cut_in(
        _ods([*_others(5), JEAN]), "meta.xml", at=0.5
    ),
    "ODS central directory removed": lambda: _without_central_directory(
        _ods([*_others(5), JEAN])
    ),
}


@pytest.mark.parametrize("damage", DAMAGED_WORKBOOKS.values(), ids=DAMAGED_WORKBOOKS)
def test_damaged_workbook_unreadable_as_table(tmp_path, damage):
    path = tmp_path / "abime"
    path.write_bytes(damage())

    with pytest.raises(UnreadableFile):
        layout_detect(path)


@pytest.mark.parametrize("damage", DAMAGED_WORKBOOKS.values(), ids=DAMAGED_WORKBOOKS)
def test_damaged_workbook_found_by_email(upload_root, tmp_path, damage):
    job = _job_with_upload(tmp_path, damage())

    _assert_found_as_text(job, emails=[EMAIL])


@pytest.mark.parametrize("damage", DAMAGED_WORKBOOKS.values(), ids=DAMAGED_WORKBOOKS)
def test_damaged_workbook_found_by_phone(upload_root, tmp_path, damage):
    job = _job_with_upload(tmp_path, damage())

    _assert_found_as_text(job, phones=[PHONE])


def test_workbook_broken_past_first_rows_found(upload_root, tmp_path):
    content = _xml_broken_at(
        _xlsx([*_others(3000), JEAN]), "xl/worksheets/sheet1.xml", b'<row r="2900"'
    )
    path = tmp_path / "abime.xlsx"
    path.write_bytes(content)
    assert layout_detect(path).headers == ["E-mail", "Nom", "Téléphone"]
    job = _job_with_upload(tmp_path, content)

    _assert_found_as_text(job, emails=[EMAIL])


OTHER_PEOPLE_DAMAGED = {
    "XLSX cut in the sheet": lambda: _cut_in(
        _xlsx(_others(2000)), "xl/worksheets/sheet1.xml", at=0.5
    ),
    "XLSX central directory removed": lambda: _without_central_directory(
        _xlsx(_others(50))
    ),
    "XLSX with broken XML": lambda: _xml_broken_at(
        _xlsx(_others(50)), "xl/worksheets/sheet1.xml", b"<sheetData>"
    ),
    "ODS central directory removed": lambda: _without_central_directory(
        _ods(_others(50))
    ),
}


@pytest.mark.parametrize(
    "damage", OTHER_PEOPLE_DAMAGED.values(), ids=OTHER_PEOPLE_DAMAGED
)
def test_damaged_workbook_of_other_people_kept(upload_root, tmp_path, damage):
    job = _job_with_upload(tmp_path, damage())

    counts = personal_data.erase(contact_ids=[], emails=[EMAIL], phones=[PHONE])

    job.refresh_from_db()
    assert counts["import_source_file"] == 0
    assert job.source_file


def test_truncated_workbook_erased(upload_root, tmp_path):
    job = _job_with_upload(tmp_path, _cut_in(_xlsx([JEAN]), "xl/styles.xml", at=0.5))

    counts = personal_data.erase(contact_ids=[], emails=[EMAIL], phones=[])

    job.refresh_from_db()
    assert counts["import_source_file"] == 1
    assert not job.source_file
    assert job.file_deleted_at is not None


def _shared_strings_archive(cell_xml: str) -> bytes:
    """Return an XLSX-like archive with ``cell_xml`` in its shared strings.

    Its workbook part is broken XML, so no reader accepts the file.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types></Types>")
        archive.writestr("xl/workbook.xml", "<workbook><sheets>")
        archive.writestr(
            "xl/sharedStrings.xml",
            f"<sst><si><t>E-mail</t></si><si>{cell_xml}</si></sst>",
        )
    return buffer.getvalue()


ESCAPED_EMAILS = [
    "<t>jean.dupont&#64;example.com</t>",
    "<t>jean&#46;dupont@example.com</t>",
    "<t>&#x6A;ean.dupont@example.com</t>",
    "<t>jean&#x2e;dupont&#x40;example.com</t>",
    "<t>jean_x002E_dupont@example.com</t>",
    "<r><t>jean.</t></r><r><rPr><b/></rPr><t>dupont@example.com</t></r>",
]


@pytest.mark.parametrize("cell_xml", ESCAPED_EMAILS)
@pytest.mark.parametrize("directory", ["intact", "removed"])
def test_escaped_email_found(upload_root, tmp_path, cell_xml, directory):
    content = _shared_strings_archive(cell_xml)
    if directory == "removed":
        content = _without_central_directory(content)
    job = _job_with_upload(tmp_path, content)

    _assert_found_as_text(job, emails=[EMAIL])


def _bomb_archive(size: int) -> bytes:
    """Return an archive whose sheet inflates to ``size`` spaces."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook><sheets>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * size)
    return buffer.getvalue()


@pytest.mark.parametrize("directory", ["intact", "removed"])
def test_archive_past_decompression_limit_counts_as_match(
    upload_root, tmp_path, monkeypatch, caplog, directory
):
    content = _bomb_archive(1024 * 1024)
    if directory == "removed":
        content = _without_central_directory(content)
    job = _job_with_upload(tmp_path, content)
    monkeypatch.setattr(personal_data, "ARCHIVE_MAX_DECOMPRESSED_BYTES", 64 * 1024)

    with caplog.at_level(logging.WARNING, logger="apps.imports.personal_data"):
        matches = _found(emails=[EMAIL], phones=[PHONE])

    assert [match.record_id for match in matches] == [job.pk]
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"import job {job.pk}:" in message for message in messages)
    assert not any("jean" in message or "345678" in message for message in messages)


def test_archive_under_decompression_limit_searched(upload_root, tmp_path):
    _job_with_upload(tmp_path, _bomb_archive(1024 * 1024))

    assert _found(emails=[EMAIL], phones=[PHONE]) == []


def test_archive_with_bzip2_member_counts_as_match(upload_root, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("xl/workbook.xml", "<workbook><sheets>")
    job = _job_with_upload(tmp_path, buffer.getvalue())

    matches = _found(emails=[EMAIL])

    assert [match.record_id for match in matches] == [job.pk]


RAW_TEXTS = [
    ("Dupont;06 12 34 56 78", True),
    ("Dupont;06.12.34.56.78;Paris\nautre", True),
    ("06 12 34\n56 78", False),
    ("06 12 34\u202856 78", False),
    ("1" * 300 + " 06 12 34 56 78", False),
    ("1" * 300 + " 06 12 34 56 78\nDupont;06 12 34 56 78", True),
    ("Dupont;06 12 34 56 79", False),
]


@pytest.mark.parametrize(("text", "expected"), RAW_TEXTS)
def test_raw_text_phone_on_short_line(text, expected):
    probe = personal_data._IdentifierProbe({PHONE})

    assert probe.raw_text_may_hold(text) is expected
