"""A row's collection date gets the checks of the list's acquisition date."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils import translation

from apps.contacts.models import Contact
from apps.imports import pipeline
from apps.register.models import RetentionRule
from apps.retention.policy import local_today
from tests.imports.conftest import RECENT_ACQUISITION
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_checked
from tests.imports.conftest import prospecting_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# The last collection day that the default 3-year prospect rule removes today.
LAST_DUE_DAY = local_today() - relativedelta(years=3)


def _file(write_file, *rows: tuple[str, str]):
    lines = ["Courriel;Date de collecte", *(f"{email};{day}" for email, day in rows)]
    return write_file("dates.csv", "\n".join(lines) + "\n")


def _collected_on(email: str) -> datetime.date:
    contact = Contact.objects.get(email=email)
    return timezone.localtime(contact.collected_at).date()


@pytest.fixture(params=[True, False], ids=["set_based", "simple"])
def merge_path(request, monkeypatch):
    """Run the test on the PostgreSQL merge and on the row-by-row one."""
    monkeypatch.setattr(pipeline, "set_based", lambda: request.param)


def test_date_before_2000_rejected(merge_path, upload_root, write_file):
    path = _file(write_file, ("ancien@example.com", "01/01/1998"))

    job = import_file(path)

    result = job.row_results.get(row_number=2)
    assert job.counts["rejected"] == 1
    assert result.outcome == "rejected"
    assert result.reason.startswith("Date de collecte:")
    assert "01/01/1998 is before 01/01/2000" in result.reason
    assert not Contact.objects.exists()


def test_two_digit_year_00_rejected(merge_path, upload_root, write_file):
    path = _file(write_file, ("deux.chiffres@example.com", "01/01/00"))

    job = import_file(path)

    result = job.row_results.get(row_number=2)
    assert job.counts["rejected"] == 1
    assert result.outcome == "rejected"
    assert result.reason.startswith(
        "Date de collecte: collection date 01/01/00 (read as 01/01/2000) is too old"
    )
    assert "Prospects without an applicable rule: 3 years" in result.reason
    assert not Contact.objects.exists()


def test_retention_limit_is_exact(merge_path, upload_root, write_file):
    earliest = LAST_DUE_DAY + datetime.timedelta(days=1)
    path = _file(
        write_file,
        ("limite@example.com", f"{LAST_DUE_DAY:%d/%m/%Y}"),
        ("lendemain@example.com", f"{earliest:%d/%m/%Y}"),
    )

    job = import_file(path)

    rejected = job.row_results.get(row_number=2)
    assert rejected.outcome == "rejected"
    assert f"{LAST_DUE_DAY:%d/%m/%Y} is too old" in rejected.reason
    assert f"The earliest date accepted is {earliest:%d/%m/%Y}" in rejected.reason
    assert job.row_results.get(row_number=3).outcome == "created"
    assert _collected_on("lendemain@example.com") == earliest


def test_rejected_row_is_no_first_of_key(merge_path, upload_root, write_file):
    recent = RECENT_ACQUISITION - datetime.timedelta(days=5)
    path = _file(
        write_file,
        ("jean.dupont@example.com", "01/01/2010"),
        ("jean.dupont@example.com", f"{recent:%d/%m/%Y}"),
    )

    job = import_file(path)

    assert job.row_results.get(row_number=2).outcome == "rejected"
    assert job.row_results.get(row_number=3).outcome == "created"
    assert _collected_on("jean.dupont@example.com") == recent


def test_activity_rule_sets_row_limit(merge_path, upload_root, write_file):
    activity = prospecting_activity()
    RetentionRule.objects.create(
        activity=activity,
        data_category="Prospects",
        record_type=RetentionRule.RecordType.CONTACT,
        duration=2,
        unit="years",
        start_event="collection",
        action="delete",
    )
    too_old = local_today() - relativedelta(months=30)
    path = _file(write_file, ("ancien@example.com", f"{too_old:%d/%m/%Y}"))

    job = import_file(path, processing_activity=activity)

    reason = job.row_results.get(row_number=2).reason
    assert job.counts["rejected"] == 1
    assert "“Prospects: 2 years from collection, then delete”" in reason


def test_existing_contact_not_merged_from_old_row(upload_root, write_file):
    Contact.objects.create(
        email="jean.dupont@example.com",
        collected_at=timezone.now() - datetime.timedelta(days=10),
    )
    path = _file(write_file, ("jean.dupont@example.com", "15/06/2015"))

    job = import_file(path)

    assert job.row_results.get(row_number=2).outcome == "rejected"
    assert job.counts["merged"] == 0


def test_dry_run_counts_old_row_rejected(upload_root, write_file):
    path = _file(write_file, ("ancien@example.com", "15/06/2015"))

    job = import_file_checked(path)

    assert job.dry_run_summary["counts"]["rejected"] == 1
    assert "Date de collecte" in job.dry_run_summary["problems"][0]["reason"]


def test_french_reasons_show_french_dates(upload_root, write_file):
    path = _file(
        write_file,
        ("ancien@example.com", "05/12/1999"),
        ("vieux@example.com", "05/12/2015"),
    )

    with translation.override("fr"):
        job = import_file(path)

    assert "05/12/1999" in job.row_results.get(row_number=2).reason
    assert "05/12/2015" in job.row_results.get(row_number=3).reason
    assert "1999-12-05" not in job.row_results.get(row_number=2).reason
