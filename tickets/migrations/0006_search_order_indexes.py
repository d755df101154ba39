"""The desk's search reads each way of matching newest first from its own index
(tickets.filters.TicketSearch): a contact phone and a unit get one like the customer's. On
PostgreSQL they carry the filter columns too (see 0005), so a search within a queue is counted
from the index alone.
"""

from django.db import migrations

FILTERS = "id, state, priority, service_type"
INDEXES = {
    "ticket_phone_created": "contact_phone, created_at DESC",
    "ticket_unit_created": "equipment_id, created_at DESC",
}


def create(apps, schema_editor):
    covering = schema_editor.connection.vendor == "postgresql"
    for name, columns in INDEXES.items():
        include = f" INCLUDE ({FILTERS})" if covering else ""
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON tickets_ticket ({columns}){include}"
        )


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_covering_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
