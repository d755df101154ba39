"""Limits on the customer's doors (public forms that create requests or send SMS): how many times
one IP address or one mobile number may do something in a period.

Counted in the database by one atomic upsert per attempt (`INSERT … ON CONFLICT DO UPDATE …
RETURNING`), so concurrent attempts can never all slip under the limit, and the limit holds with
Redis stopped and on the embedded SQLite demo alike. Page views stay with django-ratelimit (the
cache); this is for the few actions that cost money (an SMS) or make work (a request).

A limit is written like django-ratelimit's: "5/h" = five per hour ("s", "m", "h", "d"). Keys
are hashed before they are stored: the table holds no phone number or address.
"""

import hashlib
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from .models import Throttle

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(rate):
    """'5/h' -> (5, 3600): the number allowed and the window in seconds."""
    count, _, unit = str(rate).partition("/")
    return int(count), _UNITS[unit]


def _window(now, seconds):
    epoch = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, tz=UTC)


def _key(scope, value):
    digest = hashlib.sha256(f"{scope}\0{value}".encode()).hexdigest()[:40]
    return f"{scope[:38]}:{digest}"


def hit(scope, value, rate, *, now=None):
    """Count one attempt of `value` (an IP, a mobile) for `scope`; True while within `rate`."""
    allowed, seconds = parse(rate)
    window = _window(now or timezone.now(), seconds)
    table = Throttle._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, period_start, hits) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (key, period_start) DO UPDATE SET hits = {table}.hits + 1 RETURNING hits",
            [_key(scope, value), window],
        )
        (hits,) = cursor.fetchone()
    return hits <= allowed


def within(checks, *, now=None):
    """Count every (scope, value, rate) of `checks` (all of them, so trying another number from
    one address still counts against the address); True when none is over its limit."""
    results = [hit(scope, value, rate, now=now) for scope, value, rate in checks if value]
    return all(results)


def sweep(now=None):
    """Delete windows that ended more than a day ago (beat, hourly)."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = Throttle.objects.filter(period_start__lt=cutoff).delete()
    return deleted
