from celery.schedules import crontab
from django.core.management.base import BaseCommand

from aftersales import registry


class Command(BaseCommand):
    help = (
        "Run every app's timers now, in this process, as Celery beat would send them: the "
        "periodic ones (SLA warnings and breaches, requested-date locks, overdue revisits, "
        "notification retries) and, with --daily, those on a daily clock as well "
        "(maintenance plans, renewal and warranty reminders)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--daily", action="store_true", help="also run the daily timers")

    def handle(self, *args, **options):
        from aftersales.celery import app

        app.loader.import_default_modules()  # every app's tasks.py
        for name, entry in registry.beat_schedule().items():
            if isinstance(entry["schedule"], crontab) and not options["daily"]:
                continue
            result = app.tasks[entry["task"]](*entry.get("args", ()), **entry.get("kwargs", {}))
            if result:
                self.stdout.write(f"{name}: {result}")
