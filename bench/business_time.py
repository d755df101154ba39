"""How fast is business-time arithmetic? (issue: "a deadline 30 working days away in a calendar
with holidays in well under a millisecond").

    .venv/bin/python bench/business_time.py
"""

import statistics
import sys
import timeit
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aftersales.lib.business_time import (  # noqa: E402
    WorkCalendar,
    add_working_time,
    working_time_between,
)

OFFICE = [["09:00", "12:00"], ["13:00", "18:00"]]
CALENDAR = WorkCalendar.from_dict(
    {
        "tz": "Asia/Shanghai",
        "weekly": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), OFFICE),
        "holidays": [f"2026-10-0{d}" for d in range(1, 8)] + ["2026-01-01", "2026-05-01"],
        "workdays": ["2026-10-10", "2026-09-28"],
    }
)
START = datetime(2026, 9, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CASES = {
    "add 4 working hours": lambda: add_working_time(CALENDAR, START, timedelta(hours=4)),
    "add 30 working days": lambda: add_working_time(CALENDAR, START, timedelta(hours=240)),
    "between, 30 working days": lambda: working_time_between(
        CALENDAR, START, START + timedelta(days=46)
    ),
    "between, one year": lambda: working_time_between(CALENDAR, START, START + timedelta(days=365)),
}


def main():
    target = 1e-3
    ok = True
    print(f"{'case':<28}{'median µs':>12}{'best µs':>10}")
    for name, call in CASES.items():
        runs = [t / 1000 for t in timeit.repeat(call, number=1000, repeat=7)]
        median, best = statistics.median(runs), min(runs)
        print(f"{name:<28}{median * 1e6:>12.1f}{best * 1e6:>10.1f}")
        if name == "add 30 working days" and median >= target:
            ok = False
    print("target: 30 working days well under 1 ms —", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
