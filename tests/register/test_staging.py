"""Private storage of register files between the import preview and its end."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.register.staging import staged_file_path
from apps.register.staging import staged_file_write
from apps.register.staging import staged_files_purge
from apps.register.staging import staging_root


@pytest.fixture
def private_root(settings, tmp_path):
    settings.REGISTER_IMPORT_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.REGISTER_IMPORT_ROOT


def test_default_root_is_private(settings):
    assert settings.REGISTER_IMPORT_ROOT == (
        settings.DATA_DIR / "private" / "register_imports"
    )
    assert staging_root() == settings.REGISTER_IMPORT_ROOT


def test_written_file_is_private(private_root):
    upload = SimpleUploadedFile("registre.csv", b"contenu")

    path = staged_file_write(upload=upload, suffix=".csv")

    assert path.parent == private_root
    assert path.suffix == ".csv"
    assert path.read_bytes() == b"contenu"
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("name", ["", "../settings.py", "sub/file.csv", "/etc/passwd"])
def test_stored_name_must_be_plain(private_root, name):
    assert staged_file_path(name) is None


def test_purge_keeps_files_newer_than_cutoff(private_root):
    path = staged_file_write(
        upload=SimpleUploadedFile("registre.csv", b"x"), suffix=".csv"
    )

    deleted_by_default = staged_files_purge()
    deleted = staged_files_purge(
        older_than=timezone.now() + datetime.timedelta(minutes=1)
    )

    assert deleted_by_default == 0
    assert deleted == 1
    assert not path.exists()


def test_purge_without_folder_deletes_nothing(private_root):
    assert staged_files_purge() == 0
