"""The every-minute timer over 1,000,000 open tickets (issue "Time …").

Targets, measured in the same run on PostgreSQL:
  - with nothing newly due, one run of `tickets.timers.every_minute` takes under 200 ms;
  - with 100,000 tickets newly breached it takes at most 3× the time PostgreSQL needs for one
    plain set-based UPDATE of those same rows;
  - the number of SQL statements per run does not grow with the number of tickets.

The data: the ticket benchmark's data set (bench/generate.py, 1,000,000 tickets) in its own
database (generated when it is missing or smaller), in which every ticket is then made open,
with SLA clocks running and due a month from now.

    python bench/sla_timer.py [--tickets 1000000] [--due 100000]
"""

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aftersales_bench_sla"


def ticket_count(url):
    import psycopg

    parts = urlsplit(url)
    try:
        with psycopg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username,
            dbname=parts.path.lstrip("/"),
        ) as conn:
            return conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
    except psycopg.Error:
        return 0


def generate(url, tickets):
    """The ticket benchmark's data set (bench/generate.py), in this benchmark's own database."""
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "bench.generate", "--tickets", str(tickets), "--fresh"]
        + ["--database-url", url],
        cwd=BASE_DIR,
        check=True,
    )


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@contextmanager
def counting():
    from django.db import connection

    statements = []

    def wrapper(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield statements


def prepare_all_open(now):
    """Every ticket open, clocks running, everything due in a month (nothing due now)."""
    from django.db import connection

    later = now + timedelta(days=30)
    with connection.cursor() as c:
        c.execute(
            """
            UPDATE tickets_ticket SET
              state = CASE id %% 3 WHEN 0 THEN 'pending_assignment' WHEN 1 THEN 'assigned'
                      ELSE 'in_service' END,
              requested_date = (%(later)s)::date,
              response_met_at = NULL, arrival_met_at = NULL, resolution_met_at = NULL,
              response_warned_at = NULL, arrival_warned_at = NULL, resolution_warned_at = NULL,
              response_breached_at = NULL, arrival_breached_at = NULL,
              resolution_breached_at = NULL,
              response_due = %(later)s, arrival_due = %(later)s + interval '1 hour',
              resolution_due = %(later)s + interval '2 hours',
              response_warn_at = %(later)s - interval '1 hour',
              arrival_warn_at = %(later)s, resolution_warn_at = %(later)s + interval '1 hour',
              sla_due = %(later)s, sla_warn_at = %(later)s - interval '1 hour',
              sla_check_at = %(later)s - interval '1 hour',
              revisit_due = NULL, revisit_overdue_at = NULL
            """,
            {"later": later},
        )
        c.execute("SELECT count(*) FROM tickets_ticket WHERE sla_check_at IS NOT NULL")
        (open_count,) = c.fetchone()
    vacuum()
    return open_count


def make_due(count, now):
    """`count` tickets whose response target passed its due time a minute ago."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            """
            UPDATE tickets_ticket SET response_due = %(due)s, response_warn_at = %(warn)s,
                   sla_due = %(due)s, sla_warn_at = %(warn)s, sla_check_at = %(warn)s
            WHERE id IN (SELECT id FROM tickets_ticket ORDER BY id LIMIT %(n)s)
            """,
            {"due": now - timedelta(minutes=1), "warn": now - timedelta(minutes=10), "n": count},
        )
    vacuum()


def vacuum():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    ) as conn:
        conn.execute("VACUUM ANALYZE tickets_ticket")


def plain_update_seconds(now):
    """PostgreSQL's own time for one set-based UPDATE of the due rows (rolled back)."""
    from django.db import connection, transaction

    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as c:
            c.execute(
                "UPDATE tickets_ticket SET response_breached_at = %s WHERE sla_check_at <= %s",
                [now, now],
            )
            touched = c.rowcount
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, touched


def timed_run(now):
    from tickets import timers

    with counting() as statements:
        started = time.perf_counter()
        counts = timers.every_minute(now)
        seconds = time.perf_counter() - started
    return seconds, counts, len(statements)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SLA_URL", DATABASE_URL))
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=100_000)
    args = parser.parse_args()
    assert "bench" in args.database_url, "the benchmark only writes to databases named *bench*"

    if ticket_count(args.database_url) < args.tickets:
        started = time.perf_counter()
        generate(args.database_url, args.tickets)
        print(f"generated {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s")
    setup_django(args.database_url)
    from django.utils import timezone

    now = timezone.now()
    open_count = prepare_all_open(now)
    print(f"open tickets with running clocks: {open_count:,}")

    idle = [timed_run(now) for _ in range(7)]
    idle_times = [s for s, _c, _n in idle]
    idle_statements = idle[-1][2]
    idle_median = statistics.median(idle_times)
    print(
        f"nothing due: median {idle_median * 1000:.1f} ms, max {max(idle_times) * 1000:.1f} ms,"
        f" {idle_statements} SQL statements"
    )

    make_due(args.due, now)
    plain, touched = plain_update_seconds(now)
    busy, counts, busy_statements = timed_run(now)
    print(f"plain UPDATE of {touched:,} rows: {plain:.3f} s")
    print(
        f"every_minute with {touched:,} newly breached: {busy:.3f} s "
        f"({busy / plain:.2f}× the plain UPDATE), {busy_statements} SQL statements, {counts}"
    )
    again, counts_again, again_statements = timed_run(now)
    print(f"second run right after: {again * 1000:.1f} ms, {counts_again}")

    checks = {
        "nothing due < 200 ms": idle_median < 0.2,
        "100k breached ≤ 3× plain UPDATE": busy <= 3 * plain,
        "statements do not grow": busy_statements <= idle_statements + 10,
        "second run changes nothing": not any(counts_again.values()),
    }
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    out = BASE_DIR / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"sla-timer-{now:%Y%m%d-%H%M}.json").write_text(
        json.dumps(
            {
                "open_tickets": open_count,
                "idle_ms": [round(s * 1000, 2) for s in idle_times],
                "idle_statements": idle_statements,
                "due": touched,
                "plain_update_s": round(plain, 3),
                "busy_s": round(busy, 3),
                "busy_statements": busy_statements,
                "checks": checks,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
