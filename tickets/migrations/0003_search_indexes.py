"""Indexes for the dispatcher desk at a million tickets.

- ticket_engineer_created: the desk's engineer filter, newest first, without sorting the
  engineer's whole history.
- On PostgreSQL only, the indexes `tickets.filters.search_tickets` reads on the customer and
  unit tables: a trigram GIN index for the customer name's substring search (`icontains`, i.e.
  UPPER(name) LIKE …), and expression indexes for the case-insensitive customer code and serial
  number (`iexact`, i.e. UPPER(…) = UPPER(…)). They live here because the ticket search is
  what needs them; the customer pages' own searches use them too.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

SEARCH_INDEXES = [
    (
        "customer_name_upper_trgm",
        "customers_customer USING gin (UPPER(name) gin_trgm_ops)",
    ),
    ("customer_code_upper", "customers_customer (UPPER(code))"),
    ("equipment_serial_upper", "customers_equipment (UPPER(serial_no))"),
]


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in SEARCH_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    # Expression indexes have no statistics until the next ANALYZE; without them the planner
    # guesses hundreds of matches and prefers reading every ticket.
    schema_editor.execute("ANALYZE customers_customer, customers_equipment")


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _definition in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("tickets", "0002_roles"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["engineer", "-created_at"], name="ticket_engineer_created"),
        ),
        # Skipped on other databases; pg_trgm is a trusted extension (PostgreSQL >= 13).
        TrigramExtension(),
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
