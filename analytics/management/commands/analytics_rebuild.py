from django.core.management.base import BaseCommand

from analytics import refresh


class Command(BaseCommand):
    help = (
        "Compute every request's fact and every rollup of the statistics again from the raw "
        "tables (after loading data outside the services, or to repair them)."
    )

    def handle(self, *args, **options):
        result = refresh.rebuild(log=lambda text: self.stdout.write(f"  {text}"))
        self.stdout.write(f"{result['facts']:,} requests in {result['seconds']} s")
