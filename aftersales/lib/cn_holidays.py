"""China's statutory holidays and make-up working days (调休上班), for the ready-made calendars.

2025 and 2026 are the State Council's notices: 国办发明电〔2024〕12号 (2025) and the notice of
4 Nov 2025 (2026), bridge days and make-up days included (`CONFIRMED_YEARS`).

2027 holds the statutory days only, as 《全国年节及纪念日放假办法》 (2024 amendment) fixes them
(元旦 1 day; 春节 4 days, 除夕 to 初三; 清明节 1; 劳动节 2, 1–2 May; 端午节 1; 中秋节 1; 国庆节
3, 1–3 October), on 2027's lunar dates (春节 6 Feb, so 除夕 is 5 Feb as 腊月 has 29 days; 清明
5 Apr; 端午 9 Jun; 中秋 15 Sep). The State Council's notice for 2027 (国务院办公厅关于2027年部分
节假日安排的通知) was not at hand: its bridge days, the days off in lieu of holidays that fall on a
weekend (补假, article 6 of the 办法) and its make-up working days must be entered from the
notice on the calendar's page (menu: Business calendars), and the year then marked complete
there. Until then 2027 is not a complete year, and the status page and the daily check say so.

Plain data; add a year when its notice is out (each November), with a data migration for the
ready-made calendars that nobody changed (see 0008_calendar_years).
"""

from datetime import date, timedelta


def _days(first, last):
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


# (first day, last day, name) per holiday of each year.
HOLIDAYS = {
    2025: [
        ("2025-01-01", "2025-01-01", "元旦"),
        ("2025-01-28", "2025-02-04", "春节"),
        ("2025-04-04", "2025-04-06", "清明节"),
        ("2025-05-01", "2025-05-05", "劳动节"),
        ("2025-05-31", "2025-06-02", "端午节"),
        ("2025-10-01", "2025-10-08", "国庆节、中秋节"),
    ],
    2026: [
        ("2026-01-01", "2026-01-03", "元旦"),
        ("2026-02-15", "2026-02-23", "春节"),
        ("2026-04-04", "2026-04-06", "清明节"),
        ("2026-05-01", "2026-05-05", "劳动节"),
        ("2026-06-19", "2026-06-21", "端午节"),
        ("2026-09-25", "2026-09-27", "中秋节"),
        ("2026-10-01", "2026-10-07", "国庆节"),
    ],
    # The statutory days only (see the module's docstring).
    2027: [
        ("2027-01-01", "2027-01-01", "元旦"),
        ("2027-02-05", "2027-02-08", "春节"),
        ("2027-04-05", "2027-04-05", "清明节"),
        ("2027-05-01", "2027-05-02", "劳动节"),
        ("2027-06-09", "2027-06-09", "端午节"),
        ("2027-09-15", "2027-09-15", "中秋节"),
        ("2027-10-01", "2027-10-03", "国庆节"),
    ],
}
# (date, name) per make-up working day: the holiday it makes up for.
MAKE_UP_WORKDAYS = {
    2025: [
        ("2025-01-26", "春节调休"),
        ("2025-02-08", "春节调休"),
        ("2025-04-27", "劳动节调休"),
        ("2025-09-28", "国庆节调休"),
        ("2025-10-11", "国庆节调休"),
    ],
    2026: [
        ("2026-01-04", "元旦调休"),
        ("2026-02-14", "春节调休"),
        ("2026-02-28", "春节调休"),
        ("2026-05-09", "劳动节调休"),
        ("2026-09-20", "国庆节调休"),
        ("2026-10-10", "国庆节调休"),
    ],
    2027: [],
}
# The years whose State Council notice the data follows in full.
CONFIRMED_YEARS = (2025, 2026)

OFFICE_HOURS = [["09:00", "12:00"], ["13:00", "18:00"]]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def china_statutory(years=None):
    """Monday–Friday office hours with China's holidays and make-up days of `years` (default:
    every year above), their names, and which of them are complete (`years`)."""
    years = sorted(HOLIDAYS if years is None else years)
    holidays, workdays, names = [], [], {}
    for year in years:
        for first, last, name in HOLIDAYS.get(year, ()):
            for day in _days(first, last):
                holidays.append(day)
                names[day] = name
        for day, name in MAKE_UP_WORKDAYS.get(year, ()):
            workdays.append(day)
            names[day] = name
    return {
        "tz": "Asia/Shanghai",
        "weekly": dict.fromkeys(WEEKDAYS, OFFICE_HOURS),
        "holidays": holidays,
        "workdays": workdays,
        "names": names,
        "years": [year for year in years if year in CONFIRMED_YEARS],
    }


def around_the_clock():
    """7×24: every hour of every day."""
    return {
        "tz": "Asia/Shanghai",
        "weekly": {day: [["00:00", "24:00"]] for day in (*WEEKDAYS, "sat", "sun")},
        "holidays": [],
        "workdays": [],
        "names": {},
        "years": [],
    }
