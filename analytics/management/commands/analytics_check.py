from django.core.management.base import BaseCommand, CommandError

from analytics import refresh


class Command(BaseCommand):
    help = (
        "Compare the statistics' facts and rollups with the same figures computed again from "
        "the raw tables; fails listing the differences (requests still waiting for their "
        "refresh are left out)."
    )

    def handle(self, *args, **options):
        result = refresh.compare(log=lambda text: self.stdout.write(f"  {text}"))
        if result["facts"] or result["rollups"]:
            for line in result["examples"]:
                self.stdout.write(f"  {line}")
            raise CommandError(
                f"{result['facts']} facts and {result['rollups']} rollup rows differ from the "
                "raw tables: run `manage.py analytics_rebuild`"
            )
        self.stdout.write("The statistics equal the raw tables.")
