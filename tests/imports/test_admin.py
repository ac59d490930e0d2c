"""The admin pages of import jobs."""

import pytest
from django.urls import reverse

from tests.imports.conftest import import_file_created

pytestmark = [pytest.mark.django_db]


def test_job_page_with_kept_file(admin_client, upload_root, write_file):
    job = import_file_created(write_file("liste.csv", "Courriel\nlea@example.com\n"))

    response = admin_client.get(
        reverse("admin:imports_importjob_change", args=[job.pk]),
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 200
    assert "kept until the upload purge" in response.content.decode()


def test_job_page_with_deleted_file(admin_client, upload_root, write_file):
    job = import_file_created(write_file("liste.csv", "Courriel\nlea@example.com\n"))
    job.source_file.delete()

    response = admin_client.get(
        reverse("admin:imports_importjob_change", args=[job.pk]),
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 200
    assert "deleted" in response.content.decode()
