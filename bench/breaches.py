"""Benchmark the breach clock job and the export of the people to inform.

Seeds ``--breaches`` open breaches whose 48-hour alert is due and
``--contacts`` invented contacts of one processing activity, then measures in
one run:

- the first clock run, which claims and e-mails one alert per breach;
- the steady clock run, with every alert already sent, which is what the
  five-minute beat job costs most of the time;
- the CSV and XLSX export of the affected contacts.

Each figure is printed with a ratio to a baseline measured in the same run:
reading the same breaches with their alerts, and reading the same contact
rows as tuples. E-mails go to Django's in-memory backend. Run it against a
database of its own, then drop that database::

    createdb -h 127.0.0.1 -U postgres registre_bench_breaches
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registre_bench_breaches \\
        .venv/bin/python bench/breaches.py --breaches 2000 --contacts 100000
    dropdb -h 127.0.0.1 -U postgres registre_bench_breaches
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["EMAIL_URL"] = "memorymail://"
os.environ["DPO_ALERT_EMAILS"] = "alerts@example.test"

import django  # noqa: E402

django.setup()

from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.breaches.deadlines import check_deadlines  # noqa: E402
from apps.breaches.models import Breach  # noqa: E402
from apps.breaches.models import BreachAlert  # noqa: E402
from apps.breaches.selectors import breach_affected_contacts  # noqa: E402
from apps.breaches.selectors import breach_affected_rows  # noqa: E402
from apps.breaches.selectors import contact_export_headers  # noqa: E402
from apps.contacts.models import Contact  # noqa: E402
from apps.core.exports import csv_bytes  # noqa: E402
from apps.core.exports import xlsx_bytes  # noqa: E402
from apps.register.models import ProcessingActivity  # noqa: E402

BENCH_PREFIX = "BENCH-"
REPEATS = 5


def _milliseconds(function) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def _median(function, repeats: int = REPEATS) -> float:
    function()
    return statistics.median(_milliseconds(function) for _ in range(repeats))


def _seed(breach_count: int, contact_count: int) -> ProcessingActivity:
    now = timezone.now()
    Breach.objects.filter(reference__startswith=BENCH_PREFIX).delete()
    breaches = []
    for number in range(breach_count):
        aware_at = now - timedelta(hours=25 + number % 20)
        breaches.append(
            Breach(
                reference=f"{BENCH_PREFIX}{number:06d}",
                title=f"Bench breach {number}",
                description="Invented breach for the benchmark.",
                detected_at=aware_at,
                aware_at=aware_at,
                deadline_at=aware_at + timedelta(hours=72),
                affects_confidentiality=True,
            )
        )
    Breach.objects.bulk_create(breaches, batch_size=2000)

    activity, _created = ProcessingActivity.objects.get_or_create(
        reference="BENCH-TRT", defaults={"name": "Bench prospecting"}
    )
    Contact.objects.filter(processing_activity=activity).delete()
    Contact.objects.bulk_create(
        (
            Contact(
                first_name=f"Prénom{number}",
                last_name="Banc",
                email=f"bench{number}@example.test",
                company="Banc d'essai SARL",
                processing_activity=activity,
                collected_at=now,
            )
            for number in range(contact_count)
        ),
        batch_size=5000,
    )
    return activity


def _read_breaches() -> None:
    list(
        Breach.objects.filter(reference__startswith=BENCH_PREFIX).prefetch_related(
            "alerts"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--breaches",
        type=int,
        default=2000,
        help="number of open breaches to seed, each with its 48-hour alert due",
    )
    parser.add_argument(
        "--contacts",
        type=int,
        default=100_000,
        help="number of invented contacts to seed and export",
    )
    arguments = parser.parse_args()

    setup_test_environment()
    call_command("migrate", verbosity=0)
    activity = _seed(arguments.breaches, arguments.contacts)
    print(
        f"PostgreSQL {connection.pg_version}, {arguments.breaches} breaches, "
        f"{arguments.contacts} contacts, {os.cpu_count()} CPUs"
    )

    baseline = _median(_read_breaches)
    print(f"baseline: read breaches with alerts  {baseline:9.1f} ms")

    mail.outbox = []
    first = _milliseconds(check_deadlines)
    sent = len(mail.outbox)
    alerts = BreachAlert.objects.filter(breach__reference__startswith=BENCH_PREFIX)
    print(
        f"first clock run ({sent} e-mails)      {first:9.1f} ms  "
        f"x{first / baseline:.1f}  ({first / max(sent, 1):.2f} ms per alert)"
    )
    assert sent == arguments.breaches == alerts.count()

    with CaptureQueriesContext(connection) as queries:
        steady = _median(check_deadlines)
    print(
        f"steady clock run (nothing due)      {steady:9.1f} ms  "
        f"x{steady / baseline:.1f}  ({len(queries) // (REPEATS + 1)} queries per run)"
    )

    contacts = breach_affected_contacts(activity_ids=[activity.pk])
    headers = contact_export_headers()
    rows_baseline = _median(lambda: list(contacts.values_list("pk", "email")), 3)
    print(f"baseline: read contact rows          {rows_baseline:9.1f} ms")
    for name, export in (("csv", csv_bytes), ("xlsx", xlsx_bytes)):
        elapsed = _median(
            lambda export=export: export(headers, breach_affected_rows(contacts)), 3
        )
        print(
            f"export {name:<4} ({contacts.count()} rows)       {elapsed:9.1f} ms  "
            f"x{elapsed / rows_baseline:.1f}"
        )

    Breach.objects.filter(reference__startswith=BENCH_PREFIX).delete()
    Contact.objects.filter(processing_activity=activity).delete()


if __name__ == "__main__":
    main()
