"""The data migration that renames the counts of stored dry runs."""

from importlib import import_module

migration = import_module("apps.retention.migrations.0002_dry_run_would_remove")


def test_dry_run_keys_renamed_both_ways():
    stored = [
        {
            "key": "contacts:rule:1",
            "removed": 3,
            "provenances_removed": 2,
            "purged_event": 5,
            "due": 4,
        }
    ]

    forwards = migration._rename_keys(
        stored, source=migration.REAL_KEYS, target=migration.DRY_KEYS
    )
    backwards = migration._rename_keys(
        forwards, source=migration.DRY_KEYS, target=migration.REAL_KEYS
    )

    assert forwards == [
        {
            "key": "contacts:rule:1",
            "would_remove": 3,
            "would_remove_provenances": 2,
            "would_purge_event": 5,
            "due": 4,
        }
    ]
    assert backwards == stored
