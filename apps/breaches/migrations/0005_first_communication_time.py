from django.db import migrations, models


def earliest_communication_set(apps, schema_editor):
    """Store each breach's earliest communication, not the first one recorded."""
    Breach = apps.get_model("breaches", "Breach")
    earliest = (
        Breach.objects.filter(communications__isnull=False)
        .annotate(earliest=models.Min("communications__communicated_at"))
        .values_list("pk", "earliest")
    )
    for pk, communicated_at in earliest:
        Breach.objects.filter(pk=pk).update(communicated_at=communicated_at)


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0004_communication_newly_informed"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="breach",
            name="communication_method",
        ),
        migrations.AlterField(
            model_name="breach",
            name="communicated_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="data subjects first informed at"
            ),
        ),
        migrations.RunPython(earliest_communication_set, migrations.RunPython.noop),
    ]
