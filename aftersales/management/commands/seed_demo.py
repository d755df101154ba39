"""Fill the database with a realistic demo service department (README: demo logins).

Each app writes its own demo data (`seed_demo` in its plugin.py, see `aftersales.registry`), in
app order so that customers find the organisation's regions and product lines and service
requests find the customers. All of it runs in one transaction: a failure leaves nothing
half-written. Every app creates only what is missing, so a second run writes nothing. The
output is one line per app: what its demo tables hold.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from aftersales import registry
from aftersales.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Fill the database with a demo service department (idempotent; demo password demo12345)."

    def handle(self, *args, **options):
        with transaction.atomic():
            apps = [(app, seed(self.stdout)) for app, seed in registry.demo_seeders()]
        self.summary(apps)

    def summary(self, apps):
        """A line for the run, one per app (what its tables hold now), and the logins."""
        created = sum(row.created for _app, rows in apps for row in rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} rows written)."
                if created
                else "Demo data already present; nothing changed."
            )
        )
        width = max((len(app) for app, _rows in apps), default=0)
        for app, rows in apps:
            counts = ", ".join(
                f"{row.count} {row.label}" + (f" ({row.detail})" if row.detail else "")
                for row in rows
            )
            self.stdout.write(f"  {app:<{width}}  {counts}")
        logins = ", ".join(DEMO_USERS)
        self.stdout.write(f"  Demo logins (password {DEMO_PASSWORD}): {logins}")
