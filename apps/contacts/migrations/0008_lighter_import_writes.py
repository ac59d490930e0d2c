"""Fewer writes per imported contact.

The identifier hashes lose their indexes (contacts are looked up by their
e-mail and phone) and provenance loses its foreign-key constraint on the
contact, whose check locked every contact row a second time at commit.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0007_lean_write_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='contact',
            name='contact_email_hash_idx',
        ),
        migrations.RemoveIndex(
            model_name='contact',
            name='contact_phone_hash_idx',
        ),
        migrations.AlterField(
            model_name='provenance',
            name='contact',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='provenances', to='contacts.contact'),
        ),
    ]
