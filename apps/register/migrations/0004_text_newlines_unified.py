"""Store the register's text with LF line breaks only.

Text typed in the browser was stored with the CRLF line breaks that browsers
submit, while imports stored LF, so re-importing an export reported unchanged
activities as updated. The history tables are converted too, so that the next
version's diff does not show every line as changed.
"""

from django.db import migrations
from django.db.models import CharField
from django.db.models import F
from django.db.models import TextField
from django.db.models import Value
from django.db.models.functions import Replace

MODELS = [
    "ProcessingActivity",
    "DataSubjectCategory",
    "PersonalDataCategory",
    "Recipient",
    "Processor",
    "Transfer",
    "RetentionRule",
]


def _unified(column: str):
    crlf_replaced = Replace(F(column), Value("\r\n"), Value("\n"))
    return Replace(crlf_replaced, Value("\r"), Value("\n"))


def newlines_unify(apps, schema_editor):
    for name in MODELS:
        for model_name in (name, f"Historical{name}"):
            model = apps.get_model("register", model_name)
            for field in model._meta.concrete_fields:
                if not isinstance(field, CharField | TextField) or field.choices:
                    continue
                # update() leaves updated_at alone and writes no history.
                model._base_manager.filter(
                    **{f"{field.attname}__contains": "\r"}
                ).update(**{field.attname: _unified(field.attname)})


class Migration(migrations.Migration):
    dependencies = [
        ("register", "0003_reference_terms"),
    ]

    operations = [
        migrations.RunPython(newlines_unify, migrations.RunPython.noop),
    ]
