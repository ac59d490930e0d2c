"""Drop the database constraint of the contact's processing activity.

PostgreSQL checked it for every imported contact. Imports write their job's
activity, which the job's own constraint protects.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0015_indexes_without_anonymised"),
        ("register", "0004_text_newlines_unified"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contact",
            name="processing_activity",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="contacts",
                to="register.processingactivity",
                verbose_name="processing activity",
            ),
        ),
    ]
