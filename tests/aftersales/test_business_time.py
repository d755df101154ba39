"""Business-time arithmetic (no database): lunch breaks, holidays, make-up days, time zones."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.lib.business_time import (
    CalendarError,
    WorkCalendar,
    add_working_time,
    working_time_between,
)

SH = ZoneInfo("Asia/Shanghai")
OFFICE = [["09:00", "12:00"], ["13:00", "18:00"]]  # 8 working hours with a lunch break
CN = WorkCalendar.from_dict(
    {
        "tz": "Asia/Shanghai",
        "weekly": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), OFFICE),
        # National Day 2026: Thu 1 Oct – Wed 7 Oct off; Sat 10 Oct is a make-up working day.
        "holidays": [f"2026-10-0{d}" for d in range(1, 8)],
        "workdays": ["2026-10-10"],
    }
)
H = timedelta(hours=1)


def at(text, tz=SH):
    return datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize(
    "start, delta, due",
    [
        ("2026-11-23 10:00", 1 * H, "2026-11-23 11:00"),  # inside the morning
        ("2026-11-23 11:00", 2 * H, "2026-11-23 14:00"),  # over the lunch break
        ("2026-11-23 12:30", 1 * H, "2026-11-23 14:00"),  # starts in the lunch break
        ("2026-11-23 07:00", 1 * H, "2026-11-23 10:00"),  # before opening
        ("2026-11-23 20:00", 1 * H, "2026-11-24 10:00"),  # after closing
        ("2026-11-23 09:00", 3 * H, "2026-11-23 12:00"),  # uses the morning exactly: 12:00
        ("2026-11-23 09:00", 8 * H, "2026-11-23 18:00"),  # the whole day exactly: 18:00
        ("2026-11-23 09:00", 9 * H, "2026-11-24 10:00"),
        ("2026-11-27 17:00", 2 * H, "2026-11-30 10:00"),  # Friday → over the weekend
        ("2026-11-28 10:00", 1 * H, "2026-11-30 10:00"),  # Saturday start rolls to Monday
        ("2026-11-23 18:00", timedelta(0), "2026-11-24 09:00"),  # zero delta rolls forward
        ("2026-11-23 10:15:30", timedelta(0), "2026-11-23 10:15:30"),
        ("2026-11-23 10:00:00", timedelta(seconds=7), "2026-11-23 10:00:07"),  # exact seconds
        ("2026-09-30 17:00", 2 * H, "2026-10-08 10:00"),  # over the National Day holiday
        ("2026-10-09 17:00", 2 * H, "2026-10-10 10:00"),  # … and onto the make-up Saturday
        ("2026-10-10 17:30", 1 * H, "2026-10-12 09:30"),  # make-up day uses Monday's hours
    ],
)
def test_add_working_time(start, delta, due):
    result = add_working_time(CN, at(start), delta)
    assert result == at(due)
    assert result.tzinfo == SH


@pytest.mark.parametrize(
    "start, end, worked",
    [
        ("2026-11-23 10:00", "2026-11-23 11:30", timedelta(minutes=90)),
        ("2026-11-23 11:00", "2026-11-23 14:00", 2 * H),  # lunch not counted
        ("2026-11-23 07:00", "2026-11-23 20:00", 8 * H),
        ("2026-11-27 17:00", "2026-11-30 10:00", 2 * H),  # weekend not counted
        # 30 Sep, then the holiday, then 8 Oct, 9 Oct and the make-up Saturday 10 Oct.
        ("2026-09-30 09:00", "2026-10-12 09:00", 4 * 8 * H),
        ("2026-11-23 11:00", "2026-11-23 10:00", timedelta(0)),  # end before start
        ("2026-11-23 11:00", "2026-11-23 11:00", timedelta(0)),
    ],
)
def test_working_time_between(start, end, worked):
    assert working_time_between(CN, at(start), at(end)) == worked


def test_the_two_functions_agree():
    start = at("2026-09-28 15:20:11")
    for minutes in (0, 1, 59, 160, 480, 481, 2000, 10_000, 30 * 8 * 60):
        due = add_working_time(CN, start, timedelta(minutes=minutes))
        assert working_time_between(CN, start, due) == timedelta(minutes=minutes)


def test_time_zones_in_and_out():
    # 02:00 UTC is 10:00 in Shanghai: one hour later is 11:00 Shanghai time.
    result = add_working_time(CN, datetime(2026, 11, 23, 2, 0, tzinfo=UTC), H)
    assert result == at("2026-11-23 11:00")
    assert result.utcoffset() == timedelta(hours=8)
    berlin = WorkCalendar.from_dict(
        {"tz": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}}
    )
    # 09:00 Shanghai on Monday is 02:00 in Berlin: rolls to Berlin's 09:00 opening.
    result = add_working_time(berlin, at("2026-11-23 09:00"), H)
    assert result == datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_24x7_and_split_shifts():
    always = WorkCalendar.from_dict(
        {"tz": "Asia/Shanghai", "weekly": {d: [["00:00", "24:00"]] for d in CN_DAYS}}
    )
    assert add_working_time(always, at("2026-11-23 23:00"), 3 * H) == at("2026-11-24 02:00")
    assert add_working_time(always, at("2026-11-23 00:00"), 24 * H) == at("2026-11-24 00:00")
    split = WorkCalendar.from_dict(
        {"weekly": {"mon": [["18:00", "22:00"], ["06:00", "10:00"]]}}  # given out of order
    )
    assert add_working_time(split, at("2026-11-23 09:00"), 2 * H) == at("2026-11-23 19:00")


CN_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.mark.parametrize(
    "data",
    [
        {"weekly": {"mon": [["09:00", "08:00"]]}},
        {"weekly": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
        {"weekly": {"mon": [["25:00", "26:00"]]}},
        {"weekly": {"monday": [["09:00", "12:00"]]}},
        {"weekly": {"mon": [["9h", "12:00"]]}},
    ],
)
def test_bad_calendars_are_refused(data):
    with pytest.raises(CalendarError):
        WorkCalendar.from_dict(data)


def test_refuses_naive_times_negative_deltas_and_empty_calendars():
    with pytest.raises(CalendarError):
        add_working_time(CN, datetime(2026, 11, 23, 10), H)
    with pytest.raises(CalendarError):
        add_working_time(CN, at("2026-11-23 10:00"), -H)
    with pytest.raises(CalendarError):
        add_working_time(WorkCalendar.from_dict({"weekly": {}}), at("2026-11-23 10:00"), H)


def test_thirty_working_days_over_a_holiday():
    # The speed of this very call is measured by bench/business_time.py.
    # Sunday start: 21 Sep … 30 Sep (8 days), 8–10 Oct (3), 12–30 Oct (15), 2–5 Nov (4).
    assert add_working_time(CN, at("2026-09-20 10:00"), 30 * 8 * H) == at("2026-11-05 18:00")
