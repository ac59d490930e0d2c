"""The migration that moves kept campaign files out of MEDIA_ROOT."""

import importlib
import stat

import pytest
from django.apps import apps as django_apps

from apps.contacts.campaigns import campaign_export_files_delete
from apps.contacts.campaigns import campaign_export_path
from apps.contacts.models import CampaignExport

migration = importlib.import_module(
    "apps.contacts.migrations.0013_campaign_files_private"
)

pytestmark = pytest.mark.django_db

LEGACY_PATH = "contacts/campaigns/campaign-20261205-013058-5f008ea9.csv"
CONTENT = "email\nprospect@example.test\n"


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def campaign_root(tmp_path, settings):
    settings.CAMPAIGN_EXPORT_ROOT = tmp_path / "private" / "campaigns"
    return settings.CAMPAIGN_EXPORT_ROOT


@pytest.fixture
def legacy_export(media_root, campaign_root):
    """An export written by an earlier version, with its file in MEDIA_ROOT."""
    export = CampaignExport.objects.create(file_path=LEGACY_PATH)
    path = media_root / LEGACY_PATH
    path.parent.mkdir(parents=True)
    path.write_text(CONTENT)
    return export


def test_legacy_file_moves_to_private_folder(legacy_export, media_root, campaign_root):
    migration.campaign_files_to_private(django_apps, None)

    legacy_export.refresh_from_db()
    moved = campaign_export_path(legacy_export)
    assert legacy_export.file_path == "campaign-20261205-013058-5f008ea9.csv"
    assert moved.parent == campaign_root
    assert moved.read_text() == CONTENT
    assert stat.S_IMODE(moved.stat().st_mode) == 0o600
    assert not (media_root / LEGACY_PATH).exists()


def test_moved_file_is_deleted_by_erasure(legacy_export, media_root):
    migration.campaign_files_to_private(django_apps, None)
    legacy_export.refresh_from_db()
    moved = campaign_export_path(legacy_export)

    deleted = campaign_export_files_delete(
        export_ids=[legacy_export.pk], reason="erasure"
    )

    assert deleted == 1
    assert not moved.exists()
    assert not (media_root / LEGACY_PATH).exists()


def test_missing_legacy_file_gets_new_path(legacy_export, media_root):
    (media_root / LEGACY_PATH).unlink()

    migration.campaign_files_to_private(django_apps, None)

    legacy_export.refresh_from_db()
    assert legacy_export.file_path == "campaign-20261205-013058-5f008ea9.csv"
    assert not campaign_export_path(legacy_export).exists()


def test_interrupted_move_completes_on_next_run(
    legacy_export, media_root, campaign_root
):
    """GIVEN a run that moved the file and stopped before saving the new path
    WHEN the migration runs again
    THEN the export points at the moved file."""
    moved = campaign_root / "campaign-20261205-013058-5f008ea9.csv"
    campaign_root.mkdir(parents=True)
    (media_root / LEGACY_PATH).rename(moved)

    migration.campaign_files_to_private(django_apps, None)

    legacy_export.refresh_from_db()
    assert campaign_export_path(legacy_export) == moved
    assert moved.read_text() == CONTENT


def test_reverse_moves_file_back(legacy_export, media_root):
    migration.campaign_files_to_private(django_apps, None)

    migration.campaign_files_to_media(django_apps, None)

    legacy_export.refresh_from_db()
    assert legacy_export.file_path == LEGACY_PATH
    assert (media_root / LEGACY_PATH).read_text() == CONTENT
