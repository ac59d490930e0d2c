"""Rename the counts of stored dry runs from "removed" to "would_remove".

Dry runs used to store what they would remove under the keys of a real run
("removed", "provenances_removed", "purged_<kind>"), so the page and the
command reported a preview as done. The rename is reversible.
"""

from django.db import migrations

REAL_KEYS = ("removed", "provenances_removed", "purged_")
DRY_KEYS = ("would_remove", "would_remove_provenances", "would_purge_")


def _rename_keys(steps: list, *, source: tuple, target: tuple) -> list:
    total_source, provenances_source, prefix_source = source
    total_target, provenances_target, prefix_target = target
    renamed = []
    for step in steps:
        step = dict(step)
        if total_source in step:
            step[total_target] = step.pop(total_source)
        if provenances_source in step:
            step[provenances_target] = step.pop(provenances_source)
        for key in [key for key in step if key.startswith(prefix_source)]:
            step[prefix_target + key.removeprefix(prefix_source)] = step.pop(key)
        renamed.append(step)
    return renamed


def _dry_runs_rename(apps, *, source: tuple, target: tuple) -> None:
    RetentionRun = apps.get_model("retention", "RetentionRun")
    for run in RetentionRun.objects.filter(dry_run=True).iterator():
        steps = _rename_keys(run.steps, source=source, target=target)
        RetentionRun.objects.filter(pk=run.pk).update(steps=steps)


def forwards(apps, schema_editor):
    _dry_runs_rename(apps, source=REAL_KEYS, target=DRY_KEYS)


def backwards(apps, schema_editor):
    _dry_runs_rename(apps, source=DRY_KEYS, target=REAL_KEYS)


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
