"""China's statutory holidays and make-up working days (调休上班), as the State Council
published them: 国办发明电〔2024〕12号 (2025) and the notice of 4 Nov 2025 (2026).

Plain data for business calendars; add a year when its notice is out (each November).
"""

from datetime import date, timedelta


def _days(first, last):
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


HOLIDAYS = {
    2025: [
        *_days("2025-01-01", "2025-01-01"),  # 元旦
        *_days("2025-01-28", "2025-02-04"),  # 春节
        *_days("2025-04-04", "2025-04-06"),  # 清明节
        *_days("2025-05-01", "2025-05-05"),  # 劳动节
        *_days("2025-05-31", "2025-06-02"),  # 端午节
        *_days("2025-10-01", "2025-10-08"),  # 国庆节、中秋节
    ],
    2026: [
        *_days("2026-01-01", "2026-01-03"),  # 元旦
        *_days("2026-02-15", "2026-02-23"),  # 春节
        *_days("2026-04-04", "2026-04-06"),  # 清明节
        *_days("2026-05-01", "2026-05-05"),  # 劳动节
        *_days("2026-06-19", "2026-06-21"),  # 端午节
        *_days("2026-09-25", "2026-09-27"),  # 中秋节
        *_days("2026-10-01", "2026-10-07"),  # 国庆节
    ],
}
MAKE_UP_WORKDAYS = {
    2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    2026: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
}

OFFICE_HOURS = [["09:00", "12:00"], ["13:00", "18:00"]]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def china_statutory():
    """Monday–Friday office hours with China's holidays and make-up days."""
    return {
        "tz": "Asia/Shanghai",
        "weekly": dict.fromkeys(WEEKDAYS, OFFICE_HOURS),
        "holidays": [d for year in sorted(HOLIDAYS) for d in HOLIDAYS[year]],
        "workdays": [d for year in sorted(MAKE_UP_WORKDAYS) for d in MAKE_UP_WORKDAYS[year]],
    }


def around_the_clock():
    """7×24: every hour of every day."""
    return {
        "tz": "Asia/Shanghai",
        "weekly": {day: [["00:00", "24:00"]] for day in (*WEEKDAYS, "sat", "sun")},
        "holidays": [],
        "workdays": [],
    }
