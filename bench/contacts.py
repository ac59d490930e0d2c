"""Benchmark the contact pages and searches on a large PostgreSQL table.

Seeds ``--count`` invented contacts (default 5 million) with ``bench.seed``.
Then it measures, in one run, the queries behind the list page (unfiltered
and filtered), exact e-mail search and name or company fragment search. It
also compares page 1 with a page deep in the table and times the contact
page. Each figure is printed with its target and with a ratio to a baseline
measured in the same run. Run it against a database of its own, then drop
that database::

    createdb -h 127.0.0.1 -U postgres registre_bench_contacts
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registre_bench_contacts \\
        .venv/bin/python bench/contacts.py --count 5000000
    dropdb -h 127.0.0.1 -U postgres registre_bench_contacts
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.contacts.models import Contact  # noqa: E402
from apps.contacts.search import fold_search_text  # noqa: E402
from apps.contacts.selectors import FRAGMENT_PROBE_LIMIT  # noqa: E402
from apps.contacts.selectors import _encode_cursor  # noqa: E402
from apps.contacts.selectors import contact_count_bounded  # noqa: E402
from apps.contacts.selectors import contact_count_limit  # noqa: E402
from apps.contacts.selectors import contact_page  # noqa: E402
from apps.contacts.selectors import contact_segment  # noqa: E402
from bench.seed import seed_contacts  # noqa: E402

REPEATS = 20
FRAGMENTS = 60


def _timed(function, repeats: int = REPEATS) -> list[float]:
    """Run ``function`` ``repeats`` times after one warm-up; return milliseconds."""
    function()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _report(label: str, timings: list[float], target: str = "", baseline=None):
    median = statistics.median(timings)
    line = f"{label:<48} median {median:8.2f} ms  p95 {_p95(timings):8.2f} ms"
    if baseline:
        line += f"  ratio {median / baseline:5.2f}"
    if target:
        line += f"  target {target}"
    print(line, flush=True)
    return median


def _list_page(filters: dict, after: str = "", sort: str = "newest"):
    segment = contact_segment(filters=filters)
    page = contact_page(segment, sort=sort, after=after)
    contact_count_bounded(segment, limit=contact_count_limit(filters))
    return page


def _cursor_at_depth(sort: str, depth: int) -> str:
    """Return the cursor of the row ``depth`` rows into the ordering (setup only)."""
    with connection.cursor() as cursor:
        if sort == "newest":
            cursor.execute(
                "SELECT id, id FROM contacts_contact ORDER BY id DESC "
                "OFFSET %s LIMIT 1",
                [depth],
            )
        else:
            cursor.execute(
                "SELECT last_name, id FROM contacts_contact ORDER BY last_name, id "
                "OFFSET %s LIMIT 1",
                [depth],
            )
        value, row_id = cursor.fetchone()
    return _encode_cursor([value, row_id])


def _plan_uses_seq_scan(sql: str, params) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return "Seq Scan on contacts_contact" in plan


def _plan_uses_index(queryset, index: str) -> bool:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return index in plan


def _fragments(sample_emails: list[str], rng: random.Random) -> list[str]:
    """Pick 3- to 5-letter fragments of last names and company words."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_name, company FROM contacts_contact "
            "TABLESAMPLE SYSTEM (1) LIMIT 500"
        )
        rows = cursor.fetchall()
    fragments = []
    for last_name, company in rows:
        source = fold_search_text(rng.choice([last_name, company.split(" ")[1]]))
        length = rng.randint(3, min(5, len(source)))
        start = rng.randint(0, len(source) - length)
        fragments.append(source[start : start + length])
    rng.shuffle(fragments)
    return fragments[:FRAGMENTS]


def _fragment_band(fragment: str) -> str:
    """Return how many contacts contain ``fragment``, as a band (setup only)."""
    matches = Contact.objects.filter(search_text__contains=fragment)[:50_001].count()
    if matches <= FRAGMENT_PROBE_LIMIT:
        return f"with at most {FRAGMENT_PROBE_LIMIT:,} matches"
    if matches <= 50_000:
        return f"with {FRAGMENT_PROBE_LIMIT:,} to 50,000 matches"
    return "with over 50,000 matches"


