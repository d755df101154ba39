"""Business calendars: who counts in each, how far their years reach, and every change to them.

    uses(calendars, today)              {calendar id: [Use]}: the apps' objects counting in each
    running_out(today)                  [(calendar, coverage)]: calendars in use that need a year
    warn_running_out(today)             the daily check: tells the administrators, once per
                                        calendar and missing year
    mark_days / clear_days              holidays or make-up days over a range of dates
    copy_year                           one year's days onto another year, as a start
    set_year_complete                   a year's days are all entered (or not any more)
    save_hours                          the weekly hours and those of make-up days

Every change locks the calendar's row, checks, saves and sends `signals.calendar_changed` in its
transaction: the tickets app re-plans the open requests that count in the calendar after the
commit, so their due times follow the edit. (Each request and page reads the calendar's row
afresh; nothing else keeps a copy.) A change that cannot be made raises `CalendarRefused` with a
message for the person, and nothing is saved.
"""

import calendar as pycalendar
from datetime import date, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count, F, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import registry
from .lib.business_time import WEEKDAYS, WorkCalendar
from .models import BusinessCalendar
from .notifications import Text, notify, people_with_role
from .roles import Role
from .signals import calendar_changed

HOLIDAY = "holiday"
WORKDAY = "workday"
# The longest range marked or cleared at once.
MAX_SPAN_DAYS = 366
# How many of a calendar's users the list names (the count says how many there are).
SAMPLES = 3


class CalendarRefused(Exception):
    """A change to a calendar that cannot be made; the message is for the person."""


class Use(NamedTuple):
    """The objects of one kind (a `registry.CalendarUse`) counting in one calendar."""

    label: str
    count: int
    # [(name, url)] of the first few.
    samples: list
    permission: str

    @property
    def more(self):
        return self.count - len(self.samples)


# --- Reading ------------------------------------------------------------------------------


def default_calendar_id(calendars):
    return next((c.pk for c in calendars if c.is_default), None)


def uses(calendars, today, samples=SAMPLES):
    """{calendar id: [Use]} of the objects in force that count in each of `calendars` (those
    that name no calendar count in the default one): one query per kind of object."""
    ids = [c.pk for c in calendars]
    default_id = default_calendar_id(calendars)
    found = {}
    for use in registry.calendar_uses():
        key = F(use.field) if default_id is None else Coalesce(F(use.field), Value(default_id))
        rows = (
            use.in_force(today)
            .annotate(
                calendar_key=key,
                rank=Window(RowNumber(), partition_by=[key], order_by=F("pk").desc()),
                total=Window(Count("pk"), partition_by=[key]),
            )
            .filter(calendar_key__in=ids, rank__lte=max(samples, 1))
            .order_by("calendar_key", "rank")
        )
        by_calendar = {}
        for obj in rows:
            count, names = by_calendar.setdefault(obj.calendar_key, (obj.total, []))
            if obj.rank <= samples:
                names.append((str(obj), obj.get_absolute_url()))
        for calendar_id, (count, names) in by_calendar.items():
            found.setdefault(calendar_id, []).append(Use(use.label, count, names, use.permission))
    return found


def running_out(today=None):
    """[(calendar, coverage)] of the calendars in use (something in force counts in them, or
    they are the default) whose complete years end within CALENDAR_WARN_DAYS of `today` or
    have ended; the most urgent first."""
    today = today or timezone.localdate()
    calendars = list(BusinessCalendar.objects.order_by("name"))
    used = uses(calendars, today, samples=0)
    found = []
    for calendar in calendars:
        if not (calendar.is_default or used.get(calendar.pk)):
            continue
        coverage = calendar.coverage(today)
        if coverage.needs_work:
            found.append((calendar, coverage))
    return sorted(found, key=lambda pair: pair[1].days_left or -1)


class Day(NamedTuple):
    day: date
    # HOLIDAY, WORKDAY (a make-up working day), OPEN (working by the weekly hours) or CLOSED.
    kind: str
    name: str


OPEN, CLOSED = "open", "closed"


