from django.db import migrations

TEXT_FIELDS = ("address", "eu_representative", "dpo_address")


def line_breaks_unify(apps, schema_editor):
    from apps.core.text import newlines_unified

    Organisation = apps.get_model("core", "Organisation")
    for organisation in Organisation.objects.all():
        for name in TEXT_FIELDS:
            setattr(organisation, name, newlines_unified(getattr(organisation, name)))
        organisation.save(update_fields=TEXT_FIELDS)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_form_submission")]

    operations = [migrations.RunPython(line_breaks_unify, migrations.RunPython.noop)]
