"""Benchmark erasure and the access package on a large PostgreSQL database.

Seeds ``--count`` invented contacts (default 5 million) with ``bench.seed``,
then measures, in one run:

- erasing one person through ``request_erase`` (every app's eraser, the
  suppression hashes and the proof of erasure, in one transaction): the
  database time of its queries (p50, p99), and the wall time with the commit;
- the same erasure reached by e-mail, as ``manage.py erase_subject`` does it
  (indexed look-up of the contacts, then the erasure with their ids);
- building the access package (ZIP with HTML, PDF, JSON and CSV) of one person;
- the search across every personal-data source, for information.

A primary-key read of one contact, measured in the same run, is the baseline of
every ratio. Run it against a database of its own, then drop that database::

    createdb -h 127.0.0.1 -U postgres registre_bench_requests
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registre_bench_requests \\
        .venv/bin/python bench/subject_requests.py --count 5000000
    dropdb -h 127.0.0.1 -U postgres registre_bench_requests
"""

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The database is the benchmark's own, so its files are too: a new folder that
# keeps no upload, as after the import files' retention period.
os.environ.setdefault("REGISTRE_DATA_DIR", tempfile.mkdtemp(prefix="registre-bench-"))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.contacts.models import Contact  # noqa: E402
from apps.subject_requests.models import SubjectRequest  # noqa: E402
from apps.subject_requests.services import request_build_package  # noqa: E402
from apps.subject_requests.services import request_create  # noqa: E402
from apps.subject_requests.services import request_erase  # noqa: E402
from apps.subject_requests.services import request_link_contacts  # noqa: E402
from apps.subject_requests.services import request_search  # noqa: E402
from apps.subject_requests.services import request_verify_identity  # noqa: E402
from bench.seed import seed_contacts  # noqa: E402

TABLE_NAME = re.compile(
    r"\b(core|contacts|imports|subject_requests|breaches|retention|register|auth)"
    r"_[a-z_]+"
)
APP_OF_TABLE = re.compile(
    r'"(core|contacts|imports|subject_requests|breaches|'
    r"retention|register|auth)_"
)