def day_kinds(calendar, year):
    """{date: Day} of every day of `year` in `calendar`."""
    work = calendar.calendar
    names = calendar.day_names
    found = {}
    for day in span(date(year, 1, 1), date(year, 12, 31)):
        if day in work.holidays:
            kind = HOLIDAY
        elif day in work.workdays:
            kind = WORKDAY
        else:
            kind = OPEN if work.weekly[day.weekday()] else CLOSED
        found[day] = Day(day, kind, names.get(day.isoformat(), ""))
    return found


def month_grids(calendar, year):
    """[(month, weeks)]: each week seven `Day`s or None (days of the months around)."""
    days = day_kinds(calendar, year)
    grids = []
    for month in range(1, 13):
        weeks = [
            [days[day] if day.month == month else None for day in week]
            for week in pycalendar.Calendar().monthdatescalendar(year, month)
        ]
        grids.append((month, weeks))
    return grids


class Run(NamedTuple):
    """Consecutive days of one kind and name (a holiday of several days)."""

    kind: str
    first: date
    last: date
    name: str

    @property
    def days(self):
        return (self.last - self.first).days + 1


def runs(calendar, year):
    """The holidays and make-up days of `year` as `Run`s, in date order."""
    found = []
    for item in day_kinds(calendar, year).values():
        if item.kind not in (HOLIDAY, WORKDAY):
            continue
        previous = found[-1] if found else None
        if (
            previous
            and previous.kind == item.kind
            and previous.name == item.name
            and previous.last + timedelta(days=1) == item.day
        ):
            found[-1] = previous._replace(last=item.day)
        else:
            found.append(Run(item.kind, item.day, item.day, item.name))
    return found


def weekly_summary(calendar):
    """[(days, hours)]: the weekly hours with consecutive days of equal hours together
    ("Monday – Friday", "09:00-12:00, 13:00-18:00"); closed days left out."""
    found = []
    for index, code in enumerate(WEEKDAYS):
        hours = calendar.weekly_hours.get(code) or []
        if found and found[-1][2] == hours and found[-1][1] == index - 1:
            found[-1][1] = index
        else:
            found.append([index, index, hours])
    return [
        (
            str(WEEKDAY_NAMES[first])
            if first == last
            else f"{WEEKDAY_NAMES[first]} – {WEEKDAY_NAMES[last]}",
            ", ".join(f"{start}-{end}" for start, end in hours),
        )
        for first, last, hours in found
        if hours
    ]


def year_spans(years):
    """[2025, 2026, 2028] → "2025–2026, 2028"."""
    found = []
    for year in sorted({int(y) for y in years}):
        if found and found[-1][1] == year - 1:
            found[-1][1] = year
        else:
            found.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in found)


WARNING_TITLE = gettext_lazy("Business calendar %(name)s: enter the holidays of %(year)s")
RAN_OUT_BODY = gettext_lazy(
    "The holidays and make-up working days of %(year)s are not complete, and SLA clocks "
    "count in this calendar now. Enter them from the State Council's notice on the calendar's "
    "page and mark the year complete."
)
RUNS_OUT_BODY = gettext_lazy(
    "The complete years of this calendar end on %(until)s (in %(days)s days). Enter the "
    "holidays and make-up working days of %(year)s from the State Council's notice on the "
    "calendar's page and mark the year complete."
)


def warning_texts(calendar, coverage):
    """(title, body) of the warning about `calendar` (lazy `Text`s, for each reader's
    language)."""
    title = Text(WARNING_TITLE, name=calendar.name, year=coverage.next_year)
    if coverage.state == coverage.OUT:
        return title, Text(RAN_OUT_BODY, year=coverage.next_year)
    body = Text(
        RUNS_OUT_BODY,
        until=coverage.until.isoformat(),
        days=coverage.days_left,
        year=coverage.next_year,
    )
    return title, body


def year_url(calendar, year):
    return f"{reverse('org:calendar_year', args=[calendar.code])}?year={year}"


