"""Plain e-mail and phone indexes on SQLite.

SQLite uses a partial index only when the query repeats the index's condition,
so ``email = 'x'`` never used ``contact_email_idx`` (``WHERE NOT email = ''``)
and every look-up read the whole table. PostgreSQL proves the condition from the
query and keeps the smaller partial indexes.
"""

from django.db import migrations

INDEXES = {
    "contact_email_sqlite_idx": "email",
    "contact_phone_sqlite_idx": "phone",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "contacts_contact" ("{column}")'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0010_provenance_list_without_constraint"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
