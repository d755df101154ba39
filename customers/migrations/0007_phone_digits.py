"""Customers' phones as the searches compare them (aftersales.lib.phones), and the indexes
for searching a part of a phone number or a contact's name.

- phone_digits: the digits of the phone as dialled within China (+862164881234 is searched as
  02164881234), filled here for the existing customers; the field keeps it from then on.
- On PostgreSQL only, trigram indexes for the substring searches (`contains`, `icontains`):
  the customer's phone digits, a contact's mobile, a contact's name (UPPER(name), what
  `icontains` compares). A complete number is an equality, which the trigram index (pg_trgm
  1.6) and the mobile's own index answer.
"""

from django.db import migrations

import aftersales.lib.phones

SEARCH_INDEXES = [
    ("customer_phone_digits_trgm", "customers_customer USING gin (phone_digits gin_trgm_ops)"),
    ("contact_mobile_trgm", "customers_contact USING gin (mobile gin_trgm_ops)"),
    ("contact_name_upper_trgm", "customers_contact USING gin (UPPER(name) gin_trgm_ops)"),
]


def fill(apps, schema_editor):
    aftersales.lib.phones.fill_phone_digits(
        schema_editor, "customers_customer", "phone", "phone_digits"
    )


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Already there where tickets 0003 ran (the order of the two is free); a trusted extension
    # (PostgreSQL >= 13), and never dropped on the way back: other indexes use it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in SEARCH_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    # Fresh statistics for the new column and the expression index (see tickets 0003).
    schema_editor.execute("ANALYZE customers_customer, customers_contact")


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _definition in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_import_job_progress_and_expiry")]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="phone_digits",
            field=aftersales.lib.phones.PhoneDigitsField(source="phone"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
