"""Show the initial notification's reference on breaches notified in phases.

Before this migration, every notification overwrote the breach's
``authority_reference``, so a breach notified in phases showed the last
reference entered next to the initial notification's time.
"""

from django.db import migrations
from django.db.models import OuterRef
from django.db.models import Subquery


def restore_initial_reference(apps, schema_editor):
    Breach = apps.get_model("breaches", "Breach")
    BreachNotification = apps.get_model("breaches", "BreachNotification")
    initial = BreachNotification.objects.filter(
        breach=OuterRef("pk"), phase="initial"
    ).values("authority_reference")[:1]
    Breach.objects.filter(notifications__phase="initial").update(
        authority_reference=Subquery(initial)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(restore_initial_reference, migrations.RunPython.noop),
    ]
