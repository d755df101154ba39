from django.db import migrations

from aftersales.lib import cn_holidays

CALENDARS = [
    ("cn-statutory", "中国法定工作日（含节假日与调休）", cn_holidays.china_statutory),
    ("7x24", "7×24 全天候", cn_holidays.around_the_clock),
]


def create(apps, schema_editor):
    BusinessCalendar = apps.get_model("aftersales", "BusinessCalendar")
    for code, name, build in CALENDARS:
        data = build()
        BusinessCalendar.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "time_zone": data["tz"],
                "weekly_hours": data["weekly"],
                "holidays": data["holidays"],
                "workdays": data["workdays"],
                "workday_hours": [],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0004_business_calendar")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
