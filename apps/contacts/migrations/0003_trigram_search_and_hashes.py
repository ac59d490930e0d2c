"""Fill the identifier hashes of existing contacts and, on PostgreSQL, add the
pg_trgm GIN index that serves fragment search on ``search_text``.

SQLite has no trigram index, so the search falls back to a scan there.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations

TRIGRAM_INDEX = "contact_search_text_trgm_idx"


def _hash(value):
    key = settings.IDENTIFIER_HASH_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def fill_hashes(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    pending = Contact.objects.filter(email_hash="").exclude(email="") | Contact.objects.filter(
        phone_hash=""
    ).exclude(phone="")
    for contact in pending.only("pk", "email", "phone").iterator(chunk_size=2000):
        Contact.objects.filter(pk=contact.pk).update(
            email_hash=_hash(contact.email) if contact.email else "",
            phone_hash=_hash(contact.phone) if contact.phone else "",
        )


def add_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON contacts_contact "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_search_hashes_exports")]

    operations = [
        migrations.RunPython(fill_hashes, migrations.RunPython.noop),
        migrations.RunPython(add_trigram_index, drop_trigram_index),
    ]
