from django.core.management.base import BaseCommand

from tickets import timers


class Command(BaseCommand):
    help = (
        "Run the closed loop's timers now, as Celery beat does: the every-minute job "
        "(SLA warnings and breaches, requested-date locks, overdue revisits) and, with --daily, "
        "the daily job (maintenance-plan tickets, renewal and warranty reminders)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--daily", action="store_true", help="also run the daily job")

    def handle(self, *args, **options):
        self.stdout.write(f"every minute: {timers.every_minute()}")
        if options["daily"]:
            self.stdout.write(f"daily: {timers.daily()}")
