"""Quiet hours: the part of each day (local time) in which automated messages to customers wait.

    hours = parse("21:00-08:00")        # across midnight; "08:00-21:00" works too
    hours.contains(moment)              # 21:00 ≤ local time < 08:00
    hours.end_after(moment)             # the moment the quiet period holding `moment` ends

The period includes its start and excludes its end: with 21:00-08:00 a message due at 20:59 or
08:00 goes out, one due at 21:00 or 07:59 waits. Times are read in the site's time zone
(settings.TIME_ZONE, Asia/Shanghai), whatever the zone of the moment given.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone

_FORMAT = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")
# Values that turn quiet hours off.
OFF = {"", "off", "none"}


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def __str__(self):
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, moment):
        now = timezone.localtime(moment).time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end  # across midnight

    def end_after(self, moment):
        """The end of the quiet period that holds `moment` (an aware datetime); `moment`
        itself when it is not quiet."""
        if not self.contains(moment):
            return moment
        local = timezone.localtime(moment)
        end = datetime.combine(local.date(), self.end)
        if local.time() >= self.end:  # before midnight, in a period that ends tomorrow
            end += timedelta(days=1)
        # Wall-clock time in the site's zone (a zone with DST may shift it by its jump).
        return timezone.make_aware(end, local.tzinfo)


def parse(text):
    """A QuietHours from "HH:MM-HH:MM", or None for "" / "off" (no quiet hours).

    Raises ValueError, with the reason, for anything else: a missing dash, an hour past 23, a
    minute past 59, or a period that starts when it ends."""
    text = (text or "").strip()
    if text.lower() in OFF:
        return None
    found = _FORMAT.match(text)
    if not found:
        raise ValueError(f"{text!r} is not of the form HH:MM-HH:MM (e.g. 21:00-08:00)")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{text!r} names a time that does not exist (00:00 to 23:59)")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ValueError(f"{text!r} starts when it ends: give a period, or 'off' for none")
    return QuietHours(start, end)
