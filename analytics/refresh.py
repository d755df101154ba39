"""Keeping the facts and rollups current (see `analytics.models.figures`).

A request that changes is marked `Dirty` in the same transaction (`mark`, from the signals in
`analytics.signals`). `refresh` then takes the marked requests in one batch: it subtracts their
old facts from the rollups, computes the facts again and adds them — one statement each way for
every cube, day and month rows. It runs in the worker after each change is committed and every
minute (what a lost message or a stopped worker left behind), one refresh at a time.

`rebuild` recomputes every fact and every rollup from the raw tables (after loading data
outside the services, or to repair); `compare` recomputes the figures from the raw tables and
lists where the rollups differ (`manage.py analytics_check`).
"""

import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from . import cubes, facts
from .figures import next_generation
from .models import Dirty, Rollup, TicketFact

log = logging.getLogger("analytics")

# Requests per refresh batch; and per chunk of a rebuild.
BATCH = 2000
REBUILD_CHUNK = 20000
# Up to this many requests a refresh sums their change in Python; more, in SQL.
SMALL_BATCH = 50


def mark(ticket_ids):
    """Mark requests for the next refresh (in the caller's transaction). Writing the mark takes
    its row lock, so a refresh that holds it finishes first and the request is marked again."""
    now = timezone.now()
    Dirty.objects.bulk_create(
        [Dirty(ticket_id=pk, marked_at=now) for pk in sorted(set(ticket_ids))],
        update_conflicts=True,
        unique_fields=["ticket_id"],
        update_fields=["marked_at"],
    )


def _one_at_a_time():
    # Two refreshes adding to the same rollup rows in different orders could deadlock.
    if connection.vendor == "postgresql":
        cubes.execute("SELECT pg_advisory_xact_lock(%s)", [7301])


def _apply(ids, sign):
    where = f"f.ticket_id IN ({', '.join(str(int(pk)) for pk in ids)})"
    cubes.execute(cubes.upsert_sql(cubes.CUBES, where, sign))


def _take_marks(limit):
    """The first `limit` marked requests, their marks removed (given back if the refresh rolls
    back). A mark whose transaction is still open waits for the next refresh."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM analytics_dirty WHERE ticket_id IN (SELECT ticket_id FROM "
                "analytics_dirty ORDER BY ticket_id LIMIT %s FOR UPDATE SKIP LOCKED) "
                "RETURNING ticket_id",
                [limit],
            )
            return sorted(row[0] for row in cursor.fetchall())
    ids = list(Dirty.objects.order_by("ticket_id").values_list("ticket_id", flat=True)[:limit])
    Dirty.objects.filter(ticket_id__in=ids).delete()
    return ids


FACT_FIELDS = [f.name for f in TicketFact._meta.concrete_fields if f.name != "ticket_id"]


def refresh(limit=BATCH):
    """Bring the marked requests' facts and rollups up to date; return how many."""
    with transaction.atomic():
        _one_at_a_time()
        ids = _take_marks(limit)
        if not ids:
            return 0
        old = list(TicketFact.objects.filter(ticket_id__in=ids))
        new = facts.compute(ids)
        gone = set(ids) - {fact.ticket_id for fact in new}  # requests deleted since
        if len(ids) <= SMALL_BATCH:
            # The net change of a few requests, added in one statement; their facts replaced
            # in another.
            cubes.upsert_rows(cubes.deltas(new, 1, cubes.deltas(old, -1, {})))
            TicketFact.objects.bulk_create(
                new, update_conflicts=True, unique_fields=["ticket_id"], update_fields=FACT_FIELDS
            )
            if gone:
                TicketFact.objects.filter(ticket_id__in=gone).delete()
        else:
            _apply(ids, -1)
            TicketFact.objects.filter(ticket_id__in=ids).delete()
            TicketFact.objects.bulk_create(new, batch_size=1000)
            _apply(ids, 1)
        transaction.on_commit(next_generation)
    return len(ids)


def refresh_all():
    """Refresh until nothing is marked; return how many requests."""
    done = 0
    while count := refresh():
        done += count
    return done


