"""Import pages: permissions, the upload-map-check-run flow, the downloads."""

import datetime
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils import translation

from apps.contacts.models import Contact
from apps.core.models import AuditEvent
from apps.imports.models import ImportJob
from apps.imports.models import Outcome
from apps.imports.services import MAX_COLUMNS
from apps.imports.services import import_job_cancel
from apps.imports.services import import_job_create
from apps.imports.services import import_job_start
from apps.register.models import ProcessingActivity
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_checked
from tests.imports.conftest import import_file_created
from tests.imports.conftest import prospecting_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILE = (
    "Prénom;Nom;Courriel;Numéro\n"
    "Jean;Dupont;jean.dupont@example.com;06 12 34 56 78\n"
    'Eve;Malice;=HYPERLINK("http://x.example");\n'
    "Zoé;Petit;zoe.petit@example.com;\n"
).encode("cp1252")


def _upload_data(content=FILE, name="liste.csv"):
    return {
        "source_file": SimpleUploadedFile(name, content),
        "vendor_name": "Fichiers Exemple SARL",
        "list_name": "Salon 2025",
        "acquisition": "purchase",
        "acquired_on": (timezone.localdate() - datetime.timedelta(days=30)).isoformat(),
        "consent_claim": "opt_out",
        "audience": "b2b",
        "lawful_basis": "legitimate_interests",
        "processing_activity": str(prospecting_activity().pk),
        "phone_country": "FR",
    }


