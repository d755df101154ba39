"""Deadline clocks in business time (SPEC §3): one mechanism for every module that promises a time.

Service requests use it now (response, on-site arrival, resolution); complaints, part requests,
returns and revisits declare their own targets and reuse the rest: due times counted in a
business calendar, a warning when 75 % of a target's time is used, pause and resume in business
time, the traffic light of lists and its filter, the rows of a detail page, and the set-based
every-minute sweep that records warnings and breaches once.

A `Clock` describes the fields of one model; the model declares them itself (its labels, its
indexes). For every target `t`:

    t_due, t_warn_at          when it falls due, and when to warn
    t_met_at, t_margin        when it was met, and the working time to spare then (negative: late)
    t_warned_at               when the sweep recorded the warning (once)
    t_breached_at             when the sweep recorded the breach (once)

and once per model (the names are the clock's `*_field` attributes):

    sla_due, sla_warn_at      the nearest unmet target's due and warning times, empty while the
                              clock stands still: lists show, filter and sort by them (index)
    sla_check_at              the next moment the sweep must look at the row (partial index)
    sla_paused                the business time the clock stood still so far
    suspended_at              when the current pause began
    calendar                  a `BusinessCalendar` (empty: China's statutory working days)
    created_at                where every target's time starts

Everything here but the sweep changes an object in memory only: the app's service locks the
row, calls these, saves and writes its log row. This module imports no app; an app passes its
model, its targets and when its clock runs.
"""

import re
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .lib.business_time import WorkCalendar, add_working_time, working_time_between
from .lib.cn_holidays import china_statutory

FAR = datetime(9999, 12, 31, tzinfo=UTC)


class Light:
    """The traffic light of a running clock: its nearest unmet target's state."""

    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    BREACHED = "breached"

    LABELS = {
        ON_TIME: _("On time"),
        AT_RISK: _("At risk"),
        BREACHED: _("Breached"),
    }
    TONES = {ON_TIME: "success", AT_RISK: "warning", BREACHED: "danger"}


class Mark(NamedTuple):
    """What one sweep newly recorded on one row: the row's returned values (a named tuple of
    the fields asked for) and the targets newly warned and newly breached."""

    row: Any
    warned: list
    breached: list


@cache
def statutory_calendar():
    """China's statutory working days, for a clock without a calendar (built once)."""
    return WorkCalendar.from_dict(china_statutory())


def margin(cal, due, met):
    """Working time to spare at `met` (negative when late)."""
    if met <= due:
        return working_time_between(cal, met, due)
    return -working_time_between(cal, due, met)