def warn_running_out(today=None):
    """The daily check: tell the administrators about each calendar in use that runs out of
    complete years within CALENDAR_WARN_DAYS (or has run out), in the app and by e-mail.

    Once per calendar and missing year (the notification's key): the next day's run sends
    nothing again, and marking the year complete stops the warnings until the next year end
    comes near. Returns how many calendars need a year.
    """
    found = running_out(today)
    administrators = people_with_role(Role.ADMINISTRATOR)
    for calendar, coverage in found:
        title, body = warning_texts(calendar, coverage)
        notify(
            "calendar_years",
            users=administrators,
            about=calendar,
            title=title,
            body=body,
            url=year_url(calendar, coverage.next_year),
            key=f"calendar-years:{calendar.pk}:{coverage.next_year}",
        )
    return len(found)


def span(first, last):
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def names_of_days(days, limit=5):
    """ "2027-02-06, 2027-02-07 …" for a message."""
    shown = ", ".join(day.isoformat() if isinstance(day, date) else day for day in days[:limit])
    return shown + (" …" if len(days) > limit else "")


# --- Changing -----------------------------------------------------------------------------


def _lock(calendar):
    return BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)


def _save(calendar, actor):
    # The same check as the admin's: the arithmetic must be able to read what is saved.
    WorkCalendar.from_dict(calendar.as_dict())
    calendar.holidays = sorted(set(calendar.holidays))
    calendar.workdays = sorted(set(calendar.workdays))
    calendar.years = sorted({int(year) for year in calendar.years})
    calendar.day_names = dict(sorted(calendar.day_names.items()))
    calendar.save()
    calendar_changed.send(
        sender=BusinessCalendar,
        calendar_id=calendar.pk,
        actor_id=actor.pk if actor is not None else None,
    )
    return calendar


def _weekly_opens(calendar, day):
    return bool(calendar.weekly_hours.get(WEEKDAYS[day.weekday()]))


def mark_days(calendar, actor, *, kind, first, last, name):
    """Make the days from `first` to `last` holidays (`kind` HOLIDAY) or make-up working days
    (WORKDAY), all named `name` (days already of that kind are renamed)."""
    days = span(first, last)
    with transaction.atomic():
        locked = _lock(calendar)
        keys = [day.isoformat() for day in days]
        if kind == HOLIDAY:
            workdays = set(locked.workdays)
            clash = [key for key in keys if key in workdays]
            if clash:
                raise CalendarRefused(
                    _(
                        "%(days)s: already make-up working days. Remove them first; nothing "
                        "was changed."
                    )
                    % {"days": names_of_days(clash)}
                )
            locked.holidays = [*locked.holidays, *keys]
        else:
            holidays = set(locked.holidays)
            clash = [key for key in keys if key in holidays]
            if clash:
                raise CalendarRefused(
                    _("%(days)s: already holidays. Remove them first; nothing was changed.")
                    % {"days": names_of_days(clash)}
                )
            open_days = [day for day in days if _weekly_opens(locked, day)]
            if open_days:
                raise CalendarRefused(
                    _(
                        "%(days)s: working days by the weekly hours already. A make-up working "
                        "day is a day the weekly hours close (a weekend); nothing was changed."
                    )
                    % {"days": names_of_days(open_days)}
                )
            locked.workdays = [*locked.workdays, *keys]
        locked.day_names = {**locked.day_names, **dict.fromkeys(keys, name)}
        return _save(locked, actor), len(days)


def clear_days(calendar, actor, *, kind, first, last):
    """Remove the holidays (`kind` HOLIDAY) or make-up working days (WORKDAY) from `first` to
    `last`; return how many there were."""
    keys = {day.isoformat() for day in span(first, last)}
    field = "holidays" if kind == HOLIDAY else "workdays"
    with transaction.atomic():
        locked = _lock(calendar)
        found = [key for key in getattr(locked, field) if key in keys]
        if not found:
            message = (
                _("No holidays from %(first)s to %(last)s; nothing was changed.")
                if kind == HOLIDAY
                else _("No make-up working days from %(first)s to %(last)s; nothing was changed.")
            )
            raise CalendarRefused(message % {"first": first, "last": last})
        setattr(locked, field, [key for key in getattr(locked, field) if key not in keys])
        locked.day_names = {k: v for k, v in locked.day_names.items() if k not in found}
        return _save(locked, actor), len(found)