@pytest.mark.parametrize(
    ("persona", "status"),
    [("sales_user", 200), ("dpo", 200), ("compliance_officer", 200), ("outsider", 403)],
)
def test_job_list_access_by_role(persona, status, request, client_for):
    user = request.getfixturevalue(persona)

    response = client_for(user).get(reverse("imports:job-list"))

    assert response.status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("sales_user", 200), ("dpo", 403), ("compliance_officer", 403)],
)
def test_upload_page_needs_import_permission(persona, status, request, client_for):
    user = request.getfixturevalue(persona)

    response = client_for(user).get(reverse("imports:job-create"))

    assert response.status_code == status


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("imports:job-list"))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_dpo_cannot_start_an_import(dpo, sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    with path.open("rb") as upload:
        job = import_job_create(
            upload=upload,
            file_name="liste.csv",
            vendor_name="V",
            list_name="L",
            acquired_on=timezone.localdate() - datetime.timedelta(days=30),
            processing_activity=prospecting_activity(),
        )

    response = client_for(dpo).post(reverse("imports:job-start", args=[job.pk]))

    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING


def test_upload_map_check_and_run(
    sales_user, client_for, upload_root, django_capture_on_commit_callbacks
):
    """GIVEN sales uploads a Windows-1252 file with a header it must map by hand
    WHEN they map it, run a dry run, then the import
    THEN the dry run writes nothing and the import reports every row."""
    client = client_for(sales_user)

    response = client.post(reverse("imports:job-create"), _upload_data())
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert (job.encoding, job.delimiter) == ("cp1252", ";")
    assert "3" not in job.mapping

    detail = client.get(reverse("imports:job-detail", args=[job.pk]))
    assert detail.status_code == 200
    assert "jean.dupont@example.com" in detail.content.decode()

    client.post(
        reverse("imports:job-mapping", args=[job.pk]),
        {
            "column_0": "first_name",
            "column_1": "last_name",
            "column_2": "email",
            "column_3": "phone",
            "save_for_vendor": "on",
        },
    )
    job.refresh_from_db()
    assert job.mapping["3"] == "phone"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:job-check", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING
    assert job.dry_run_summary["counts"]["created"] == 2
    assert job.dry_run_summary["counts"]["rejected"] == 1
    assert Contact.objects.count() == 0
    page = client.get(reverse("imports:job-detail", args=[job.pk]))
    assert page.context["dry_run_problems"][0]["outcome_label"] == "rejeté"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("imports:job-start", args=[job.pk]),
            {"professional_use_confirmed": "on"},
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.counts["created"] == 2
    assert Contact.objects.get(email="jean.dupont@example.com").phone == (
        "+33612345678"
    )

    progress = client.get(reverse("imports:job-progress", args=[job.pk])).json()
    assert progress["progress"] == 100
    assert progress["active"] is False


def test_saved_mapping_applies_to_next_file(
    sales_user, client_for, upload_root, django_capture_on_commit_callbacks
):
    client = client_for(sales_user)
    client.post(reverse("imports:job-create"), _upload_data())
    first = ImportJob.objects.get()
    client.post(
        reverse("imports:job-mapping", args=[first.pk]),
        {"column_2": "email", "column_3": "mobile", "save_for_vendor": "on"},
    )

    client.post(reverse("imports:job-create"), _upload_data(name="autre.csv"))

    second = ImportJob.objects.exclude(pk=first.pk).get()
    assert second.mapping == {"2": "email", "3": "mobile"}


def test_rejected_rows_download_is_formula_safe(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file(path)

    response = client_for(sales_user).get(
        reverse("imports:job-rejected", args=[job.pk, "csv"])
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")

    assert response.status_code == 200
    lines = body.splitlines()
    assert lines[0].startswith("ligne;motif;Prénom;Nom;Courriel")
    assert len(lines) == 2
    assert lines[1].startswith("3;")
    assert "'=HYPERLINK" in lines[1]


@pytest.mark.parametrize(
    ("language", "header"),
    [("fr", "ligne;motif;Prénom;Nom;Courriel;Numéro"), ("en", "row,reason,Prénom")],
)
def test_rejected_rows_csv_uses_language_delimiter(
    language, header, sales_user, client_for, upload_root, tmp_path
):
    """Excel opens a CSV by double-click with the user's list separator."""
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file(path)

    response = client_for(sales_user).get(
        reverse("imports:job-rejected", args=[job.pk, "csv"]),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()

    assert lines[0].startswith(header)


def test_rejected_rows_download_as_xlsx(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file(path)

    response = client_for(sales_user).get(
        reverse("imports:job-rejected", args=[job.pk, "xlsx"])
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == 3
    assert rows[1][4].startswith("=")


def test_rejected_rows_after_file_purge_keep_reasons(
    sales_user, client_for, upload_root, tmp_path
):
    from django.utils import timezone

    from apps.imports.services import import_leftovers_purge

    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file(path)
    import_leftovers_purge(older_than=timezone.now())

    response = client_for(sales_user).get(
        reverse("imports:job-rejected", args=[job.pk, "csv"])
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()

    assert lines[0] == "ligne;motif"
    assert lines[1].startswith("3;Courriel:")


def _job_page(user, client_for, job):
    return client_for(user).get(
        reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )


def test_officer_sees_pending_job_without_rows(
    compliance_officer, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)

    page = _job_page(compliance_officer, client_for, job)

    text = page.content.decode()
    assert page.status_code == 200
    assert "liste.csv" in text
    assert "preview" not in page.context
    assert "jean.dupont@example.com" not in text
    assert "Dupont" not in text
    assert "Courriel" not in text
    assert 'id="rows-hidden"' in text


def test_officer_sees_report_counts_without_rows(
    compliance_officer, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file(path)

    page = _job_page(compliance_officer, client_for, job)

    text = page.content.decode()
    assert page.status_code == 200
    assert (Outcome.REJECTED.label, 1) in page.context["outcomes"]
    assert page.context["noted_count"] == 0
    assert "problems" not in page.context
    assert "noted" not in page.context
    assert "not a valid e-mail address" not in text
    assert reverse("imports:job-rejected", args=[job.pk, "csv"]) not in text
    assert reverse("imports:job-rejected", args=[job.pk, "xlsx"]) not in text
    assert 'id="rows-hidden"' in text


def test_officer_sees_dry_run_without_problems(
    compliance_officer, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_checked(path)
    client = client_for(compliance_officer)

    page = _job_page(compliance_officer, client_for, job)
    progress = client.get(reverse("imports:job-progress", args=[job.pk])).json()

    text = page.content.decode()
    assert page.status_code == 200
    assert (Outcome.REJECTED.label, 1) in page.context["dry_run_counts"]
    assert "First problems" not in text
    assert "not a valid e-mail address" not in text
    assert progress["dry_run"]["counts"]["rejected"] == 1
    assert "problems" not in progress["dry_run"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_officer_cannot_download_rejected_rows(
    file_format, compliance_officer, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file(path)

    response = client_for(compliance_officer).get(
        reverse("imports:job-rejected", args=[job.pk, file_format])
    )

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(
        action="imports.rejected_rows.exported"
    ).exists()


@pytest.mark.parametrize("persona", ["sales_user", "dpo"])
def test_contact_viewers_see_rows_and_download(
    persona, request, client_for, upload_root, tmp_path
):
    user = request.getfixturevalue(persona)
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    pending = import_file_created(path)
    done = import_file(path, list_name="Salon")
    checked = import_file_checked(path)
    client = client_for(user)

    pending_text = _job_page(user, client_for, pending).content.decode()
    done_text = _job_page(user, client_for, done).content.decode()
    checked_text = _job_page(user, client_for, checked).content.decode()
    progress = client.get(reverse("imports:job-progress", args=[checked.pk])).json()
    download = client.get(reverse("imports:job-rejected", args=[done.pk, "csv"]))

    assert "jean.dupont@example.com" in pending_text
    assert 'id="rows-hidden"' not in pending_text
    assert "Courriel: not a valid e-mail address" in done_text
    assert reverse("imports:job-rejected", args=[done.pk, "csv"]) in done_text
    assert "Courriel: not a valid e-mail address" in checked_text
    assert progress["dry_run"]["problems"][0]["row_number"] == 3
    assert download.status_code == 200
    assert "'=HYPERLINK" in b"".join(download.streaming_content).decode("utf-8-sig")


def test_dashboard_shows_recent_imports(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    import_file(path)

    response = client_for(sales_user).get(reverse("core:dashboard"))

    assert "liste.csv" in response.content.decode()


def test_navigation_lists_imports_for_sales(sales_user, client_for):
    response = client_for(sales_user).get(reverse("core:dashboard"))

    assert reverse("imports:job-list") in response.content.decode()


def test_reasons_follow_the_uploader_language(upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    with translation.override("fr"):
        job = import_file(path)

    assert job.row_results.get(row_number=3).reason.startswith("Courriel :")


def test_uploaded_file_is_outside_media_root(settings, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)

    job = import_file(path)

    stored = job.source_file.path
    assert stored.startswith(str(upload_root))
    assert not stored.startswith(str(settings.MEDIA_ROOT))


def test_pages_render_in_french(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file(path)
    client = client_for(sales_user)

    with translation.override("fr"):
        listing = client.get(reverse("imports:job-list"), HTTP_ACCEPT_LANGUAGE="fr")
        detail = client.get(
            reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="fr"
        )

    assert "Importer un fichier" in listing.content.decode()
    assert "Télécharger les lignes rejetées (CSV)" in detail.content.decode()


def _activity(reference, status, lawful_basis="legitimate_interests"):
    return ProcessingActivity.objects.create(
        reference=reference,
        name=f"Activité {reference}",
        status=status,
        lawful_basis=lawful_basis,
        concerns_recipients_profession=True,
    )


def test_upload_form_offers_activities_in_force(sales_user, client_for):
    in_force = _activity("TRT-901", ProcessingActivity.Status.IN_FORCE)
    draft = _activity("TRT-902", ProcessingActivity.Status.DRAFT)
    retired = _activity("TRT-903", ProcessingActivity.Status.RETIRED)

    response = client_for(sales_user).get(reverse("imports:job-create"))

    choices = response.context["form"].fields["processing_activity"].queryset
    assert in_force in choices
    assert draft not in choices
    assert retired not in choices


@pytest.mark.parametrize(
    "status", [ProcessingActivity.Status.DRAFT, ProcessingActivity.Status.RETIRED]
)
def test_upload_with_activity_not_in_force_is_rejected(
    status, sales_user, client_for, upload_root
):
    activity = _activity("TRT-905", status)

    response = client_for(sales_user).post(
        reverse("imports:job-create"),
        _upload_data() | {"processing_activity": str(activity.pk)},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    errors = response.context["form"].errors["processing_activity"]
    assert "TRT-905" in errors[0]
    assert "not in force" in errors[0]


def test_file_with_too_many_columns_is_rejected(sales_user, client_for, upload_root):
    header = ";".join(f"Colonne {number}" for number in range(20_000))
    content = f"Courriel;{header}\njean.dupont@example.com\n".encode()

    response = client_for(sales_user).post(
        reverse("imports:job-create"),
        _upload_data(content=content),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    errors = " ".join(response.context["form"].non_field_errors())
    assert "20001 columns" in errors
    assert f"limit of {MAX_COLUMNS}" in errors


def test_pages_in_french_by_default(sales_user, client_for, upload_root, tmp_path):
    """GIVEN a done job, a dry-run job and a cancelled one
    WHEN sales opens each page with no Accept-Language header
    THEN each is in French, with outcome labels and the text of its state."""
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    done = import_file(path, list_name="Salon")
    dry = import_file_checked(path)
    cancelled = import_file_created(path)
    import_job_cancel(job=cancelled, reason="Aucune colonne exploitable.")
    client = client_for(sales_user)

    with translation.override(None):
        pages = {
            "list": client.get(reverse("imports:job-list")),
            "new": client.get(reverse("imports:job-create")),
            "done": client.get(reverse("imports:job-detail", args=[done.pk])),
            "dry": client.get(reverse("imports:job-detail", args=[dry.pk])),
            "cancelled": client.get(reverse("imports:job-detail", args=[cancelled.pk])),
        }
    text = {name: page.content.decode() for name, page in pages.items()}

    for name, page in pages.items():
        assert page.status_code == 200, name
        assert 'lang="fr"' in text[name], name
        assert "Créé le" not in text[name], name
        assert "Reload the page" not in text[name], name
        assert "Rechargez la page" not in text[name], name
        assert 'id="progress-card"' not in text[name], name
    assert "Créés" in text["list"]
    assert "<th>Créé</th>" in text["done"]
    assert "<th>Rejeté</th>" in text["done"]
    assert "Simulation" in text["dry"]
    assert "Aucune colonne exploitable." in text["cancelled"]


def test_active_job_shows_progress(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)

    with translation.override(None):
        page = client_for(sales_user).get(reverse("imports:job-detail", args=[job.pk]))

    assert 'id="progress-card"' in page.content.decode()


def test_report_lists_left_out_dates(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "dates.csv"
    path.write_bytes(
        b"Courriel;Date de collecte\n"
        b"futur@example.com;2030-01-01\n"
        b"correct@example.com;2025-01-01\n"
    )
    job = import_file(path, acquired_on=datetime.date(2025, 3, 1))

    page = client_for(sales_user).get(
        reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert page.context["noted_count"] == 1
    noted = list(page.context["noted"])
    assert [row.row_number for row in noted] == [2]
    assert "Date de collecte" in noted[0].reason
    assert "01/01/2030" in page.content.decode()


def test_missing_upload_has_translated_error(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    Path(job.source_file.path).unlink()

    with translation.override(None):
        page = client_for(sales_user).get(reverse("imports:job-detail", args=[job.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "Errno" not in text
    assert str(upload_root) not in text
    assert page.context["layout_error"]


DUPLICATED_EMAIL = (
    "Email;Prénom;Nom;Email;Téléphone\n"
    "jean.dupont@example.com;Jean;Dupont;;06 12 34 56 78\n"
    ";Zoé;Petit;zoe.petit@example.com;\n"
).encode()


def _detail_in_english(client, job):
    return client.get(
        reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )


def test_preview_warns_of_duplicate_headers(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "doublons.csv"
    path.write_bytes(DUPLICATED_EMAIL)
    job = import_file_created(path)

    page = _detail_in_english(client_for(sales_user), job)

    assert page.context["header_warnings"] == [
        "Two columns have the same header (column 1 and column 4, both “Email”). "
        "Column 1 is ignored and column 4 feeds “E-mail”."
    ]
    assert 'id="header-warnings"' in page.content.decode()
    labels = [field.label for field in page.context["mapping_form"].column_fields()]
    assert labels == [
        "Email (column 1)",
        "Prénom",
        "Nom",
        "Email (column 4)",
        "Téléphone",
    ]


def test_preview_without_duplicates_has_no_warning(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)

    page = _detail_in_english(client_for(sales_user), job)

    assert page.context["header_warnings"] == []
    assert 'id="header-warnings"' not in page.content.decode()


def test_mapping_two_columns_to_email_names_them(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "doublons.csv"
    path.write_bytes(DUPLICATED_EMAIL)
    job = import_file_created(path)

    response = client_for(sales_user).post(
        reverse("imports:job-mapping", args=[job.pk]),
        {"column_0": "email", "column_3": "email", "column_4": "phone"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    errors = response.context["mapping_form"].errors
    for column in ("column_0", "column_3"):
        assert (
            "Column 1 (“Email”) and column 4 (“Email”) are mapped to “E-mail”"
            in errors[column][0]
        )


def test_preview_shows_dates_without_midnight(
    sales_user, client_for, upload_root, tmp_path
):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Courriel", "Date de collecte"])
    workbook.active.append(
        ["jean.dupont@example.com", datetime.datetime(2025, 1, 15)]  # noqa: DTZ001
    )
    path = tmp_path / "dates.xlsx"
    workbook.save(path)
    job = import_file_created(path)

    page = _detail_in_english(client_for(sales_user), job)

    assert page.context["preview"] == [["jean.dupont@example.com", "2025-01-15"]]
    assert "T00:00:00" not in page.content.decode()


def _stalled(job, status):
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=16),
    )


def test_stalled_run_shows_stalled_with_actions(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    _stalled(job, ImportJob.Status.RUNNING)
    client = client_for(sales_user)

    page = _detail_in_english(client, job)

    text = page.content.decode()
    assert '<span class="badge bad">stalled</span>' in text
    assert 'id="stalled"' in text
    assert 'id="progress-card"' not in text
    assert reverse("imports:job-resume", args=[job.pk]) in text
    assert reverse("imports:job-cancel", args=[job.pk]) in text


def test_queued_job_says_it_waits_for_a_worker(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.QUEUED, heartbeat_at=timezone.now()
    )

    text = _detail_in_english(client_for(sales_user), job).content.decode()

    assert 'id="progress-card"' in text
    assert 'id="job-waiting">Waiting for a background worker' in text


def test_stalled_queued_job_says_no_worker_took_it(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    _stalled(job, ImportJob.Status.QUEUED)

    text = _detail_in_english(client_for(sales_user), job).content.decode()

    assert "no background worker has taken it for more than 15 minutes" in text
    assert "its worker has not reported" not in text


def test_job_list_shows_every_outcome_count(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    counts = {
        "row_count": 1111,
        "created_count": 1000,
        "merged_count": 50,
        "duplicate_count": 40,
        "suppressed_count": 20,
        "rejected_count": 1,
    }
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, **counts)

    page = client_for(sales_user).get(
        reverse("imports:job-list"), HTTP_ACCEPT_LANGUAGE="en"
    )

    cells = re.findall(r'<td class="num">([^<]*)</td>', page.content.decode())
    assert cells == ["1,111", "1,000", "50", "40", "20", "1"]


def test_stalled_run_in_job_list(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    _stalled(import_file_created(path), ImportJob.Status.QUEUED)

    page = client_for(sales_user).get(
        reverse("imports:job-list"), HTTP_ACCEPT_LANGUAGE="en"
    )

    text = page.content.decode()
    assert '<span class="badge bad">stalled</span>' in text
    assert ">queued<" not in text


def test_stalled_run_on_dashboard(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    _stalled(import_file_created(path), ImportJob.Status.RUNNING)

    page = client_for(sales_user).get(
        reverse("core:dashboard"), HTTP_ACCEPT_LANGUAGE="en"
    )

    text = page.content.decode()
    assert '<span class="badge bad">stalled</span>' in text
    assert ">running<" not in text


def test_stalled_progress_is_not_active(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    _stalled(job, ImportJob.Status.RUNNING)

    progress = (
        client_for(sales_user)
        .get(reverse("imports:job-progress", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
        .json()
    )

    assert progress["active"] is False
    assert progress["stalled"] is True
    assert progress["status_label"] == "stalled"


def test_quiet_running_job_says_so(sales_user, client_for, upload_root, tmp_path):
    """GIVEN a running job without a progress report for 5 minutes, less than
    the stall limit, THEN its page and progress say so."""
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    client = client_for(sales_user)

    page = client.get(
        reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    progress = client.get(reverse("imports:job-progress", args=[job.pk])).json()

    assert "No progress report for" in page.content.decode()
    assert 'id="job-quiet" data-after="2">' in page.content.decode()
    assert progress["quiet_minutes"] == 5
    assert progress["active"] is True


def test_stalled_dry_run_offers_roll_back_only(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    _stalled(job, ImportJob.Status.CHECKING)

    page = _detail_in_english(client_for(sales_user), job)

    text = page.content.decode()
    assert 'id="stalled"' in text
    assert reverse("imports:job-resume", args=[job.pk]) not in text
    assert reverse("imports:job-cancel", args=[job.pk]) in text


def test_running_job_is_not_stalled(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(FILE)
    job = import_file_created(path)
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)

    page = _detail_in_english(client_for(sales_user), job)

    text = page.content.decode()
    assert 'id="stalled"' not in text
    assert 'id="progress-card"' in text
    assert '<span class="badge warn">queued</span>' in text


def test_social_security_column_offers_ignore_only(
    sales_user, client_for, upload_root, tmp_path
):
    path = tmp_path / "nir.csv"
    path.write_bytes(
        b"Courriel;Nom;NIR\njean.dupont@example.com;Dupont;185057512345678\n"
    )
    job = import_file_created(path)
    client = client_for(sales_user)

    page = _detail_in_english(client, job)
    response = client.post(
        reverse("imports:job-mapping", args=[job.pk]),
        {"column_0": "email", "column_1": "last_name", "column_2": "job_title"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    form = page.context["mapping_form"]
    assert [value for value, _label in form.fields["column_2"].choices] == [""]
    job.refresh_from_db()
    assert "2" not in job.mapping
    assert response.status_code == 200


def test_report_counts_listed_rows(
    sales_user, client_for, upload_root, tmp_path, monkeypatch
):
    monkeypatch.setattr("apps.imports.views.REPORT_ROWS_SHOWN", 2)
    path = tmp_path / "rejets.csv"
    path.write_bytes(
        b"Courriel;Nom\nmauvais1;A\nmauvais2;B\nmauvais3;C\nlea@example.com;D\n"
    )
    job = import_file(path)

    page = _detail_in_english(client_for(sales_user), job)

    text = page.content.decode()
    assert len(page.context["problems"]) == 2
    assert page.context["problem_count"] == 3
    assert "The first 2 of 3 rows not imported are listed." in text
    assert 'id="noted-shown"' not in text


def test_notes_download_lists_every_noted_row(
    sales_user, client_for, upload_root, tmp_path, monkeypatch
):
    monkeypatch.setattr("apps.imports.views.REPORT_ROWS_SHOWN", 1)
    path = tmp_path / "notes.csv"
    path.write_bytes(
        b"Courriel;Nom;Pays\n"
        b"a@example.com;A;Atlantide\n"
        b"b@example.com;B;Atlantide\n"
        b"c@example.com;C;Atlantide\n"
    )
    job = import_file(path)
    client = client_for(sales_user)

    page = _detail_in_english(client, job)
    response = client.get(reverse("imports:job-notes", args=[job.pk]))

    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert reverse("imports:job-notes", args=[job.pk]) in page.content.decode()
    assert len(lines) == 4
    assert [line.split(";")[0] for line in lines[1:]] == ["2", "3", "4"]


def test_short_report_has_no_count(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "rejets.csv"
    path.write_bytes(b"Courriel;Nom\nmauvais1;A\nlea@example.com;D\n")
    job = import_file(path)

    page = _detail_in_english(client_for(sales_user), job)

    assert 'id="problems-shown"' not in page.content.decode()


def test_report_names_reasons_language(sales_user, client_for, upload_root, tmp_path):
    path = tmp_path / "rejets.csv"
    path.write_bytes(b"Courriel;Nom\nmauvais1;A\nlea@example.com;D\n")
    with translation.override("fr"):
        job = import_file(path)
    url = reverse("imports:job-detail", args=[job.pk])
    client = client_for(sales_user)

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "written in French, the language of the person who ran it" in english
    assert 'id="reasons-language"' not in french


@pytest.mark.parametrize(
    "action", ["job-mapping", "job-check", "job-start", "job-sheet"]
)
def test_reloaded_action_url_shows_the_job(
    client_for, sales_user, action, upload_root, write_file
):
    job = import_file_created(write_file("liste.csv", "E-mail\nanne@example.com\n"))

    response = client_for(sales_user).get(reverse(f"imports:{action}", args=[job.pk]))

    assert response.status_code == 302
    assert response.url == reverse("imports:job-detail", args=[job.pk])


def _overlong_cell_job_checked(write_file):
    """Return a dry-run job whose row 3,000 has an overlong cell, past the rows
    that the upload reads."""
    from apps.core.archives import MAX_CELL_CHARACTERS

    content = "Prénom;Nom;Courriel\n" + "".join(
        f"Personne{index};Nom;personne{index}@example.com\n" for index in range(3000)
    )
    content += "Z;Nom;" + "x" * (MAX_CELL_CHARACTERS + 10) + "\n"
    return import_file_checked(write_file("long.csv", content))


def test_dry_run_file_error_blocks_import(
    sales_user, client_for, upload_root, write_file
):
    """GIVEN a file whose row 3,000 contains an overlong cell, past the rows that
    the upload reads, WHEN its dry run stops on it, THEN the page shows the
    error once, offers no import, and a start is rejected with the reason."""
    from apps.imports.services import ImportInputError

    job = _overlong_cell_job_checked(write_file)

    page = client_for(sales_user).get(
        reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert job.status == ImportJob.Status.PENDING
    assert job.dry_run_summary["file_error"] is True
    assert page.text.count("has a cell of more than") == 1
    assert reverse("imports:job-start", args=[job.pk]) not in page.text
    with pytest.raises(ImportInputError, match="The dry run stopped on a problem"):
        import_job_start(job=job, enqueue=False, professional_use_confirmed=True)


def test_stale_start_after_file_error_shows_error_once(
    sales_user, client_for, upload_root, write_file
):
    """GIVEN a page loaded before the dry run stopped on a problem of the file,
    WHEN its Import button is posted, THEN the job stays pending and the page
    shows the problem once, under a message saying that nothing started."""
    job = _overlong_cell_job_checked(write_file)

    page = client_for(sales_user).post(
        reverse("imports:job-start", args=[job.pk]),
        {"professional_use_confirmed": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING
    assert page.text.count("has a cell of more than") == 1
    assert "The import was not started" in page.text
