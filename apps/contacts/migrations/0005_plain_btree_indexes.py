"""Replace ``db_index=True`` on e-mail and the hashes by one B-tree index each.

On PostgreSQL ``db_index=True`` on a CharField also creates a
``varchar_pattern_ops`` index for LIKE prefix searches, which no query on
these columns runs and which slows every insert. ``contact_company_idx`` goes
too, because ``contact_company_id_idx`` on (company, id) covers its lookups.
"""

from django.db import migrations
from django.db import models


class Migration(migrations.Migration):
    dependencies = [("contacts", "0004_campaign_export_permission")]

    operations = [
        migrations.RemoveIndex(model_name="contact", name="contact_company_idx"),
        migrations.AlterField(
            model_name="contact",
            name="email",
            field=models.CharField(blank=True, max_length=254, verbose_name="e-mail"),
        ),
        migrations.AlterField(
            model_name="contact",
            name="email_hash",
            field=models.CharField(
                blank=True, max_length=64, verbose_name="e-mail hash"
            ),
        ),
        migrations.AlterField(
            model_name="contact",
            name="phone_hash",
            field=models.CharField(blank=True, max_length=64, verbose_name="phone hash"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["email"], name="contact_email_idx"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["email_hash"], name="contact_email_hash_idx"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["phone_hash"], name="contact_phone_hash_idx"),
        ),
    ]
