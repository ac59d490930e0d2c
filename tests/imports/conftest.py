"""Helpers for import tests: write files, run a job to the end."""

import datetime
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from apps.imports.models import ImportJob
from apps.imports.services import import_job_check
from apps.imports.services import import_job_create
from apps.imports.services import import_job_run
from apps.imports.services import import_job_start
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.retention.policy import local_today

REALDATA = Path("/work/shared/realdata")
# An acquisition date that the import rules accept on any day the suite runs.
# A date more than three years back would be past the default retention rule.
RECENT_ACQUISITION = local_today() - datetime.timedelta(days=60)


def prospecting_activity(
    lawful_basis: str = LawfulBasis.LEGITIMATE_INTERESTS,
) -> ProcessingActivity:
    """Return an activity in force under which the import rules accept prospects.

    On legitimate interests its messages concern the recipient's profession,
    as B2B prospecting without consent needs.
    """
    activity, _created = ProcessingActivity.objects.get_or_create(
        reference=f"TRT-{lawful_basis}",
        defaults={
            "name": "Prospection",
            "status": ProcessingActivity.Status.IN_FORCE,
            "lawful_basis": lawful_basis,
            "concerns_recipients_profession": True,
        },
    )
    return activity


UPLOAD_FILE = b"Courriel;Nom\njean.dupont@example.com;Dupont\n"


def upload_form_post(client, language="en", **changes):
    """Post the upload form with valid terms for a small file, changed by ``changes``.

    The terms name ``prospecting_activity()``; pass ``processing_activity=""``
    to post none.
    """
    data = {
        "source_file": SimpleUploadedFile("liste.csv", UPLOAD_FILE),
        "vendor_name": "Fichiers Exemple SARL",
        "list_name": "Salon",
        "acquisition": "purchase",
        "acquired_on": RECENT_ACQUISITION.isoformat(),
        "consent_claim": "opt_out",
        "audience": "b2b",
        "lawful_basis": "legitimate_interests",
        "processing_activity": str(prospecting_activity().pk),
        "phone_country": "FR",
    }
    return client.post(
        reverse("imports:job-create"),
        data | changes,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def import_file_created(
    path: Path, *, list_name="Liste test", mapping=None, **terms
) -> ImportJob:
    """Create a pending job for ``path``; return the job.

    Without a processing activity in ``terms``, the job gets one that
    matches its lawful basis.
    """
    if "processing_activity" not in terms:
        terms["processing_activity"] = prospecting_activity(
            terms.get("lawful_basis", LawfulBasis.LEGITIMATE_INTERESTS)
        )
    with path.open("rb") as upload:
        return import_job_create(
            upload=upload,
            file_name=path.name,
            vendor_name=terms.pop("vendor_name", "Fichiers Exemple SARL"),
            list_name=list_name,
            acquired_on=terms.pop("acquired_on", RECENT_ACQUISITION),
            mapping=mapping,
            **terms,
        )


def import_file(path: Path, *, list_name="Liste test", mapping=None, **terms):
    """Create a job for ``path`` and run it in this process; return the job."""
    job = import_file_created(path, list_name=list_name, mapping=mapping, **terms)
    # The helper imports invented lists, some without a business column.
    import_job_start(job=job, enqueue=False, professional_use_confirmed=True)
    return import_job_run(job_id=job.pk)


def import_file_checked(path: Path, **terms) -> ImportJob:
    """Create a job for ``path`` and dry-run it in this process; return the job."""
    job = import_file_created(path, **terms)
    import_job_check(job=job, enqueue=False)
    return import_job_run(job_id=job.pk, dry_run=True)


@pytest.fixture
def upload_root(settings, tmp_path):
    """Keep uploaded files of the test in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "uploads"
    return settings.IMPORT_UPLOAD_ROOT


@pytest.fixture
def write_file(tmp_path):
    """Return a function writing text (in an encoding) or bytes to a file."""

    def write(name: str, content, encoding="utf-8") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_bytes(content.encode(encoding))
        else:
            path.write_bytes(content)
        return path

    return write


@pytest.fixture(autouse=True)
def english():
    """Run each test in English, so that messages and reasons read as written."""
    with translation.override("en"):
        yield


def sheet_corrupted(content: bytes, *, at: float) -> bytes:
    """Return ``content`` with bytes of its sheet's compressed data flipped.

    ``at`` is the position of the damage in the sheet's data, from 0 to 1.
    The ZIP directory stays intact, so the workbook opens.
    """
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo("xl/worksheets/sheet1.xml")
    data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    start = data_start + int(info.compress_size * at)
    damaged = bytearray(content)
    for position in range(start, start + 64):
        damaged[position] ^= 0x5A
    return bytes(damaged)
