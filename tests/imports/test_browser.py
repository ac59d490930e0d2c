"""Sales imports a semicolon Windows-1252 file in the browser."""

import pytest

from apps.contacts.models import Contact
from apps.imports.models import ImportJob
from tests.imports.conftest import prospecting_activity

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

FILE = (
    "Prénom;Nom;Adresse mail;Numéro;Société\n"
    "Hélène;Mahé;helene.mahe@example.com;06 12 34 56 78;Crème & Cie\n"
    "Éric;Noël;pas-une-adresse;;Crème & Cie\n"
    "François;Lefèvre;francois.lefevre@example.com;01 23 45 67 89;Crème & Cie\n"
).encode("cp1252")


def test_sales_imports_and_downloads_rejected_rows(
    page, login_as, sales_user, upload_root, tmp_path
):
    """GIVEN sales uploads a semicolon Windows-1252 file with an unknown header
    WHEN they map that column to the phone and run the import
    THEN the report counts every row and the rejected row downloads with its reason."""
    path = tmp_path / "liste-salon.csv"
    path.write_bytes(FILE)
    activity = prospecting_activity()
    login_as(sales_user)

    page.goto("/imports/new/")
    page.set_input_files("input[name=source_file]", str(path))
    page.fill("input[name=vendor_name]", "Fichiers Exemple SARL")
    page.fill("input[name=list_name]", "Salon 2025")
    page.fill("input[name=acquired_on]", "2025-03-01")
    page.select_option("select[name=processing_activity]", str(activity.pk))
    page.click("main button[type=submit]")

    page.wait_for_selector("#mapping-form")
    assert "Hélène" in page.content()
    assert page.input_value("select[name=column_3]") == ""
    page.select_option("select[name=column_3]", "phone")
    page.click("#mapping-form button[type=submit]")
    page.wait_for_selector("text=Mapping saved.")
    assert page.input_value("select[name=column_3]") == "phone"

    page.click("button:has-text('Import')")
    page.wait_for_selector("#report")
    assert page.text_content("[data-outcome=rows]").strip() == "3"

    with page.expect_download() as download_info:
        page.click("#download-rejected")
    content = download_info.value.path().read_text(encoding="utf-8-sig")

    lines = content.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("3,Adresse mail:")
    assert "Éric" in lines[1]
    job = ImportJob.objects.get()
    assert job.counts["created"] == 2
    assert job.counts["rejected"] == 1
    assert Contact.objects.get(email="helene.mahe@example.com").phone == "+33612345678"
