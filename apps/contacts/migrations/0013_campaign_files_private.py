"""Move the kept campaign files from MEDIA_ROOT to the private folder.

Earlier versions wrote them to ``MEDIA_ROOT/contacts/campaigns``, which
``config/urls.py`` serves without login when DEBUG is on. The migration is not
atomic: each export's path is saved right after its file moves. A file found
already moved (after an interrupted run) only gets its path updated, so running
the migration again completes it.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.db import migrations
from django.db import models

LEGACY_FOLDER = "contacts/campaigns/"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def _move(source: Path, target: Path) -> None:
    if not source.exists():
        # Deleted by an erasure or by retention, or moved by an interrupted run.
        return
    target.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    shutil.move(source, target)
    target.chmod(FILE_MODE)


def campaign_files_to_private(apps, schema_editor):
    CampaignExport = apps.get_model("contacts", "CampaignExport")
    media_root = Path(settings.MEDIA_ROOT)
    private_root = Path(settings.CAMPAIGN_EXPORT_ROOT)
    legacy = CampaignExport.objects.filter(file_path__startswith=LEGACY_FOLDER)
    for export in legacy.iterator():
        name = export.file_path.removeprefix(LEGACY_FOLDER)
        _move(media_root / export.file_path, private_root / name)
        export.file_path = name
        export.save(update_fields=["file_path"])


def campaign_files_to_media(apps, schema_editor):
    CampaignExport = apps.get_model("contacts", "CampaignExport")
    media_root = Path(settings.MEDIA_ROOT)
    private_root = Path(settings.CAMPAIGN_EXPORT_ROOT)
    private = CampaignExport.objects.exclude(file_path="").exclude(
        file_path__contains="/"
    )
    for export in private.iterator():
        relative = LEGACY_FOLDER + export.file_path
        _move(private_root / export.file_path, media_root / relative)
        export.file_path = relative
        export.save(update_fields=["file_path"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contacts", "0012_campaign_export_start_and_language"),
    ]

    operations = [
        migrations.AlterField(
            model_name="campaignexport",
            name="file_path",
            field=models.CharField(
                blank=True,
                help_text="Relative to CAMPAIGN_EXPORT_ROOT, a private folder.",
                max_length=255,
                verbose_name="file path",
            ),
        ),
        migrations.RunPython(campaign_files_to_private, campaign_files_to_media),
    ]
