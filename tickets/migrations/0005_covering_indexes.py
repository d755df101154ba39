"""On PostgreSQL, the desk's per-filter indexes carry the other filter columns (INCLUDE).

The desk counts the matches of its filters, up to 1,001
(aftersales.lib.pagination.CappedPaginator). With two filters, say an engineer's repairs,
PostgreSQL read the engineer's every ticket from the table to test its service type (1,700
pages, 5 ms at a million tickets); with the columns in the index it counts from the index alone. The same indexes serve the page itself as before.

The indexes keep their names and columns, so Django's view of the model does not change; other
databases keep the plain indexes.
"""

from django.db import migrations

FILTERS = ("state", "priority", "service_type")
# name: (leading columns, the filter columns it carries)
COVERING = {
    "ticket_engineer_created": ("engineer_id, created_at DESC", FILTERS),
    "ticket_point_created": ("service_point_id, created_at DESC", FILTERS),
    "ticket_problem_created": ("problem_type_id, created_at DESC", FILTERS),
    "ticket_customer_created": ("customer_id, created_at DESC", FILTERS),
    "ticket_state_created": ("state, created_at DESC", ("priority", "service_type")),
    "ticket_priority_created": ("priority, created_at DESC", ("state", "service_type")),
    "ticket_type_created": ("service_type, created_at DESC", ("state", "priority")),
}


def _rebuild(schema_editor, covering):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (columns, carried) in COVERING.items():
        include = f" INCLUDE (id, {', '.join(carried)})" if covering else ""
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX {name} ON tickets_ticket ({columns}){include}")


def cover(apps, schema_editor):
    _rebuild(schema_editor, covering=True)


def uncover(apps, schema_editor):
    _rebuild(schema_editor, covering=False)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_sla_clocks_and_plans")]

    operations = [migrations.RunPython(cover, uncover, elidable=False)]
