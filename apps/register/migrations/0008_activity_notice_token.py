import uuid

from django.db import migrations
from django.db import models


def notice_tokens_fill(apps, schema_editor):
    """Give each activity its own token, and its versions the same one.

    A callable default in AddField is computed once for every existing row,
    so the tokens are written here, one per activity. The versions of a
    deleted activity share a token of their own.
    """
    activities = apps.get_model("register", "ProcessingActivity")
    versions = apps.get_model("register", "HistoricalProcessingActivity")
    for activity in activities.objects.only("pk").iterator():
        token = uuid.uuid4()
        activities.objects.filter(pk=activity.pk).update(notice_token=token)
        versions.objects.filter(id=activity.pk).update(notice_token=token)
    deleted = (
        versions.objects.filter(notice_token__isnull=True)
        .values_list("id", flat=True)
        .distinct()
    )
    for activity_id in list(deleted):
        versions.objects.filter(id=activity_id).update(notice_token=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("register", "0007_activity_started_on"),
    ]

    operations = [
        migrations.AddField(
            model_name="processingactivity",
            name="notice_token",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="historicalprocessingactivity",
            name="notice_token",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(notice_tokens_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="processingactivity",
            name="notice_token",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                unique=True,
                verbose_name="notice token",
            ),
        ),
        migrations.AlterField(
            model_name="historicalprocessingactivity",
            name="notice_token",
            field=models.UUIDField(
                db_index=True,
                default=uuid.uuid4,
                editable=False,
                verbose_name="notice token",
            ),
        ),
    ]
