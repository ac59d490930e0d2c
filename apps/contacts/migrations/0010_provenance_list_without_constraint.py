"""Provenance loses its database constraint on the contact list.

Every row of an import names the same list, and the deferred check of each
row at commit cost about 4 s per million rows. Django's PROTECT still refuses
to delete a list that has provenance.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0009_campaign_export_status'),
    ]

    operations = [
        migrations.AlterField(
            model_name='provenance',
            name='contact_list',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='provenances', to='contacts.contactlist', verbose_name='list'),
        ),
    ]
