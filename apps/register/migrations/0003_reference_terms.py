from django.db import migrations

from apps.register import reference_defaults


def seed_reference_terms(apps, schema_editor):
    ReferenceTerm = apps.get_model("register", "ReferenceTerm")
    lists = {
        "data_subject": [(label, "standard") for label in reference_defaults.DATA_SUBJECTS],
        "personal_data": reference_defaults.PERSONAL_DATA,
        "recipient": [(label, "standard") for label in reference_defaults.RECIPIENTS],
        "security_measure": [
            (label, "standard") for label in reference_defaults.SECURITY_MEASURES
        ],
        "data_source": [(label, "standard") for label in reference_defaults.DATA_SOURCES],
    }
    for kind, entries in lists.items():
        for position, (label, sensitivity) in enumerate(entries):
            ReferenceTerm.objects.get_or_create(
                kind=kind,
                label=label,
                defaults={"sensitivity": sensitivity, "position": position},
            )


class Migration(migrations.Migration):

    dependencies = [
        ("register", "0002_activity_details"),
    ]

    operations = [
        migrations.RunPython(seed_reference_terms, migrations.RunPython.noop),
    ]