def _copy_rate_with_and_without_trigram(rows: int) -> tuple[float, float]:
    """Return contacts per second written by COPY without and with the GIN index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes "
            "WHERE indexname = 'contact_search_text_trgm_idx'"
        )
        definition = cursor.fetchone()[0]
        cursor.execute("DROP INDEX contact_search_text_trgm_idx")
    start = time.perf_counter()
    seed_contacts(connection, count=rows, suppressed=0, random_seed=11)
    without = rows / (time.perf_counter() - start)
    with connection.cursor() as cursor:
        cursor.execute(definition)
    start = time.perf_counter()
    seed_contacts(connection, count=rows, suppressed=0, random_seed=12)
    with_index = rows / (time.perf_counter() - start)
    return without, with_index


def _sales_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(username="bench-sales")
    user.groups.add(Group.objects.get(name="sales"))
    client = Client()
    client.force_login(user)
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--count", type=int, default=5_000_000, help="Contacts to seed (rows)."
    )
    parser.add_argument(
        "--skip-seed",
        action="store_true",
        help="Measure the contacts already in the database.",
    )
    parser.add_argument(
        "--copy-rows",
        type=int,
        default=50_000,
        help="Rows per COPY in the index-cost measurement (0 skips it).",
    )
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("DATABASE_URL must point to PostgreSQL; this benchmark needs COPY.")
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    rng = random.Random(7)

    call_command("migrate", verbosity=0)
    if not options.skip_seed:
        start = time.perf_counter()
        summary = seed_contacts(connection, count=options.count, defer_indexes=True)
        elapsed = time.perf_counter() - start
        print(
            f"seeded {summary.contacts} contacts, {summary.provenances} provenance "
            f"rows, {summary.suppression_entries} suppression entries in "
            f"{elapsed:.0f} s ({summary.contacts / elapsed:,.0f} contacts/s, "
            "indexes built after the copy)",
            flush=True,
        )
        sample_emails = summary.sample_emails
        list_id = summary.list_ids[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT email FROM contacts_contact TABLESAMPLE SYSTEM (1) LIMIT 200"
            )
            sample_emails = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT MIN(id) FROM contacts_contactlist")
            list_id = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
            ["contacts_contact"],
        )
        total = cursor.fetchone()[0]
        cursor.execute("SELECT MIN(id), MAX(id) FROM contacts_contact")
        min_id, max_id = cursor.fetchone()
    print(f"contacts in table (planner estimate): {total:,}", flush=True)

    # Baseline: a primary-key lookup, the cheapest query on the table.
    some_id = rng.randint(min_id, max_id)
    pk_lookup = _report(
        "baseline: primary-key lookup",
        _timed(lambda: list(contact_segment(filters={}).filter(pk=some_id))),
    )

    page_one = _report(
        "list page 1, unfiltered (newest)", _timed(lambda: _list_page({}))
    )
    depth = max(min(4_000_000, total - 100), 0)
    deep_cursor = _cursor_at_depth("newest", depth)
    _report(
        f"list page {depth:,} rows deep (newest)",
        _timed(lambda: _list_page({}, after=deep_cursor)),
        "within 2x page 1",
        page_one,
    )
    name_one = _report(
        "list page 1, sorted by last name", _timed(lambda: _list_page({}, sort="name"))
    )
    deep_name = _cursor_at_depth("name", depth)
    _report(
        f"list page {depth:,} rows deep (last name)",
        _timed(lambda: _list_page({}, after=deep_name, sort="name")),
        "within 2x page 1",
        name_one,
    )
    filtered = {"contact_list": list_id, "country": "FR", "audience": "b2b"}
    _report(
        "list page 1, filtered (list, country, audience)",
        _timed(lambda: _list_page(filtered)),
        "",
        page_one,
    )
    _report(
        "list page 1, contactable only",
        _timed(lambda: _list_page({"contactable": "yes"})),
        "",
        page_one,
    )

    emails = iter(sample_emails * REPEATS * 2)
    _report(
        "search by exact e-mail",
        _timed(lambda: _list_page({"q": next(emails)})),
        "< 5 ms",
        pk_lookup,
    )
    lookup_emails = iter(sample_emails * REPEATS * 2)
    _report(
        "exact e-mail lookup (the query alone)",
        _timed(lambda: list(Contact.objects.filter(email=next(lookup_emails))[:51])),
        "< 5 ms",
        pk_lookup,
    )
    sample = Contact.objects.filter(email=sample_emails[0]).first()
    exact_lookups = {
        "email": (sample.email, "contact_email_idx"),
        "phone": (sample.phone or "+33100000000", "contact_phone_idx"),
        "email_hash": (sample.email_hash, "contact_email_hash_idx"),
        "phone_hash": (sample.phone_hash or "0" * 64, "contact_phone_hash_idx"),
    }
    for name, (value, index) in exact_lookups.items():
        used = _plan_uses_index(Contact.objects.filter(**{name: value}), index)
        print(f"exact {name} lookup plan uses {index}: {'yes' if used else 'NO'}")
    local_parts = iter([email.split("@")[0] for email in sample_emails] * REPEATS * 2)
    _report(
        "search by the part of an e-mail before the @",
        _timed(lambda: _list_page({"q": next(local_parts)})),
        "p95 < 100 ms",
        page_one,
    )
    fragments = _fragments(sample_emails, rng)
    fragment_timings = []
    by_band: dict[str, list[float]] = {}
    seq_scans = 0
    for fragment in fragments:
        segment = contact_segment(filters={"q": fragment})
        sql, params = segment.order_by("-id")[:51].query.sql_with_params()
        seq_scans += _plan_uses_seq_scan(sql, params)
        start = time.perf_counter()
        _list_page({"q": fragment})
        elapsed = (time.perf_counter() - start) * 1000
        fragment_timings.append(elapsed)
        by_band.setdefault(_fragment_band(fragment), []).append(elapsed)
    _report(
        f"search by fragment ({len(fragments)} fragments)",
        fragment_timings,
        "p95 < 100 ms",
        page_one,
    )
    print(f"fragment plans with a sequential scan of contacts: {seq_scans}")
    for band, timings in sorted(by_band.items()):
        _report(f"  fragments {band} ({len(timings)})", timings, "p95 < 100 ms")

    client = _sales_client()
    contact_ids = iter([rng.randint(min_id, max_id) for _ in range(REPEATS + 1)])

    def contact_page_view():
        response = client.get(f"/contacts/{next(contact_ids)}/")
        assert response.status_code in (200, 404), response.status_code

    _report(
        "contact page (full view, rendered)", _timed(contact_page_view), "", page_one
    )

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/contacts/")
    assert response.status_code == 200, response.status_code
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    unbounded = [sql for sql in counts if "LIMIT" not in sql]
    offsets = [q["sql"] for q in captured.captured_queries if "OFFSET" in q["sql"]]
    print(
        f"list page view: {len(captured.captured_queries)} queries, "
        f"{len(unbounded)} unbounded COUNT, {len(offsets)} with OFFSET"
    )
    _report(
        "list page (full view, rendered)",
        _timed(lambda: client.get("/contacts/")),
        "",
        page_one,
    )

    if options.copy_rows:
        without, with_index = _copy_rate_with_and_without_trigram(options.copy_rows)
        print(
            f"COPY of {options.copy_rows:,} contacts into the full table: "
            f"{without:,.0f} rows/s without the trigram index, {with_index:,.0f} "
            f"rows/s with it (ratio {with_index / without:.2f})"
        )


if __name__ == "__main__":
    main()