def rebuild(log=log.info):
    """Every fact and rollup again from the raw tables; returns {"facts": n, "seconds": s}."""
    from tickets.models import Ticket

    started = time.monotonic()
    with transaction.atomic():
        _one_at_a_time()
        Dirty.objects.all().delete()
        TicketFact.objects.all().delete()
        Rollup.objects.all().delete()
        ids = Ticket.objects.order_by("pk").values_list("pk", flat=True)
        count, last = 0, 0
        while chunk := list(ids.filter(pk__gt=last)[:REBUILD_CHUNK]):
            TicketFact.objects.bulk_create(facts.compute(chunk), batch_size=2000)
            last = chunk[-1]
            count += len(chunk)
            log(f"facts: {count:,}")
        last_fact = 0
        for start in range(0, last + 1, REBUILD_CHUNK * 5):
            where = f"f.ticket_id > {start} AND f.ticket_id <= {start + REBUILD_CHUNK * 5}"
            cubes.execute(cubes.upsert_sql(cubes.CUBES, where, 1))
            last_fact = start
        log(f"rollups: {Rollup.objects.count():,} rows (to request {last_fact:,})")
        transaction.on_commit(next_generation)
    if connection.vendor == "postgresql":
        # The reports read a cube's rows of a range: kept side by side on disk, they are a few
        # pages instead of one page per row (the rows of a rebuild come in request order).
        cubes.execute("CLUSTER analytics_rollup USING rollup_key")
        cubes.execute("ANALYZE analytics_rollup")
        cubes.execute("ANALYZE analytics_ticketfact")
    return {"facts": count, "seconds": round(time.monotonic() - started, 1)}


def _fact_values(fact):
    return tuple(
        getattr(fact, f.attname)
        for f in TicketFact._meta.concrete_fields
        if f.attname != "ticket_id"
    )


def compare(log=log.info):
    """Compute every fact and rollup again from the raw tables, without changing anything, and
    return the differences: {"facts": n, "rollups": n, "examples": [...]}. Nothing is marked
    for a refresh while comparing (the marks that wait are left to it)."""
    from tickets.models import Ticket

    examples, fact_diffs = [], 0
    waiting = set(Dirty.objects.values_list("ticket_id", flat=True))
    ids = Ticket.objects.order_by("pk").values_list("pk", flat=True)
    last, seen = 0, set()
    while chunk := list(ids.filter(pk__gt=last)[:REBUILD_CHUNK]):
        fresh = {f.ticket_id: _fact_values(f) for f in facts.compute(chunk)}
        stored = {
            f.ticket_id: _fact_values(f) for f in TicketFact.objects.filter(ticket_id__in=chunk)
        }
        for pk in chunk:
            if pk not in waiting and fresh.get(pk) != stored.get(pk):
                fact_diffs += 1
                if len(examples) < 10:
                    examples.append(f"request {pk}: fact differs")
        seen.update(chunk)
        last = chunk[-1]
    orphans = TicketFact.objects.exclude(ticket_id__in=waiting).filter(ticket_id__gt=last).count()
    fact_diffs += orphans
    log(f"facts: {len(seen):,} compared, {fact_diffs} differ")

    columns = ", ".join(["cube", "grain", "period", *cubes.DIMENSIONS, *cubes.COLUMNS])
    nonzero = " OR ".join(f"{c} <> 0" for c in cubes.COLUMNS)
    with transaction.atomic():
        cubes.execute(
            "CREATE TEMPORARY TABLE analytics_rollup_expected AS "
            "SELECT * FROM analytics_rollup WHERE 1 = 0"
        )
        cubes.execute(
            "CREATE UNIQUE INDEX analytics_rollup_expected_key ON analytics_rollup_expected "
            f"(cube, grain, period, {', '.join(cubes.DIMENSIONS)})"
        )
        if connection.vendor == "postgresql":
            cubes.execute("ALTER TABLE analytics_rollup_expected ALTER COLUMN id DROP NOT NULL")
        cubes.execute(cubes.upsert_sql(cubes.CUBES, "1 = 1", 1, table="analytics_rollup_expected"))
        rows = []
        for one, other in (
            ("analytics_rollup", "analytics_rollup_expected"),
            ("analytics_rollup_expected", "analytics_rollup"),
        ):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {columns} FROM {one} WHERE {nonzero} "  # noqa: S608 (names from code)
                    f"EXCEPT SELECT {columns} FROM {other} WHERE {nonzero}"
                )
                rows += cursor.fetchall()
        cubes.execute("DROP TABLE analytics_rollup_expected")
    for row in rows[: max(0, 10 - len(examples))]:
        examples.append(f"rollup cube {row[0]} {row[1]} {row[2]}: differs")
    log(f"rollups: {len(rows)} rows differ")
    return {"facts": fact_diffs, "rollups": len(rows), "examples": examples}
