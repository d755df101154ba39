"""Fill the database with a realistic demo service department (README: demo logins).

Each app writes its own demo data (`seed_demo` in its plugin.py, see `aftersales.registry`), in
app order so that customers find the organisation's regions and product lines and service
requests find the customers. All of it runs in one transaction: a failure leaves nothing
half-written. Every app creates only what is missing, so a second run writes nothing.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from aftersales import registry
from aftersales.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Fill the database with a demo service department (idempotent; demo password demo12345)."

    def handle(self, *args, **options):
        with transaction.atomic():
            rows = [row for seed in registry.demo_seeders() for row in seed(self.stdout)]
        self.summary(rows)

    def summary(self, rows):
        created = sum(row.created for row in rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} rows created by this run)."
                if created
                else "Demo data already present; nothing changed."
            )
        )
        width = max((len(row.label) for row in rows), default=0)
        for row in rows:
            line = f"  {row.label:<{width}}{row.count:>6}"
            if row.created:
                line += f"  (+{row.created} new)"
            if row.detail:
                line += f"  {row.detail}"
            self.stdout.write(line)
        logins = ", ".join(DEMO_USERS)
        self.stdout.write(f"  Demo logins (password {DEMO_PASSWORD}): {logins}")