@dataclass(frozen=True)
class Clock:
    """The deadline clock of one model: its targets in order, their labels, and whether an
    object is still open (`is_open(obj)`: not finished, cancelled or closed).

    The clock runs while the object is open and not paused; while it does not, the summary
    fields are empty and neither the lists' lights nor the sweep see the object.
    """

    targets: tuple[str, ...]
    labels: Mapping[str, Any]
    is_open: Callable[[Any], bool]
    # Warn when this share of a target's time is used (under 25 % left).
    warn_share: float = 0.75
    start_field: str = "created_at"
    calendar_field: str = "calendar"
    paused_field: str = "sla_paused"
    suspended_field: str = "suspended_at"
    due_field: str = "sla_due"
    warn_field: str = "sla_warn_at"
    check_field: str = "sla_check_at"

    def __post_init__(self):
        for name in self.targets:
            # A target names fields (`<target>_due`) and, through them, columns of the sweep.
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"not a target name: {name!r}")

    def planned_fields(self):
        """The fields `plan` may change (for `update_fields` or to see whether it changed any)."""
        fields = [f"{t}_{part}" for t in self.targets for part in ("due", "warn_at", "warned_at")]
        fields += [f"{t}_breached_at" for t in self.targets]
        return fields + [self.due_field, self.warn_field, self.check_field]

    def running(self, obj):
        return self.is_open(obj) and getattr(obj, self.suspended_field) is None

    def work_calendar(self, obj):
        """The `WorkCalendar` the object's clock counts in."""
        calendar = getattr(obj, self.calendar_field, None)
        if calendar is not None:
            return calendar.calendar
        return statutory_calendar()

    # Changes in memory ---------------------------------------------------------------------

    def plan(self, obj, budgets, now):
        """Set every unmet target's due and warning times from its budget, then `refresh`.

        `budgets` maps a target to its working time (a timedelta; missing or empty: no clock
        for that target). Times count from the start field plus the business time the clock
        already stood still, so planning again (a new priority, an edited agreement) gives
        the times the object would have had from the start. A target already met keeps its
        record; a due (warning) time moved past `now` takes back the breach (warning) it no
        longer deserves.
        """
        cal = self.work_calendar(obj)
        start = getattr(obj, self.start_field)
        paused = getattr(obj, self.paused_field)
        for t in self.targets:
            if getattr(obj, f"{t}_met_at"):
                continue
            budget = budgets.get(t)
            if not budget:
                setattr(obj, f"{t}_due", None)
                setattr(obj, f"{t}_warn_at", None)
                continue
            due = add_working_time(cal, start, budget + paused)
            warn = add_working_time(cal, start, budget * self.warn_share + paused)
            setattr(obj, f"{t}_due", due)
            setattr(obj, f"{t}_warn_at", warn)
            if due > now:
                setattr(obj, f"{t}_breached_at", None)
            if warn > now:
                setattr(obj, f"{t}_warned_at", None)
        self.refresh(obj)

    def meet(self, obj, target, now):
        """Record `target` met at `now`, with its margin, then `refresh`; return False (and
        change nothing) when it was met before: the first time counts."""
        if getattr(obj, f"{target}_met_at") is not None:
            return False
        setattr(obj, f"{target}_met_at", now)
        due = getattr(obj, f"{target}_due")
        if due is not None:
            setattr(obj, f"{target}_margin", margin(self.work_calendar(obj), due, now))
        self.refresh(obj)
        return True

    def pause(self, obj, now):
        """Stop the clock at `now` (a second pause keeps the first time), then `refresh`;
        `resume` pushes the due times out by the business time in between."""
        if getattr(obj, self.suspended_field) is None:
            setattr(obj, self.suspended_field, now)
        self.refresh(obj)

    def resume(self, obj, now):
        """Start the clock again: push every unmet due and warning time out by the business time
        it stood still since `pause`, add that to the paused total, then `refresh`. Warnings
        and breaches already recorded stay recorded."""
        since = getattr(obj, self.suspended_field)
        if since is not None:
            self._push_out(obj, since, now)
        self.refresh(obj)

    def _push_out(self, obj, since, now):
        cal = self.work_calendar(obj)
        paused = working_time_between(cal, since, now)
        setattr(obj, self.paused_field, getattr(obj, self.paused_field) + paused)
        setattr(obj, self.suspended_field, None)
        if paused:
            for t in self.targets:
                if getattr(obj, f"{t}_met_at"):
                    continue
                for part in ("due", "warn_at"):
                    moment = getattr(obj, f"{t}_{part}")
                    if moment is not None:
                        setattr(obj, f"{t}_{part}", add_working_time(cal, moment, paused))

    def refresh(self, obj):
        """Derive the summary fields from the targets (empty while the clock does not run).

        The due and warning times are the nearest unmet target's; the check time is the
        earliest warning or breach not recorded yet, which the sweep finds through its index.
        """
        due = warn = check = None
        if self.running(obj):
            unmet = [t for t in self.targets if getattr(obj, f"{t}_met_at") is None]
            dues = [(getattr(obj, f"{t}_due"), t) for t in unmet if getattr(obj, f"{t}_due")]
            if dues:
                due, nearest = min(dues, key=lambda pair: pair[0])  # the first of equals
                warn = getattr(obj, f"{nearest}_warn_at")
            checks = []
            for t in unmet:
                if getattr(obj, f"{t}_warned_at") is None and getattr(obj, f"{t}_warn_at"):
                    checks.append(getattr(obj, f"{t}_warn_at"))
                if getattr(obj, f"{t}_breached_at") is None and getattr(obj, f"{t}_due"):
                    checks.append(getattr(obj, f"{t}_due"))
            check = min(checks, default=None)
        setattr(obj, self.due_field, due)
        setattr(obj, self.warn_field, warn)
        setattr(obj, self.check_field, check)

    # Reading -------------------------------------------------------------------------------

    def light(self, obj, now=None):
        """The traffic light of the nearest unmet target, or None when no clock runs.

        Reads only the two summary fields, so a row of `values_list(named=True)` will do.
        """
        due = getattr(obj, self.due_field)
        if due is None:
            return None
        now = now or timezone.now()
        if due <= now:
            return Light.BREACHED
        warn = getattr(obj, self.warn_field)
        if warn is not None and warn <= now:
            return Light.AT_RISK
        return Light.ON_TIME

    def light_filter(self, value, now=None):
        """A queryset filter for one traffic light (served by the due field's index)."""
        now = now or timezone.now()
        due, warn = self.due_field, self.warn_field
        if value == Light.BREACHED:
            return Q(**{f"{due}__lte": now})
        if value == Light.AT_RISK:
            return Q(**{f"{due}__gt": now, f"{warn}__lte": now})
        if value == Light.ON_TIME:
            return Q(**{f"{due}__gt": now}) & (
                Q(**{f"{warn}__gt": now}) | Q(**{f"{warn}__isnull": True})
            )
        return Q()

    def rows(self, obj, now=None):
        """The targets with a due time, for a detail page: due, met (with margin), breached,
        and a tone (danger when late, success when met in time, else neutral)."""
        now = now or timezone.now()
        rows = []
        for t in self.targets:
            due = getattr(obj, f"{t}_due")
            if due is None:
                continue
            met = getattr(obj, f"{t}_met_at")
            late = (met or now) > due
            rows.append(
                {
                    "name": t,
                    "label": self.labels[t],
                    "due": due,
                    "met_at": met,
                    "margin": getattr(obj, f"{t}_margin"),
                    "breached_at": getattr(obj, f"{t}_breached_at"),
                    "tone": "danger" if late else ("success" if met else "neutral"),
                }
            )
        return rows

    # The sweep -----------------------------------------------------------------------------

    def sweep(self, model, now, returning=("id",)):
        """Record the warnings and breaches due at `now` on `model`'s table; return the `Mark`s.

        One UPDATE … RETURNING over the rows whose check time has come (through its partial
        index), so a run costs the same however many rows are open but not due. Each target
        is marked with a compare-and-set (only if still unmet and not marked yet), and the
        check time moves on to the next warning or due time still ahead (empty when none).
        Running it twice at the same `now` finds nothing the second time, and two workers at
        once cannot both mark a target: the second waits for the first's row lock and then
        finds it marked. Writes the rows, nothing else: the caller notifies, in the same
        transaction if the notices must not outlive a rollback. `returning` names the fields
        (attnames such as "engineer_id") each `Mark.row` carries.
        """
        meta = model._meta
        col = {name: meta.get_field(name).column for name in self._columns(returning)}
        sets = []
        for t in self.targets:
            met, warn_at, due = col[f"{t}_met_at"], col[f"{t}_warn_at"], col[f"{t}_due"]
            warned, breached = col[f"{t}_warned_at"], col[f"{t}_breached_at"]
            sets.append(
                f"{warned} = CASE WHEN {met} IS NULL AND {warned} IS NULL "
                f"AND {warn_at} <= %(now)s THEN %(now)s ELSE {warned} END"
            )
            sets.append(
                f"{breached} = CASE WHEN {met} IS NULL AND {breached} IS NULL "
                f"AND {due} <= %(now)s THEN %(now)s ELSE {breached} END"
            )
        sets.append(f"{col[self.check_field]} = {self._next_check_sql(col)}")
        columns = [col[name] for name in returning]
        columns += [col[f"{t}_warned_at"] for t in self.targets]
        columns += [col[f"{t}_breached_at"] for t in self.targets]
        sql = (
            f"UPDATE {meta.db_table} SET {', '.join(sets)} "  # noqa: S608 (no user input)
            f"WHERE {col[self.check_field]} <= %(now)s RETURNING {', '.join(columns)}"
        )
        adapt = connection.ops.adapt_datetimefield_value
        params = {"now": adapt(now), "far": adapt(FAR)}
        if connection.vendor != "postgresql":
            sql, params = _positional(sql, params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        row_type = namedtuple("SweptRow", returning)
        k, n = len(returning), len(self.targets)
        marks = []
        for row in rows:
            warned_at, breached_at = row[k : k + n], row[k + n :]
            # A target marked by this run carries exactly `now`; older marks keep their time.
            warned = [t for t, at in zip(self.targets, warned_at, strict=True) if _same(at, now)]
            breached = [
                t for t, at in zip(self.targets, breached_at, strict=True) if _same(at, now)
            ]
            if warned or breached:
                marks.append(Mark(row_type._make(row[:k]), warned, breached))
        return marks

    def _columns(self, returning):
        names = list(returning) + [self.check_field]
        for t in self.targets:
            names += [f"{t}_{part}" for part in ("due", "warn_at", "met_at", "warned_at")]
            names.append(f"{t}_breached_at")
        return names

    def _next_check_sql(self, col):
        """The next moment a target needs a look: its warning, else its due time, if ahead."""
        parts = [
            f"CASE WHEN {col[f'{t}_met_at']} IS NULL AND {col[f'{t}_warn_at']} > %(now)s "
            f"THEN {col[f'{t}_warn_at']} "
            f"WHEN {col[f'{t}_met_at']} IS NULL AND {col[f'{t}_due']} > %(now)s "
            f"THEN {col[f'{t}_due']} END"
            for t in self.targets
        ]
        # LEAST ignoring NULLs on both PostgreSQL and SQLite: NULL → far future → NULL again.
        coalesced = ", ".join(f"COALESCE({p}, %(far)s)" for p in parts)
        least = "LEAST" if connection.vendor == "postgresql" else "MIN"
        return f"NULLIF({least}({coalesced}), %(far)s)"


def _same(value, now):
    if value is None:
        return False
    if isinstance(value, str):  # SQLite hands back text
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return abs((value - now).total_seconds()) < 1e-3


def _positional(sql, params):
    """%(name)s placeholders → %s with a parameter list (the SQLite backend wants that)."""
    names = re.findall(r"%\((\w+)\)s", sql)
    return re.sub(r"%\(\w+\)s", "%s", sql), [params[n] for n in names]
