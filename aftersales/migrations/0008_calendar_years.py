"""Calendars know their complete years and the names of their days; the ready-made China
calendar gets 2027's statutory holidays; roles get the calendar permissions.

The ready-made calendar ("cn-statutory") is brought up to date only if nobody changed it: its
hours, zone and days are still those of 0005 (2025–2026, or 2025–2027 on a database created
after this data was added to cn_holidays). A calendar somebody changed keeps its days, and its
complete years are taken to be the years it has days in (the page shows them, to correct).
2027 is not complete: its make-up days come from the State Council's notice (cn_holidays).
"""

from datetime import date

from django.db import migrations, models

from aftersales.lib import cn_holidays
from aftersales.roles import sync_role_permissions

READY_MADE = "cn-statutory"


def _dates(data):
    return set(data["holidays"]), set(data["workdays"])


def _unchanged(calendar, data):
    # Versions of the ready-made days this migration may find: those 0005 wrote before 2027 was
    # added, and those it writes now.
    versions = [_dates(cn_holidays.china_statutory((2025, 2026))), _dates(data)]
    return (
        calendar.time_zone == data["tz"]
        and calendar.weekly_hours == data["weekly"]
        and not calendar.workday_hours
        and (set(calendar.holidays), set(calendar.workdays)) in versions
    )


def _years_with_days(calendar):
    return sorted({date.fromisoformat(d).year for d in [*calendar.holidays, *calendar.workdays]})


def forwards(apps, schema_editor):
    BusinessCalendar = apps.get_model("aftersales", "BusinessCalendar")
    data = cn_holidays.china_statutory((2025, 2026, 2027))
    for calendar in BusinessCalendar.objects.all():
        if calendar.code == READY_MADE and _unchanged(calendar, data):
            calendar.holidays = data["holidays"]
            calendar.workdays = data["workdays"]
            calendar.day_names = data["names"]
            calendar.years = data["years"]
        else:
            calendar.years = _years_with_days(calendar)
        calendar.save()


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0007_user_language")]

    operations = [
        migrations.AddField(
            model_name="businesscalendar",
            name="day_names",
            field=models.JSONField(blank=True, default=dict, verbose_name="names of the days"),
        ),
        migrations.AddField(
            model_name="businesscalendar",
            name="years",
            field=models.JSONField(blank=True, default=list, verbose_name="complete years"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(sync_role_permissions, migrations.RunPython.noop),
    ]
