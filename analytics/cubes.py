"""Which figures the rollups hold, and the SQL that keeps them.

Every measure belongs to one event of a request and is summed on the day (and in the month) the
event happened: a request entered on 1 March and closed on 3 March counts as opened on the 1st
and as closed (with its rounds, hours, fees …) on the 3rd. The reports divide these sums (SLA
compliance = met in time / decided), so every figure over any range is a sum of rollup rows.

A cube is a set of dimensions; its rollup rows hold the sums per day and per month for every
combination of those dimensions that occurs (the others hold 0 / ''). A report reads the
smallest cube holding the dimensions it groups and filters by (`pick`); where none does, it sums
the facts themselves (`analytics.figures`).
"""

from django.db import connection

from .models.figures import EVENTS, RESOLUTION_BUCKETS

DIMENSIONS = (
    "service_point_id",
    "engineer_id",
    "product_line_id",
    "product_model_id",
    "problem_type_id",
    "agreement_id",
    "customer_id",
    "priority",
    "service_type",
    "customer_level",
)
TEXT_DIMENSIONS = {"priority", "service_type", "customer_level"}

# Each event's measures: (rollup column, SQL over the fact row `f`).
MEASURES = {
    "created": [("opened", "1"), ("repeat30", "f.repeat30"), ("repeat90", "f.repeat90")],
    "processed": [("processed", "1")],
    "closed": [
        ("closed", "1"),
        ("first_time_fix", "f.first_time_fix"),
        ("rounds", "f.rounds"),
        ("visits", "f.visits"),
        ("resolution_minutes", "f.resolution_minutes"),
        *[
            (f"resolved_in_{k}", f"CASE WHEN f.resolution_bucket = {k} THEN 1 ELSE 0 END")
            for k in range(len(RESOLUTION_BUCKETS) + 1)
        ],
        ("labour_hours", "f.labour_hours"),
        ("fees", "f.fees"),
        ("charged", "f.charged"),
        ("parts", "f.parts"),
    ],
    "response": [("response_ok", "f.response_ok"), ("response_late", "1 - f.response_ok")],
    "arrival": [("arrival_ok", "f.arrival_ok"), ("arrival_late", "1 - f.arrival_ok")],
    "resolution": [
        ("resolution_ok", "f.resolution_ok"),
        ("resolution_late", "1 - f.resolution_ok"),
    ],
    "revisit": [
        ("revisited", "f.revisits"),
        ("revisit_on_time", "f.revisits_on_time"),
        ("scored", "f.revisits_scored"),
        ("score_sum", "f.revisit_score_sum"),
    ],
}
assert set(MEASURES) == set(EVENTS)
COLUMNS = [column for event in EVENTS for column, _sql in MEASURES[event]]

CUBES = {
    0: (),
    1: ("service_point_id",),
    2: ("product_line_id",),
    3: ("customer_level",),
    4: ("agreement_id",),
    5: ("service_point_id", "product_line_id", "customer_level"),
    6: ("problem_type_id", "product_line_id"),
    7: ("product_model_id", "product_line_id"),
    8: ("service_type",),
    9: ("engineer_id", "service_point_id"),
    10: ("priority",),
    11: ("customer_id", "customer_level"),
}
# The order in which `pick` tries them: the fewest rows first.
BY_SIZE = (0, 3, 10, 8, 2, 1, 5, 6, 7, 9, 4, 11)


def pick(dimensions):
    """The smallest cube holding all of `dimensions`, or None."""
    wanted = set(dimensions)
    for cube in BY_SIZE:
        if wanted <= set(CUBES[cube]):
            return cube
    return None


def events_sql(where_of):
    """One row per event of the facts `where_of(event)` selects (SQL; `f` is the fact):
    day, month, the dimensions and every measure (0 where the event has none)."""
    branches = []
    for event in EVENTS:
        own = dict(MEASURES[event])
        measures = ", ".join(f"{own.get(column, '0')} AS {column}" for column in COLUMNS)
        branches.append(
            f"SELECT f.{event}_day AS day, f.{event}_month AS month, "
            f"{', '.join('f.' + d for d in DIMENSIONS)}, {measures} "
            f"FROM analytics_ticketfact f WHERE f.{event}_day IS NOT NULL AND ({where_of(event)})"
        )
    return " UNION ALL ".join(branches)


def _zero(dimension):
    return "''" if dimension in TEXT_DIMENSIONS else "0"


def rollup_select(cube, grain, sign):
    """The SELECT of one cube's rows at one grain from the events subquery `e`."""
    dims = CUBES[cube]
    period = "e.day" if grain == "d" else "e.month"
    keys = ", ".join(f"e.{d}" if d in dims else f"{_zero(d)}" for d in DIMENSIONS)
    sums = ", ".join(f"{sign} * SUM(e.{c})" for c in COLUMNS)
    group = ", ".join([period, *(f"e.{d}" for d in dims)])
    return f"SELECT {cube}, '{grain}', {period}, {keys}, {sums} FROM ev e GROUP BY {group}"


def upsert_sql(cubes, where, sign, table="analytics_rollup"):
    """Add (`sign` 1) or subtract (-1) the events of the facts `where` selects to the rollups
    of `cubes`, day and month rows, in one statement (into `table`, a copy when comparing)."""
    selects = " UNION ALL ".join(
        rollup_select(cube, grain, sign) for cube in cubes for grain in ("d", "m")
    )
    key = ", ".join(["cube", "grain", "period", *DIMENSIONS])
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)
    return (
        f"WITH ev AS ({events_sql(lambda event: where)}) "  # noqa: S608 (no user input)
        f"INSERT INTO {table} ({key}, {', '.join(COLUMNS)}) "
        f"SELECT * FROM ({selects}) AS x WHERE true "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
    )


def execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
