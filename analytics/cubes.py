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

from .models.figures import DIMENSIONS, EVENTS, RESOLUTION_BUCKETS

TEXT_DIMENSIONS = {"priority", "service_type", "customer_level"}


class One:
    """Counts 1 per event."""

    sql = "1"

    def value(self, fact):
        return 1


class Field:
    """A column of the fact."""

    def __init__(self, name):
        self.name, self.sql = name, f"f.{name}"

    def value(self, fact):
        return getattr(fact, self.name)


class Not:
    """1 where a 0/1 column of the fact is 0."""

    def __init__(self, name):
        self.name, self.sql = name, f"1 - f.{name}"

    def value(self, fact):
        return 1 - getattr(fact, self.name)


class Equals:
    """1 where a column of the fact holds `number`."""

    def __init__(self, name, number):
        self.name, self.number = name, number
        self.sql = f"CASE WHEN f.{name} = {number} THEN 1 ELSE 0 END"

    def value(self, fact):
        return int(getattr(fact, self.name) == self.number)


# Each event's measures: (rollup column, what it sums of the fact). Each measure is written once
# and read two ways: as SQL (`.sql`, over the fact row `f`: rebuilds and checks) and in Python
# (`.value(fact)`: the refresh after a change).
MEASURES = {
    "created": [
        ("opened", One()),
        ("repeat30", Field("repeat30")),
        ("repeat90", Field("repeat90")),
    ],
    "processed": [("processed", One())],
    "closed": [
        ("closed", One()),
        ("first_time_fix", Field("first_time_fix")),
        ("rounds", Field("rounds")),
        ("visits", Field("visits")),
        ("resolution_minutes", Field("resolution_minutes")),
        *[
            (f"resolved_in_{k}", Equals("resolution_bucket", k))
            for k in range(len(RESOLUTION_BUCKETS) + 1)
        ],
        ("labour_hours", Field("labour_hours")),
        ("fees", Field("fees")),
        ("charged", Field("charged")),
        ("parts", Field("parts")),
    ],
    "response": [("response_ok", Field("response_ok")), ("response_late", Not("response_ok"))],
    "arrival": [("arrival_ok", Field("arrival_ok")), ("arrival_late", Not("arrival_ok"))],
    "resolution": [
        ("resolution_ok", Field("resolution_ok")),
        ("resolution_late", Not("resolution_ok")),
    ],
    "revisit": [
        ("revisited", Field("revisits")),
        ("revisit_on_time", Field("revisits_on_time")),
        ("scored", Field("revisits_scored")),
        ("score_sum", Field("revisit_score_sum")),
    ],
}
assert set(MEASURES) == set(EVENTS)
COLUMNS = [column for event in EVENTS for column, _measure in MEASURES[event]]

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
        own = {column: measure.sql for column, measure in MEASURES[event]}
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


def deltas(facts, sign, into):
    """Add the events of `facts` (× `sign`) to `into`: {(cube, grain, period, dimensions):
    [sum per column]} — what `upsert_sql` does, in Python, for the few facts of a refresh."""
    index = {column: k for k, column in enumerate(COLUMNS)}
    for fact in facts:
        dims = {d: getattr(fact, d) for d in DIMENSIONS}
        for event in EVENTS:
            day = getattr(fact, f"{event}_day")
            if day is None:
                continue
            values = [
                (index[column], measure.value(fact) * sign) for column, measure in MEASURES[event]
            ]
            for cube, cube_dims in CUBES.items():
                key_dims = tuple(dims[d] if d in cube_dims else _zero_value(d) for d in DIMENSIONS)
                for grain, period in (("d", day), ("m", getattr(fact, f"{event}_month"))):
                    row = into.setdefault((cube, grain, period, key_dims), [0] * len(COLUMNS))
                    for k, value in values:
                        row[k] += value
    return into


def _zero_value(dimension):
    return "" if dimension in TEXT_DIMENSIONS else 0


def upsert_rows(rows):
    """Add the rows of `deltas` (those that change something) to the rollups: one statement."""
    rows = [(key, sums) for key, sums in sorted(rows.items(), key=_order) if any(sums)]
    if not rows:
        return 0
    key = ", ".join(["cube", "grain", "period", *DIMENSIONS])
    sets = ", ".join(f"{c} = analytics_rollup.{c} + excluded.{c}" for c in COLUMNS)
    width = 3 + len(DIMENSIONS) + len(COLUMNS)
    values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))
    params = [
        value
        for (cube, grain, period, dims), sums in rows
        for value in (cube, grain, period, *dims, *sums)
    ]
    sql = (
        f"INSERT INTO analytics_rollup ({key}, {', '.join(COLUMNS)}) "  # noqa: S608 (no user input)
        f"VALUES {values} ON CONFLICT ({key}) DO UPDATE SET {sets}"
    )
    return execute(sql, params)


def _order(item):
    # One order for every refresh: two that touch the same rows lock them in the same order.
    (cube, grain, period, dims), _sums = item
    return (cube, grain, period, tuple(str(d) for d in dims))
