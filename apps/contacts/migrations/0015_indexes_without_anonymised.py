"""Leave anonymised contacts out of the name and company indexes.

An anonymised contact has neither name nor company, so sorting by them lists
the other contacts only, and anonymising a contact writes fewer index entries.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0014_campaign_export_language_choices"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_last_name_id_idx",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_company_id_idx",
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ("active", "restricted", "objected", "unsubscribed"))
                ),
                fields=["last_name", "id"],
                name="contact_last_name_id_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ("active", "restricted", "objected", "unsubscribed"))
                ),
                fields=["company", "id"],
                name="contact_company_id_idx",
            ),
        ),
    ]