class QueryTimer:
    """Sum the time spent in the database driver's ``execute`` calls.

    The time includes the round trip to the server on 127.0.0.1, not the
    commit, which Django sends outside ``execute``. ``by_app`` splits it by
    the app whose table the statement names first.
    """

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0
        self.by_app = Counter()
        self.statements: list[tuple[str, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.seconds += elapsed
            self.queries += 1
            match = APP_OF_TABLE.search(sql)
            self.by_app[match.group(1) if match else "other"] += elapsed
            self.statements.append((_statement_label(sql), elapsed * 1000))


def _statement_label(sql: str) -> str:
    """Return the statement's verb and first table (``INSERT core_auditevent``)."""
    verb = sql.lstrip().split(None, 1)[0].upper()
    match = TABLE_NAME.search(sql)
    return f"{verb} {match.group(0)}" if match else verb


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _report(label, values, *, baseline=None, target=""):
    median = statistics.median(values)
    line = (
        f"{label:<44} n={len(values):<4} p50 {median:8.2f} ms  "
        f"p99 {_percentile(values, 0.99):8.2f} ms"
    )
    if baseline:
        line += f"  p99/baseline {_percentile(values, 0.99) / baseline:6.1f}"
    if target:
        line += f"  target {target}"
    print(line, flush=True)


def _new_request(*, kind, contact, dpo):
    request = request_create(
        kind=kind,
        channel=SubjectRequest.Channel.EMAIL,
        requester_name=contact.full_name,
        requester_email=contact.email,
        received_at=timezone.now() - timedelta(days=1),
        handler=dpo,
    )
    request_verify_identity(
        request=request, verified=True, method="benchmark", actor=dpo
    )
    return request


def _baseline(contact_ids: list[int]) -> float:
    timings = []
    for contact_id in contact_ids:
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            Contact.objects.filter(pk=contact_id).values_list("email").first()
        timings.append(timer.seconds * 1000)
    median = statistics.median(timings)
    print(f"{'baseline: one contact by primary key':<44} p50 {median:8.3f} ms")
    return median


PLAN_CHECKS = {
    "contact by e-mail or phone": (
        "SELECT id FROM contacts_contact WHERE email = %(email)s OR phone = %(phone)s"
    ),
    "provenance by contact": (
        "SELECT id FROM contacts_provenance WHERE contact_id = %(id)s"
    ),
    "consents by contact": (
        "SELECT id FROM contacts_consentrecord WHERE contact_id = %(id)s"
    ),
    "campaign files by contact": (
        "SELECT export_id FROM contacts_campaignexportcontact WHERE contact_id = %(id)s"
    ),
    "request links by contact": (
        "SELECT id FROM subject_requests_subjectrequest_contacts "
        "WHERE contact_id = %(id)s"
    ),
    "suppression by hash": (
        "SELECT id FROM contacts_suppressionentry WHERE identifier_hash = %(hash)s"
    ),
}


def _scan_nodes(plan: dict) -> list[str]:
    nodes = [f"{plan['Node Type']} {plan.get('Relation Name', '')}".strip()]
    for child in plan.get("Plans", []):
        nodes.extend(_scan_nodes(child))
    return nodes


def _check_plans(contact: Contact) -> None:
    """Print the scan nodes of each look-up that erasure makes, to show indexes."""
    params = {
        "email": contact.email,
        "phone": contact.phone,
        "id": contact.pk,
        "hash": contact.email_hash,
    }
    with connection.cursor() as cursor:
        for label, sql in PLAN_CHECKS.items():
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0][0]["Plan"]
            nodes = [n for n in _scan_nodes(plan) if "Scan" in n]
            flag = "  <- sequential scan" if any("Seq Scan" in n for n in nodes) else ""
            print(f"  plan {label:<28} {', '.join(nodes)}{flag}", flush=True)


def _bench_erase(sample: list[Contact], dpo, baseline: float) -> None:
    query_ms, wall_ms, counts = [], [], []
    by_app = Counter()
    by_position: dict[int, tuple[str, list[float]]] = {}
    for contact in sample:
        request = _new_request(kind="erasure", contact=contact, dpo=dpo)
        request_link_contacts(request=request, contact_ids=[contact.pk], actor=dpo)
        timer = QueryTimer()
        start = time.perf_counter()
        with connection.execute_wrapper(timer):
            proof = request_erase(request=request, actor=dpo)
        wall_ms.append((time.perf_counter() - start) * 1000)
        query_ms.append(timer.seconds * 1000)
        counts.append(timer.queries)
        by_app.update(timer.by_app)
        for position, (label, ms) in enumerate(timer.statements):
            by_position.setdefault(position, (label, []))[1].append(ms)
    _report(
        "erase one person: DB query time", query_ms, baseline=baseline, target="< 5 ms"
    )
    _report("erase one person: wall time with commit", wall_ms, baseline=baseline)
    print(f"  queries per erasure: {statistics.median(counts):.0f}")
    print(f"  records removed by the last erasure: {proof.record_counts}")
    shares = ", ".join(
        f"{app} {seconds * 1000 / len(sample):.2f}"
        for app, seconds in by_app.most_common()
    )
    print(f"  mean DB time per erasure by app (ms): {shares}", flush=True)
    print("  each statement in order, p50 / p99 (ms):")
    for position, (label, values) in sorted(by_position.items()):
        print(
            f"    {position + 1}. {label:<48} {statistics.median(values):6.2f} / "
            f"{_percentile(values, 0.99):6.2f}  (n={len(values)})",
            flush=True,
        )


def _bench_erase_by_email(sample: list[Contact], dpo, baseline: float) -> None:
    query_ms = []
    for contact in sample:
        request = _new_request(kind="erasure", contact=contact, dpo=dpo)
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            ids = list(
                Contact.objects.filter(
                    Q(email=contact.email) | Q(phone=contact.phone)
                ).values_list("pk", flat=True)
            )
            request_erase(
                request=request,
                actor=dpo,
                extra_emails=[contact.email],
                extra_contact_ids=ids,
            )
        query_ms.append(timer.seconds * 1000)
    _report("erase by e-mail (look-up, erase): DB", query_ms, baseline=baseline)


def _bench_package(sample: list[Contact], dpo, baseline: float) -> None:
    wall_ms, query_ms = [], []
    for contact in sample:
        request = _new_request(kind="access", contact=contact, dpo=dpo)
        request_link_contacts(request=request, contact_ids=[contact.pk], actor=dpo)
        timer = QueryTimer()
        start = time.perf_counter()
        with connection.execute_wrapper(timer):
            request_build_package(request=request, actor=dpo)
        wall_ms.append((time.perf_counter() - start) * 1000)
        query_ms.append(timer.seconds * 1000)
    _report("access package: wall time", wall_ms, baseline=baseline, target="< 1000 ms")
    _report("access package: DB query time", query_ms, baseline=baseline)


def _bench_search(sample: list[Contact], dpo, baseline: float) -> None:
    wall_ms = []
    for contact in sample:
        request = _new_request(kind="access", contact=contact, dpo=dpo)
        start = time.perf_counter()
        request_search(request=request, actor=dpo)
        wall_ms.append((time.perf_counter() - start) * 1000)
    _report("search every source (e-mail, name): wall", wall_ms, baseline=baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--count",
        type=int,
        default=5_000_000,
        help="number of contacts to seed when the database has none",
    )
    parser.add_argument(
        "--erasures",
        type=int,
        default=200,
        help="number of people erased in each erasure measure",
    )
    parser.add_argument(
        "--packages", type=int, default=30, help="number of access packages built"
    )
    parser.add_argument(
        "--searches", type=int, default=5, help="number of person searches run"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=6,
        help="seed of the sample; change it to measure again on the same "
        "database, whose sampled people the previous run erased",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("DATABASE_URL must point to PostgreSQL; this benchmark needs COPY.")

    call_command("migrate", verbosity=0)
    if not Contact.objects.exists():
        start = time.perf_counter()
        seed_contacts(connection, count=args.count, defer_indexes=True)
        print(f"seeded {args.count} contacts in {time.perf_counter() - start:.0f} s")
    total = Contact.objects.count()
    print(f"contacts in the database: {total}")

    dpo, _ = get_user_model().objects.get_or_create(
        username="bench-dpo", defaults={"email": "bench-dpo@example.com"}
    )
    first = Contact.objects.order_by("pk").values_list("pk", flat=True).first()
    last = Contact.objects.order_by("-pk").values_list("pk", flat=True).first()
    rng = random.Random(args.seed)
    sample_size = args.erasures * 2 + args.packages + args.searches
    ids = rng.sample(range(first, last + 1), min(sample_size * 2, last - first + 1))
    people = list(Contact.objects.filter(pk__in=ids).exclude(email=""))
    rng.shuffle(people)

    baseline = _baseline([person.pk for person in people[:200]])
    erase_sample = people[: args.erasures]
    by_email_sample = people[args.erasures : args.erasures * 2]
    package_sample = people[args.erasures * 2 : args.erasures * 2 + args.packages]
    search_sample = people[args.erasures * 2 + args.packages : sample_size]

    _check_plans(people[-1])
    _bench_package(package_sample, dpo, baseline)
    _bench_erase(erase_sample, dpo, baseline)
    _bench_erase_by_email(by_email_sample, dpo, baseline)
    _bench_search(search_sample, dpo, baseline)


if __name__ == "__main__":
    main()
