"""Business-time arithmetic: plain functions over a working calendar, no database access.

A `WorkCalendar` says, for every date in its time zone, which intervals of the day are working
time: the weekly hours, minus whole-day holidays, plus make-up working days (调休上班).

    cal = WorkCalendar.from_dict({
        "tz": "Asia/Shanghai",
        "weekly": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ...},
        "holidays": ["2026-10-01", ...],
        "workdays": ["2026-10-10", ...],
        "workday_hours": [["09:00", "18:00"]],   # optional; else Monday's hours
    })
    add_working_time(cal, start, timedelta(hours=4))  → aware datetime in cal's zone
    working_time_between(cal, start, end)             → timedelta

Conventions: a start outside working hours rolls forward to the next opening; a deadline that
uses up an interval exactly is that interval's closing time; a zero delta returns the start
rolled forward; "24:00" is the end of the day; seconds are exact (no rounding). Hours are
wall-clock times of the calendar's zone. Whole days are skipped by their precomputed length, so
a deadline weeks away costs one dictionary lookup per day, never a walk minute by minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 86_400
# A calendar with no working time at all would never answer; stop looking after this.
MAX_DAYS_WITHOUT_WORK = 3_660


class CalendarError(ValueError):
    pass


def _seconds(text):
    """ "09:30" → 34200; "24:00" → 86400; seconds allowed ("09:30:15")."""
    try:
        parts = [int(p) for p in str(text).split(":")]
    except ValueError:
        raise CalendarError(f"not a time of day: {text!r}") from None
    if len(parts) == 2:
        parts.append(0)
    if len(parts) != 3:
        raise CalendarError(f"not a time of day: {text!r}")
    h, m, s = parts
    total = h * 3600 + m * 60 + s
    if not (0 <= m < 60 and 0 <= s < 60 and 0 <= total <= DAY):
        raise CalendarError(f"not a time of day: {text!r}")
    return total


def _intervals(pairs):
    """[["09:00","12:00"], ...] → sorted, non-overlapping ((start, end), ...) in seconds."""
    out = []
    for pair in pairs or ():
        if len(pair) != 2:
            raise CalendarError(f"an interval needs a start and an end: {pair!r}")
        start, end = _seconds(pair[0]), _seconds(pair[1])
        if end <= start:
            raise CalendarError(f"an interval must end after it starts: {pair!r}")
        out.append((start, end))
    out.sort()
    for (_s1, e1), (s2, _e2) in zip(out, out[1:], strict=False):
        if s2 < e1:
            raise CalendarError(f"intervals overlap: {pairs!r}")
    return tuple(out)


def _date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    weekly: tuple  # 7 tuples of (start, end) seconds, Monday first
    holidays: frozenset = field(default_factory=frozenset)
    workdays: frozenset = field(default_factory=frozenset)
    workday_hours: tuple = ()
    # Precomputed: working seconds per weekday and for a make-up day.
    _weekly_total: tuple = ()
    _workday_total: int = 0

    @classmethod
    def from_dict(cls, data):
        weekly_data = data.get("weekly") or {}
        unknown = set(weekly_data) - set(WEEKDAYS)
        if unknown:
            raise CalendarError(f"unknown weekday(s): {sorted(unknown)}")
        weekly = tuple(_intervals(weekly_data.get(day)) for day in WEEKDAYS)
        workday_hours = _intervals(data.get("workday_hours")) or weekly[0]
        return cls(
            tz=ZoneInfo(data.get("tz") or "Asia/Shanghai"),
            weekly=weekly,
            holidays=frozenset(_date(d) for d in data.get("holidays") or ()),
            workdays=frozenset(_date(d) for d in data.get("workdays") or ()),
            workday_hours=workday_hours,
            _weekly_total=tuple(sum(e - s for s, e in day) for day in weekly),
            _workday_total=sum(e - s for s, e in workday_hours),
        )

    def hours_on(self, day):
        """The working intervals (seconds from midnight) of one date."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.workday_hours
        return self.weekly[day.weekday()]

    def total_on(self, day):
        if day in self.holidays:
            return 0
        if day in self.workdays:
            return self._workday_total
        return self._weekly_total[day.weekday()]

    def is_working(self, moment):
        local = self._local(moment)
        offset = _offset(local)
        return any(s <= offset < e for s, e in self.hours_on(local.date()))

    def _local(self, moment):
        if moment.tzinfo is None:
            raise CalendarError("business time needs aware datetimes")
        return moment.astimezone(self.tz)

    def _at(self, day, seconds):
        return datetime.combine(day, time(), tzinfo=self.tz) + timedelta(seconds=seconds)


def _offset(local):
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


def add_working_time(calendar, start, delta):
    """The moment at which `delta` of working time has passed after `start`."""
    if delta < timedelta(0):
        raise CalendarError("the working time to add cannot be negative")
    local = calendar._local(start)
    day = local.date()
    remaining = delta.total_seconds()
    offset = _offset(local)
    idle = 0
    while True:
        hours = calendar.hours_on(day)
        if offset == 0 and remaining > calendar.total_on(day):
            # A whole day inside the span: take its length without looking at its hours.
            remaining -= calendar.total_on(day)
        else:
            for s, e in hours:
                if e <= offset:
                    continue
                begin = max(s, offset)
                available = e - begin
                if remaining <= available:
                    return calendar._at(day, begin + remaining)
                remaining -= available
        if hours:
            idle = 0
        else:
            idle += 1
            if idle > MAX_DAYS_WITHOUT_WORK:
                raise CalendarError("the calendar has no working time")
        day += timedelta(days=1)
        offset = 0


def working_time_between(calendar, start, end):
    """The working time between two moments; zero when `end` is not after `start`."""
    if end <= start:
        return timedelta(0)
    a, b = calendar._local(start), calendar._local(end)
    first, last = a.date(), b.date()
    if first == last:
        return timedelta(seconds=_within(calendar.hours_on(first), _offset(a), _offset(b)))
    total = _within(calendar.hours_on(first), _offset(a), DAY)
    day = first + timedelta(days=1)
    while day < last:
        total += calendar.total_on(day)
        day += timedelta(days=1)
    total += _within(calendar.hours_on(last), 0, _offset(b))
    return timedelta(seconds=total)


def _within(hours, lo, hi):
    return sum(max(0, min(e, hi) - max(s, lo)) for s, e in hours)
