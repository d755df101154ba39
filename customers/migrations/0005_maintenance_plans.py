# Maintenance plans (维保计划) belong to the customers app (they were first written in tickets'
# 0004, before the history of 2026-12-02 put each model in the app it belongs to).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_serviceagreement_calendar"),
    ]

    operations = [
        migrations.CreateModel(
            name="MaintenancePlan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("maintenance", "Preventive maintenance"),
                            ("inspection", "Inspection"),
                            ("consumables", "Consumable replacement"),
                        ],
                        max_length=12,
                        verbose_name="kind",
                    ),
                ),
                (
                    "interval_days",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="every (days)"
                    ),
                ),
                (
                    "interval_months",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="every (months)"
                    ),
                ),
                ("next_date", models.DateField(verbose_name="next date")),
                (
                    "lead_days",
                    models.PositiveSmallIntegerField(default=7, verbose_name="created days ahead"),
                ),
                ("create_on", models.DateField(db_index=True, editable=False)),
                (
                    "priority",
                    models.CharField(
                        choices=[
                            ("urgent", "Urgent"),
                            ("high", "High"),
                            ("normal", "Normal"),
                            ("low", "Low"),
                        ],
                        default="normal",
                        max_length=10,
                        verbose_name="priority",
                    ),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "agreement",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="maintenance_plans",
                        to="customers.serviceagreement",
                        verbose_name="agreement",
                    ),
                ),
                (
                    "equipment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="maintenance_plans",
                        to="customers.equipment",
                        verbose_name="equipment",
                    ),
                ),
            ],
            options={
                "verbose_name": "maintenance plan",
                "verbose_name_plural": "maintenance plans",
                "ordering": ["next_date", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="maintenanceplan",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("agreement__isnull", True), ("equipment__isnull", False)),
                    models.Q(("agreement__isnull", False), ("equipment__isnull", True)),
                    _connector="OR",
                ),
                name="plan_for_unit_or_agreement",
                violation_error_message="A plan is for one unit or for one agreement.",
            ),
        ),
        migrations.AddConstraint(
            model_name="maintenanceplan",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("interval_days__gt", 0), ("interval_months__isnull", True)),
                    models.Q(("interval_days__isnull", True), ("interval_months__gt", 0)),
                    _connector="OR",
                ),
                name="plan_interval_days_or_months",
                violation_error_message="Give the interval in days or in months.",
            ),
        ),
    ]
