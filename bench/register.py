"""Benchmark the processing register: list page, exports and imports.

Creates ``--activities`` invented activities (default 500), each with two rows
of every part (data subjects, data categories, recipients, processors,
transfers, retention rules). It then measures, in one run:

- the baseline: reading every activity with its parts once (one prefetch);
- the list page's selector, which also computes each activity's completeness;
- each export format (XLSX, ODS, CSV, PDF) of the whole register;
- the dry-run import of each spreadsheet export back into the same register.

Each figure is printed with its ratio to the baseline and the number of SQL
queries. Everything runs inside one transaction that is rolled back at the
end, but use a database of your own all the same::

    createdb -h 127.0.0.1 -U postgres registre_bench_register
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registre_bench_register \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registre_bench_register \\
        .venv/bin/python bench/register.py --activities 500
    dropdb -h 127.0.0.1 -U postgres registre_bench_register
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db import transaction  # noqa: E402

from apps.register.exports import register_export  # noqa: E402
from apps.register.imports import register_import  # noqa: E402
from apps.register.models import DataSubjectCategory  # noqa: E402
from apps.register.models import PersonalDataCategory  # noqa: E402
from apps.register.models import ProcessingActivity  # noqa: E402
from apps.register.models import Processor  # noqa: E402
from apps.register.models import Recipient  # noqa: E402
from apps.register.models import RetentionRule  # noqa: E402
from apps.register.models import Transfer  # noqa: E402
from apps.register.selectors import activities_for_export  # noqa: E402
from apps.register.selectors import activity_list  # noqa: E402

REPEATS = 3


class _WholeRegisterReader:
    """A reader allowed to see every activity, as the compliance officer is."""

    is_authenticated = False

    def has_perm(self, permission: str) -> bool:
        return True


def _seed(count: int) -> None:
    activities = ProcessingActivity.objects.bulk_create(
        ProcessingActivity(
            reference=f"BENCH-{index:05d}",
            name=f"Traitement de mesure {index}",
            description="Traitement inventé pour la mesure.\nDeuxième ligne.",
            purposes="Finalité principale\nSous-finalité",
            lawful_basis="legitimate_interests",
            legitimate_interest="Développer la clientèle professionnelle",
            security_measures="Contrôle d'accès\nChiffrement",
            data_sources="Fichiers achetés",
            status="in_force",
            dpia_required=False,
            next_review_on=datetime.date(2030, 1, 1),
        )
        for index in range(count)
    )
    DataSubjectCategory.objects.bulk_create(
        DataSubjectCategory(activity=a, label=f"Personnes {n}")
        for a in activities
        for n in (1, 2)
    )
    PersonalDataCategory.objects.bulk_create(
        PersonalDataCategory(activity=a, label=f"Données {n}", details="Détail")
        for a in activities
        for n in (1, 2)
    )
    Recipient.objects.bulk_create(
        Recipient(activity=a, label=f"Destinataire {n}", third_country=n == 2)
        for a in activities
        for n in (1, 2)
    )
    Processor.objects.bulk_create(
        Processor(
            activity=a,
            name=f"Prestataire {n}",
            service="Hébergement",
            country="France",
            dpa_signed_on=datetime.date(2026, 1, n),
        )
        for a in activities
        for n in (1, 2)
    )
    Transfer.objects.bulk_create(
        Transfer(
            activity=a, recipient=f"Filiale {n}", country="Canada", safeguard="scc"
        )
        for a in activities
        for n in (1, 2)
    )
    RetentionRule.objects.bulk_create(
        RetentionRule(
            activity=a,
            data_category=f"Données {n}",
            record_type="other",
            duration=3,
            unit="years",
            start_event="collection",
            action="delete",
        )
        for a in activities
        for n in (1, 2)
    )


class _QueryCounter:
    """Count SQL queries without keeping them (Django keeps only the last 9000)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _measure(function) -> tuple[float, int]:
    """Return the median milliseconds over REPEATS runs and the queries of one run."""
    function()
    timings = []
    for _ in range(REPEATS):
        counter = _QueryCounter()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            function()
            timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), counter.count


def _report(label: str, median: float, queries: int, baseline: float) -> None:
    print(
        f"{label:<34} median {median:9.1f} ms  ratio {median / baseline:7.1f}"
        f"  queries {queries:6d}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--activities",
        type=int,
        default=500,
        help="Number of invented activities to create (each gets 12 part rows).",
    )
    arguments = parser.parse_args()
    reader = _WholeRegisterReader()

    with transaction.atomic():
        _seed(arguments.activities)
        print(f"register benchmark: {arguments.activities} activities", flush=True)

        def read_all():
            for activity in activities_for_export(user=reader):
                for part in ("data_subjects", "transfers", "retention_rules"):
                    list(getattr(activity, part).all())

        baseline, queries = _measure(read_all)
        _report("baseline: read all with parts", baseline, queries, baseline)

        median, queries = _measure(lambda: activity_list(user=reader, filters={}))
        _report("list page selector", median, queries, baseline)

        exports = {}
        with tempfile.TemporaryDirectory() as folder:
            for file_format in ("xlsx", "ods", "csv", "pdf"):

                def export(file_format=file_format):
                    exports[file_format] = register_export(
                        activities=activities_for_export(user=reader),
                        file_format=file_format,
                        actor_label="bench/register.py",
                    )

                median, queries = _measure(export)
                size = len(exports[file_format]) // 1024
                _report(f"export {file_format} ({size} KiB)", median, queries, baseline)

            for file_format in ("xlsx", "ods", "csv"):
                path = Path(folder) / f"register.{file_format}"
                path.write_bytes(exports[file_format])
                median, queries = _measure(
                    lambda path=path: register_import(path=path, dry_run=True)
                )
                _report(f"import dry run {file_format}", median, queries, baseline)

        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
