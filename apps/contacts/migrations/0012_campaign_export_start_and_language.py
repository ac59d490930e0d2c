from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0011_sqlite_identifier_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaignexport",
            name="language",
            field=models.CharField(
                default="fr",
                help_text="The headers and source statements are written in it.",
                max_length=10,
                verbose_name="language of the file",
            ),
        ),
        migrations.AddField(
            model_name="campaignexport",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="started"),
        ),
    ]
