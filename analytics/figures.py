"""Reading the figures: sums of rollup rows (or of facts) over a date range, grouped and
filtered by dimensions. Every report reads through here; the ratios are in `analytics.metrics`.
"""

import calendar
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from . import cubes
from .models import Rollup

# Up to this many days a series has a point per day; longer ranges, one per month.
DAILY_UP_TO = 92
# Raised by every refresh that changed figures: pages cached under an older one are stale.
GENERATION = "analytics:generation"


def generation():
    """The figures' generation (a number that changes with every refresh that changed them)."""
    value = cache.get(GENERATION)
    if value is None:  # not there yet, evicted, or no cache reachable: a new one
        value = time.time_ns()
        cache.add(GENERATION, value, None)
    return value


def next_generation():
    try:
        cache.incr(GENERATION)
    except ValueError:
        cache.set(GENERATION, time.time_ns(), None)


@dataclass(frozen=True)
class Scope:
    """A date range (both ends included, local days) and the dimensions' filters."""

    start: date
    end: date
    filters: dict = field(default_factory=dict)

    @property
    def daily(self):
        return (self.end - self.start).days < DAILY_UP_TO

    def days(self):
        return [self.start + timedelta(days=k) for k in range((self.end - self.start).days + 1)]

    def months(self):
        month, out = self.start.replace(day=1), []
        while month <= self.end:
            out.append(month)
            month = _next_month(month)
        return out


def _next_month(day):
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _month_end(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def periods_q(start, end):
    """Rollup rows covering [start, end]: whole months from month rows, the rest from days."""
    first = start if start.day == 1 else _next_month(start)
    last = end if end == _month_end(end) else end.replace(day=1) - timedelta(days=1)
    if first > last:
        return Q(grain="d", period__gte=start, period__lte=end)
    return (
        Q(grain="m", period__gte=first, period__lte=last.replace(day=1))
        | Q(grain="d", period__gte=start, period__lt=first)
        | Q(grain="d", period__gt=last, period__lte=end)
    )


def _sums(columns=None):
    return {column: Sum(column) for column in columns or cubes.COLUMNS}


def _clean(row, columns=None):
    for column in columns or cubes.COLUMNS:
        row[column] = row.get(column) or 0
    return row


def totals(scope, by=(), columns=None):
    """[{dimension: value …, measure: sum …}] over the scope, one row per value of `by`;
    `columns`: only these measures (all by default)."""
    cube = cubes.pick(set(by) | set(scope.filters))
    if cube is None:
        return _from_facts(scope, by, columns=columns)
    rows = Rollup.objects.filter(periods_q(scope.start, scope.end), cube=cube, **scope.filters)
    if not by:
        return [_clean(rows.aggregate(**_sums(columns)), columns)]
    rows = rows.values(*by).annotate(**_sums(columns)).order_by(*by)
    return [_clean(row, columns) for row in rows]


def series(scope, by=(), columns=None):
    """[{"period": day or month start, dimension …, measure …}] per day (short ranges) or
    month; `columns`: only these measures (all by default)."""
    cube = cubes.pick(set(by) | set(scope.filters))
    if cube is None:
        return _from_facts(scope, by, period="day" if scope.daily else "month", columns=columns)
    rows = Rollup.objects.filter(cube=cube, **scope.filters)
    if scope.daily:
        rows = rows.filter(grain="d", period__gte=scope.start, period__lte=scope.end)
        rows = rows.values("period", *by)
    else:
        rows = rows.filter(periods_q(scope.start, scope.end))
        rows = rows.annotate(month=TruncMonth("period")).values("month", *by)
    rows = rows.annotate(**_sums(columns)).order_by(*rows.query.values_select)
    out = []
    for row in rows:
        row = _clean(row, columns)
        if "month" in row:
            row["period"] = row.pop("month")
        out.append(row)
    return out


def _from_facts(scope, by, period=None, columns=None):
    """The same sums straight from the facts (no cube holds these dimensions)."""
    conditions = ["f.{event}_day >= %s", "f.{event}_day <= %s"]
    values = [scope.start, scope.end]
    for dimension, value in scope.filters.items():
        if dimension not in cubes.DIMENSIONS:
            raise ValueError(dimension)
        conditions.append(f"f.{dimension} = %s")
        values.append(value)
    where = " AND ".join(conditions)
    keys = [f"e.{d}" for d in by if d in cubes.DIMENSIONS]
    if period:
        keys.insert(0, f"e.{period}")
    sums = ", ".join(f"SUM(e.{c}) AS {c}" for c in columns or cubes.COLUMNS)
    sql = (
        f"SELECT {', '.join([*keys, sums])} "  # noqa: S608 (names from code, values as params)
        f"FROM ({cubes.events_sql(lambda event: where.format(event=event))}) e"
        + (f" GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}" if keys else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values * len(cubes.EVENTS))
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if period:
        for row in rows:
            row["period"] = row.pop(period)
            if isinstance(row["period"], str):
                row["period"] = date.fromisoformat(row["period"])
    return [_clean(row, columns) for row in rows]
