"""Maintenance plans get pages of their own (customers.views.plans).

- service_point: the branch that carries out a plan's work (a filter of the list; engineers
  see their own point's plans); last_date: the planned date whose work was created last.
- Indexes for the list's filters, each in next-date order, and on PostgreSQL a trigram index
  for the search in plan names (`icontains`, i.e. UPPER(name) LIKE …).
- Dispatchers and service managers manage plans, engineers read them (customers.plugin).
"""

import django.db.models.deletion
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from aftersales.roles import sync_role_permissions

NAME_INDEX = "plan_name_upper_trgm"


def create_name_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME_INDEX} ON customers_maintenanceplan "
        "USING gin (UPPER(name) gin_trgm_ops)"
    )


def drop_name_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0007_user_language"),
        ("customers", "0007_phone_digits"),
    ]

    operations = [
        migrations.AddField(
            model_name="maintenanceplan",
            name="last_date",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="last planned date"
            ),
        ),
        migrations.AddField(
            model_name="maintenanceplan",
            name="service_point",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The branch that carries out the work; its engineers see the plan.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="maintenance_plans",
                to="aftersales.servicepoint",
                verbose_name="service point",
            ),
        ),
        migrations.AddIndex(
            model_name="maintenanceplan",
            index=models.Index(fields=["active", "next_date", "id"], name="plan_active_next"),
        ),
        migrations.AddIndex(
            model_name="maintenanceplan",
            index=models.Index(
                fields=["service_point", "active", "next_date"], name="plan_point_next"
            ),
        ),
        migrations.AddIndex(
            model_name="maintenanceplan",
            index=models.Index(fields=["kind", "active", "next_date"], name="plan_kind_next"),
        ),
        # Skipped on other databases; pg_trgm is a trusted extension (PostgreSQL >= 13).
        TrigramExtension(),
        migrations.RunPython(create_name_index, drop_name_index, elidable=False),
        migrations.RunPython(sync_role_permissions, migrations.RunPython.noop),
    ]
