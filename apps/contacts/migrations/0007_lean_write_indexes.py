"""Fewer index writes per contact, for imports, anonymisation and erasure.

The identifier indexes leave out empty values, the trigram index leaves out
anonymised contacts (whose text is blank), and two indexes that another one
already covers go: ``contact_name_idx`` (``contact_last_name_id_idx`` starts
with the last name) and provenance's index on the contact (the unique
constraint on contact and list starts with it).
"""

import django.db.models.deletion
from django.db import migrations, models

TRIGRAM_INDEX = "contact_search_text_trgm_idx"


def _trigram_index_create(schema_editor, condition: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    schema_editor.execute(
        f"CREATE INDEX {TRIGRAM_INDEX} ON contacts_contact "
        f"USING gin (search_text gin_trgm_ops) {condition}"
    )


def trigram_index_partial(apps, schema_editor):
    _trigram_index_create(schema_editor, "WHERE status <> 'anonymised'")


def trigram_index_whole(apps, schema_editor):
    _trigram_index_create(schema_editor, "")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0006_folded_search_text"),
        ("register", "0003_reference_terms"),
    ]

    operations = [
        migrations.RunPython(trigram_index_partial, trigram_index_whole),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_phone_idx",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_name_idx",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_email_idx",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_email_hash_idx",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_phone_hash_idx",
        ),
        migrations.AlterField(
            model_name="provenance",
            name="contact",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="provenances",
                to="contacts.contact",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("email", ""), _negated=True),
                fields=["email"],
                name="contact_email_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("email_hash", ""), _negated=True),
                fields=["email_hash"],
                name="contact_email_hash_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("phone", ""), _negated=True),
                fields=["phone"],
                name="contact_phone_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("phone_hash", ""), _negated=True),
                fields=["phone_hash"],
                name="contact_phone_hash_idx",
            ),
        ),
    ]
