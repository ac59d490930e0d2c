"""Uploaded vendor files: kept outside MEDIA_ROOT and readable by the app only."""

import stat

import pytest

from tests.imports.conftest import import_file_created

pytestmark = pytest.mark.postgres


def test_upload_readable_by_owner_only(db, upload_root, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(b"email\njean.dupont@example.com\n")

    job = import_file_created(path)

    stored = upload_root / job.source_file.name
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
