"""Benchmark of contact imports on PostgreSQL, with two baselines in one run.

Generates invented vendor files (6 columns, with duplicates that differ in
case, suppressed addresses and invalid rows), then times, each in its own
subprocess so that peak memory (RSS) is measured per path:

- Registre's importer end to end (read, validate, normalise, deduplicate,
  suppress, merge, provenance, row results);
- django-import-export's default ``import_data`` (row by row, on a sample,
  extrapolated and labelled so);
- django-import-export's bulk path (``use_bulk``, ``skip_diff``,
  ``force_init_instance``, no model validation);
- a raw ``COPY`` of the same rows into a bare table with a primary key and a
  unique index on the e-mail (the physical reference).

Run it on a database of its own, for example:

    createdb -h 127.0.0.1 -U postgres registre_bench_imports
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registre_bench_imports \\
        .venv/bin/python bench/import_contacts.py --rows 100000 1000000
    dropdb -h 127.0.0.1 -U postgres registre_bench_imports

Every table it writes to is emptied first: never point it at real data.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
HEADER = ["Prénom", "Nom", "Adresse mail", "Téléphone", "Société", "Ville"]
FIRST_NAMES = [
    "Jean",
    "Marie",
    "Pierre",
    "Sophie",
    "Luc",
    "Claire",
    "Paul",
    "Inès",
    "Hugo",
    "Léa",
    "Marc",
    "Anne",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
]
CITIES = [
    "Paris",
    "Lyon",
    "Marseille",
    "Lille",
    "Nantes",
    "Rennes",
    "Bordeaux",
    "Nice",
    "Dijon",
    "Metz",
]
DUPLICATE_SHARE = 0.03
SUPPRESSED_SHARE = 0.01
INVALID_SHARE = 0.01


def _setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own.")


def _person(index: int) -> tuple[str, str, str]:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
    domain = f"entreprise{index % 997}.example.com"
    return first, last, f"{first.lower()}.{last.lower()}.{index}@{domain}"


def _case_variant(email: str, index: int) -> str:
    """Return ``email`` with letters upper-cased after the bits of ``index``.

    Two duplicates of one address get different spellings, so the raw COPY
    reference, which has a unique index on the exact text, accepts them all.
    """
    letters = [i for i, char in enumerate(email) if char.isalpha()][:24]
    chars = list(email)
    for bit, position in enumerate(letters):
        if (index + 1) >> bit & 1:
            chars[position] = chars[position].upper()
    return "".join(chars)


def generate(rows: int, path: Path, seed: int = 7) -> list[str]:
    """Write an invented vendor file; return the addresses to suppress."""
    generator = random.Random(seed)
    suppressed = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for index in range(rows):
            first, last, email = _person(index)
            draw = generator.random()
            if draw < DUPLICATE_SHARE and index > 10:
                first, last, email = _person(generator.randrange(index))
                email = _case_variant(email, index)
            elif draw < DUPLICATE_SHARE + SUPPRESSED_SHARE:
                suppressed.append(email)
            elif draw < DUPLICATE_SHARE + SUPPRESSED_SHARE + INVALID_SHARE:
                email = email.replace("@", " at ")
            number = generator.randrange(10**7)
            phone = generator.choice(
                [f"06 {number:08d}", f"+33 7 8{number:07d}", f"01{number:08d}"]
            )
            phone = " ".join([phone[:-6], phone[-6:-4], phone[-4:-2], phone[-2:]])
            company = f"Entreprise {index % 997} SAS"
            writer.writerow(
                [first, last, email, phone, company, generator.choice(CITIES)]
            )
    return suppressed


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_tables():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE contacts_provenance, imports_rowresult, imports_stagingrow, "
            "imports_importjob, contacts_contactlist, contacts_contact CASCADE"
        )
        cursor.execute("VACUUM ANALYZE contacts_contact")


def _prospecting_activity():
    """Return the in-force B2B prospecting activity that the import requires."""
    from apps.register.models import LawfulBasis
    from apps.register.models import ProcessingActivity

    activity, _created = ProcessingActivity.objects.get_or_create(
        reference="BANC-PROSPECTION",
        defaults={
            "name": "Prospection B2B (banc d'essai)",
            "status": ProcessingActivity.Status.IN_FORCE,
            "lawful_basis": LawfulBasis.LEGITIMATE_INTERESTS,
            "concerns_recipients_profession": True,
        },
    )
    return activity


def run_registre(path: Path, suppressed_file: Path, *, again: bool = False) -> dict:
    """Import the file into a new list; with ``again``, then into a second one.

    The second import finds every contact already there, so it measures the
    merge path: each row is merged and gets a provenance row in the new list.
    """
    from apps.contacts.suppression import suppression_add

    _reset_tables()
    emails = suppressed_file.read_text().split()
    suppression_add(reason="objected", emails=emails)
    activity = _prospecting_activity()

    result = _registre_import(path, path.stem, activity)
    if again:
        second = _registre_import(path, f"{path.stem} (again)", activity)
        result["again_seconds"] = second["seconds"]
        result["again_counts"] = second["counts"]
    return result


def _registre_import(path: Path, list_name: str, activity) -> dict:
    from django.utils import timezone

    from apps.imports.services import import_job_create
    from apps.imports.services import import_job_run
    from apps.imports.services import import_job_start

    started = time.perf_counter()
    with path.open("rb") as upload:
        job = import_job_create(
            upload=upload,
            file_name=path.name,
            vendor_name="Fournisseur de banc d'essai",
            list_name=list_name,
            acquired_on=timezone.localdate() - datetime.timedelta(days=30),
            processing_activity=activity,
        )
    import_job_start(job=job, enqueue=False)
    job = import_job_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    if job.status != "done":
        sys.exit(f"Registre import failed: {job.error}")
    return {"rows": job.row_count, "seconds": elapsed, "counts": job.counts}


def _contact_resource(bulk: bool):
    from import_export import resources

    from apps.contacts.models import Contact

    collected = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)

    class ContactResource(resources.ModelResource):
        class Meta:
            model = Contact
            fields = ("first_name", "last_name", "email", "phone", "company", "city")
            import_id_fields = ("email",)
            use_bulk = bulk
            skip_diff = bulk
            force_init_instance = bulk
            batch_size = 1000

        def init_instance(self, row=None):
            return Contact(collected_at=collected)

    return ContactResource()


def _dataset(path: Path, limit: int | None):
    import tablib

    dataset = tablib.Dataset(
        headers=["first_name", "last_name", "email", "phone", "company", "city"]
    )
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        for index, row in enumerate(reader):
            if limit is not None and index >= limit:
                break
            dataset.append(row)
    return dataset


def run_import_export(path: Path, *, bulk: bool, limit: int | None) -> dict:
    _reset_tables()
    dataset = _dataset(path, limit)
    resource_ = _contact_resource(bulk)
    started = time.perf_counter()
    result = resource_.import_data(dataset, dry_run=False, raise_errors=False)
    elapsed = time.perf_counter() - started
    return {"rows": len(dataset), "seconds": elapsed, "errors": result.has_errors()}


def run_copy(path: Path) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_contact")
        cursor.execute(
            "CREATE TABLE bench_copy_contact (id bigserial PRIMARY KEY, "
            "first_name text, last_name text, email text, phone text, "
            "company text, city text)"
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_copy_contact (email)")
    started = time.perf_counter()
    with connection.cursor() as cursor, path.open("rb") as handle:
        sql = (
            "COPY bench_copy_contact (first_name, last_name, email, phone, company, "
            "city) FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)"
        )
        with cursor.cursor.copy(sql) as copy:
            while block := handle.read(1024 * 1024):
                copy.write(block)
        cursor.execute("SELECT count(*) FROM bench_copy_contact")
        rows = cursor.fetchone()[0]
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy_contact")
    return {"rows": rows, "seconds": elapsed}


def child(args) -> None:
    """Run one path in this process and print its result as JSON."""
    _setup_django()
    path = Path(args.file)
    if args.path == "registre":
        result = run_registre(path, Path(args.suppressed), again=args.again)
    elif args.path == "ie-default":
        result = run_import_export(path, bulk=False, limit=args.sample)
    elif args.path == "ie-bulk":
        result = run_import_export(path, bulk=True, limit=None)
    else:
        result = run_copy(path)
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


def _spawn(path_name: str, file: Path, extra: list[str]) -> dict:
    command = [sys.executable, __file__, "--child", path_name, "--file", str(file)]
    process = subprocess.run(command + extra, capture_output=True, text=True)
    if process.returncode != 0:
        sys.exit(f"{path_name} failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[100_000], help="File sizes in rows."
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=20_000,
        help="Rows given to django-import-export's default path (extrapolated).",
    )
    parser.add_argument(
        "--skip-bulk-above",
        type=int,
        default=0,
        help="Skip django-import-export's bulk path above this many rows (0: never).",
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="Also time Registre importing the same file into a second list, "
        "where every row merges into an existing contact.",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--suppressed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.path = args.child
        child(args)
        return

    _setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for rows in args.rows:
        file = OUT / f"contacts-{rows}.csv"
        suppressed = OUT / f"contacts-{rows}.suppressed"
        emails = generate(rows, file)
        suppressed.write_text("\n".join(emails))
        print(f"\n== {rows:,} rows ({file.stat().st_size / 1048576:.0f} MB)")
        results = {
            "copy": _spawn("copy", file, []),
            "registre": _spawn(
                "registre",
                file,
                ["--suppressed", str(suppressed), *(["--again"] if args.again else [])],
            ),
            "ie-default": _spawn(
                "ie-default", file, ["--sample", str(min(args.sample, rows))]
            ),
        }
        if not args.skip_bulk_above or rows <= args.skip_bulk_above:
            results["ie-bulk"] = _spawn("ie-bulk", file, [])
        _report(rows, results)
        file.unlink()
        suppressed.unlink()


def _report(rows: int, results: dict) -> None:
    rates = {name: r["rows"] / r["seconds"] for name, r in results.items()}
    labels = {
        "copy": "raw COPY, PK + unique e-mail index",
        "registre": "Registre importer, end to end",
        "ie-default": "django-import-export default (sample, extrapolated)",
        "ie-bulk": "django-import-export bulk",
    }
    print(f"{'path':55} {'rows/s':>9} {'time (s)':>9} {'peak RSS':>9}")
    for name, result in results.items():
        seconds = rows / rates[name]
        print(
            f"{labels[name]:55} {rates[name]:>9,.0f} {seconds:>9.1f} "
            f"{result['peak_rss_mb']:>7.0f}MB"
        )
    registre = rates["registre"]
    print(f"Registre counts: {results['registre']['counts']}")
    if "again_seconds" in results["registre"]:
        again = results["registre"]["again_seconds"]
        print(
            f"Registre, same file into a second list: {rows / again:,.0f} rows/s "
            f"({again:.1f} s), {again / (rows / registre):.2f} times the first "
            f"import's time; counts: {results['registre']['again_counts']}"
        )
    print(
        f"ratio Registre / import-export default: {registre / rates['ie-default']:.1f}x"
    )
    if "ie-bulk" in rates:
        print(
            f"ratio Registre / import-export bulk: {registre / rates['ie-bulk']:.2f}x"
        )
    print(f"ratio Registre / raw COPY: {registre / rates['copy']:.2f}")


if __name__ == "__main__":
    main()