def _in_year(keys, year):
    prefix = f"{year:04d}-"
    return [key for key in keys if key.startswith(prefix)]


def _moved(key, year):
    """The same month and day in `year` (None for 29 February in a common year)."""
    day = date.fromisoformat(key)
    try:
        return day.replace(year=year)
    except ValueError:
        return None


class Copied(NamedTuple):
    holidays: int
    workdays: int
    # Days left out: 29 February, make-up days that fall on working days of the target year.
    skipped: list


def copy_year(calendar, actor, *, source, target, replace=False):
    """Copy `source`'s holidays and make-up days, with their names, to the same dates of
    `target`: a start, to correct by hand (the lunar holidays move). The days `target` already
    has are replaced when `replace`, else the copy is refused. `target` is not complete
    afterwards (it was not checked against its notice)."""
    with transaction.atomic():
        locked = _lock(calendar)
        holidays = _in_year(locked.holidays, source)
        workdays = _in_year(locked.workdays, source)
        if not (holidays or workdays):
            raise CalendarRefused(
                _("%(year)s has no holidays or make-up working days to copy.") % {"year": source}
            )
        existing = _in_year(locked.holidays, target) + _in_year(locked.workdays, target)
        if existing and not replace:
            raise CalendarRefused(
                _(
                    "%(year)s already has %(count)s holidays or make-up working days. Tick "
                    "“Replace” to overwrite them; nothing was changed."
                )
                % {"year": target, "count": len(existing)}
            )
        gone = set(existing)
        names = {k: v for k, v in locked.day_names.items() if k not in gone}
        new_holidays = [k for k in locked.holidays if k not in gone]
        new_workdays = [k for k in locked.workdays if k not in gone]
        skipped = []
        for key in holidays:
            day = _moved(key, target)
            if day is None:
                skipped.append(key)
                continue
            new_holidays.append(day.isoformat())
            names[day.isoformat()] = locked.day_names.get(key, "")
        taken = set(new_holidays)
        for key in workdays:
            day = _moved(key, target)
            if day is None or _weekly_opens(locked, day) or day.isoformat() in taken:
                skipped.append(key)
                continue
            new_workdays.append(day.isoformat())
            names[day.isoformat()] = locked.day_names.get(key, "")
        locked.holidays, locked.workdays, locked.day_names = new_holidays, new_workdays, names
        locked.years = [year for year in locked.years if int(year) != target]
        _save(locked, actor)
        copied = len(_in_year(locked.holidays, target)), len(_in_year(locked.workdays, target))
        return locked, Copied(*copied, skipped)


def set_year_complete(calendar, actor, *, year, complete):
    """Mark `year` complete (its days are all entered, from its notice) or not complete."""
    with transaction.atomic():
        locked = _lock(calendar)
        if complete and not (_in_year(locked.holidays, year) or _in_year(locked.workdays, year)):
            raise CalendarRefused(
                _(
                    "%(year)s has no holidays or make-up working days yet. Enter them first "
                    "(or copy another year's); nothing was changed."
                )
                % {"year": year}
            )
        years = {int(y) for y in locked.years}
        locked.years = sorted(years | {year} if complete else years - {year})
        # The arithmetic does not change; no re-plan is needed.
        locked.save(update_fields=["years"])
        return locked


def save_hours(calendar, actor, *, weekly, workday_hours):
    """Set the weekly hours ({"mon": [["09:00", "12:00"], ...], ...}; a missing day is
    closed) and the hours of make-up days ([]: Monday's)."""
    with transaction.atomic():
        locked = _lock(calendar)
        if not any(weekly.values()):
            raise CalendarRefused(
                _("Give at least one day of the week working hours; nothing was changed.")
            )
        locked.weekly_hours = weekly
        locked.workday_hours = workday_hours
        return _save(locked, actor)
