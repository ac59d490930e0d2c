"""Fold accents and case in ``search_text`` and add the e-mail's local part.

The old column lower-cased with the database's ``lower()``, which on SQLite
changes ASCII letters only, and kept accents, so "emile" missed "Émile".
Django cannot change a generated column's expression in place, so the column
is dropped and added again, which also drops its trigram index on PostgreSQL.
The index is then created again.
"""

from django.db import migrations
from django.db import models
from django.db.models.functions import Concat

from apps.contacts.search import FOLD_FUNCTION
from apps.contacts.search import EmailLocalPart
from apps.contacts.search import FoldedText
from apps.contacts.search import register_sqlite_fold_function

TRIGRAM_INDEX = "contact_search_text_trgm_idx"

CREATE_FOLD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FOLD_FUNCTION}(value text)
RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$
"""


def create_fold_function(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        # ``ContactsConfig.ready`` registers it on new connections; this one
        # may have been opened before.
        register_sqlite_fold_function(None, schema_editor.connection)
        return
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    schema_editor.execute(CREATE_FOLD_FUNCTION)


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON contacts_contact "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_fold_function(apps, schema_editor):
    """Reverse: the old column is back by now, so give it its index again."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FOLD_FUNCTION}(text)")
    create_trigram_index(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0005_plain_btree_indexes"),
    ]

    operations = [
        migrations.RunPython(create_fold_function, drop_fold_function),
        migrations.RemoveField(model_name="contact", name="search_text"),
        migrations.AddField(
            model_name="contact",
            name="search_text",
            field=models.GeneratedField(
                db_persist=True,
                expression=FoldedText(
                    Concat(
                        "first_name",
                        models.Value(" "),
                        "last_name",
                        models.Value(" "),
                        "company",
                        models.Value(" "),
                        EmailLocalPart("email"),
                        output_field=models.TextField(),
                    )
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.RunPython(create_trigram_index, migrations.RunPython.noop),
    ]
