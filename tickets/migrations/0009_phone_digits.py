"""The desk's search by the contact's phone in any spelling, a part of it, or the contact's
name as entered (tickets.filters.search_tickets).

- contact_phone_digits: the digits of contact_phone (aftersales.lib.phones), which keeps what
  was typed ("0571-8888 8888 转 123"); filled here for the existing tickets.
- ticket_phone_digits_created replaces ticket_phone_created (0006, on the typed value, which
  nothing compares any more), and ticket_contact_name_created reads a name's tickets: each
  newest first, carrying the filter columns on PostgreSQL (see 0005), so a page costs the
  same whether a number has ten tickets or ten thousand.
- On PostgreSQL, ticket_phone_digits_trgm: a part of a number ("8000", the middle eight) is a
  substring search, which a trigram index answers.
- contact_phone loses its own index (and its LIKE twin): nothing looks the typed value up.
"""

from django.db import migrations, models

import aftersales.lib.phones

FILTERS = "id, state, priority, service_type"
INDEXES = {
    "ticket_phone_digits_created": "contact_phone_digits, created_at DESC",
    "ticket_contact_name_created": "UPPER(contact_name), created_at DESC",
}
TRIGRAMS = {"ticket_phone_digits_trgm": "USING gin (contact_phone_digits gin_trgm_ops)"}
OLD = {"ticket_phone_created": "contact_phone, created_at DESC"}


def fill(apps, schema_editor):
    aftersales.lib.phones.fill_phone_digits(
        schema_editor, "tickets_ticket", "contact_phone", "contact_phone_digits"
    )


def _create(schema_editor, indexes):
    covering = schema_editor.connection.vendor == "postgresql"
    for name, columns in indexes.items():
        include = f" INCLUDE ({FILTERS})" if covering else ""
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON tickets_ticket ({columns}){include}"
        )


def create(apps, schema_editor):
    _create(schema_editor, INDEXES)
    for name in OLD:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in TRIGRAMS.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON tickets_ticket {definition}"
            )
        # Statistics for the new column and the UPPER() expression (see 0003).
        schema_editor.execute("ANALYZE tickets_ticket")


def drop(apps, schema_editor):
    for name in [*INDEXES, *TRIGRAMS]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    _create(schema_editor, OLD)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0008_problem_type_product_lines")]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="contact_phone_digits",
            field=aftersales.lib.phones.PhoneDigitsField(source="contact_phone"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create, drop, elidable=False),
        migrations.AlterField(
            model_name="ticket",
            name="contact_phone",
            field=models.CharField(blank=True, max_length=20, verbose_name="contact phone"),
        ),
    ]
