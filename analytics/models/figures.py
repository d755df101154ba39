"""The figures behind every report: one fact row per service request, and the rollups.

`TicketFact` is what a report needs to know of one request, computed in Python from the raw
tables (`analytics.facts`): its dimensions (service point, engineer, product line and model,
problem type, priority, service type, customer and level, agreement), the local days on which
its events happened (entered, processed, closed, each SLA target decided, revisited), and its
measures (rounds, visits, hours, fees, satisfaction …). Dimensions that are empty hold 0.

`Rollup` holds the facts summed per day and per month for a few fixed sets of dimensions
("cubes", `analytics.cubes`): the reports read these, a few thousand rows for any range. They
are kept current incrementally (`analytics.refresh`): a changed request is marked `Dirty` in the
transaction that changes it; the refresh subtracts its old fact from the rollups, computes the
new fact and adds it. `manage.py analytics_rebuild` recomputes everything; `analytics_check`
compares the rollups with the same figures computed from the raw tables.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The events of a request, each with the fact's (day, month) columns where it happened.
EVENTS = ("created", "processed", "closed", "response", "arrival", "resolution", "revisit")

# The dimensions a fact has and a rollup row may hold (0 / '' where it does not).
DIMENSIONS = (
    "service_point_id",
    "engineer_id",
    "product_line_id",
    "product_model_id",
    "problem_type_id",
    "agreement_id",
    "customer_id",
    "priority",
    "service_type",
    "customer_level",
)

# Resolution time buckets (hours, upper bounds; the last is open): the median is read from them.
RESOLUTION_BUCKETS = (2, 4, 8, 24, 48, 72, 168, 336)


def _day_fields():
    fields = {}
    for event in EVENTS:
        fields[f"{event}_day"] = models.DateField(null=True)
        fields[f"{event}_month"] = models.DateField(null=True)
    return fields


class _Dimensions(models.Model):
    """What a request is about and who handled it: 0 / '' when empty."""

    service_point_id = models.IntegerField(default=0)
    engineer_id = models.IntegerField(default=0)
    product_line_id = models.IntegerField(default=0)
    product_model_id = models.IntegerField(default=0)
    problem_type_id = models.IntegerField(default=0)
    agreement_id = models.IntegerField(default=0)
    customer_id = models.IntegerField(default=0)
    priority = models.CharField(max_length=10, default="")
    service_type = models.CharField(max_length=20, default="")
    customer_level = models.CharField(max_length=20, default="")

    class Meta:
        abstract = True


class TicketFact(_Dimensions):
    ticket_id = models.BigIntegerField(primary_key=True)
    state = models.CharField(max_length=20)
    created_at = models.DateTimeField()
    locals().update(_day_fields())
    # Entered: another (not cancelled) request for the same unit in the 30 / 90 days before.
    repeat30 = models.SmallIntegerField(default=0)
    repeat90 = models.SmallIntegerField(default=0)
    # Closed (revisit satisfied, later verified or not): how the work went.
    first_time_fix = models.SmallIntegerField(default=0)
    rounds = models.SmallIntegerField(default=0)
    visits = models.SmallIntegerField(default=0)
    resolution_minutes = models.IntegerField(default=0)
    resolution_bucket = models.SmallIntegerField(default=0)
    labour_hours = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    fees = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    charged = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    parts = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    # Each SLA target, on the day its outcome was known: met in time, or late.
    response_ok = models.SmallIntegerField(default=0)
    arrival_ok = models.SmallIntegerField(default=0)
    resolution_ok = models.SmallIntegerField(default=0)
    # Revisits that reached the customer (satisfied or not), counted on the day of the last:
    # how many, how many by their due time, how many with a score (1–5) and the scores' sum.
    revisits = models.SmallIntegerField(default=0)
    revisits_on_time = models.SmallIntegerField(default=0)
    revisits_scored = models.SmallIntegerField(default=0)
    revisit_score_sum = models.SmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["created_day"], name="fact_created_day"),
            models.Index(fields=["processed_day"], name="fact_processed_day"),
            models.Index(fields=["closed_day"], name="fact_closed_day"),
            models.Index(fields=["response_day"], name="fact_response_day"),
            models.Index(fields=["arrival_day"], name="fact_arrival_day"),
            models.Index(fields=["resolution_day"], name="fact_resolution_day"),
            models.Index(fields=["revisit_day"], name="fact_revisit_day"),
            # The drill-down lists a row's requests (one engineer, customer …), newest first.
            *(
                models.Index(fields=[dimension, "-ticket_id"], name=f"fact_{dimension[:-3]}")
                for dimension in (
                    "service_point_id",
                    "engineer_id",
                    "product_model_id",
                    "problem_type_id",
                    "agreement_id",
                    "customer_id",
                )
            ),
            models.Index(
                fields=["state", "created_at"],
                name="fact_open",
                condition=models.Q(
                    state__in=[
                        "pending_assignment",
                        "suspended",
                        "assigned",
                        "in_service",
                        "processed",
                        "locked",
                    ]
                ),
            ),
        ]

    def __str__(self):
        return f"fact {self.ticket_id}"


class Rollup(_Dimensions):
    """The facts' events summed per `cube` (a set of dimensions; the others hold 0 / '') and
    period: `grain` "d" (a day) or "m" (the month starting at `period`)."""

    cube = models.SmallIntegerField()
    grain = models.CharField(max_length=1)
    period = models.DateField()
    opened = models.IntegerField(default=0)
    repeat30 = models.IntegerField(default=0)
    repeat90 = models.IntegerField(default=0)
    processed = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    first_time_fix = models.IntegerField(default=0)
    rounds = models.IntegerField(default=0)
    visits = models.IntegerField(default=0)
    resolution_minutes = models.BigIntegerField(default=0)
    locals().update(
        {
            f"resolved_in_{k}": models.IntegerField(default=0)
            for k in range(len(RESOLUTION_BUCKETS) + 1)
        }
    )
    labour_hours = models.DecimalField(max_digits=14, decimal_places=1, default=0)
    fees = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    charged = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    parts = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    response_ok = models.IntegerField(default=0)
    response_late = models.IntegerField(default=0)
    arrival_ok = models.IntegerField(default=0)
    arrival_late = models.IntegerField(default=0)
    resolution_ok = models.IntegerField(default=0)
    resolution_late = models.IntegerField(default=0)
    revisited = models.IntegerField(default=0)
    revisit_on_time = models.IntegerField(default=0)
    scored = models.IntegerField(default=0)
    score_sum = models.IntegerField(default=0)

    class Meta:
        # The reports' permissions (the model itself is never edited by hand).
        permissions = [
            ("view_reports", _("Can view the service statistics")),
            ("view_own_figures", _("Can view their own figures")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cube", "grain", "period", *DIMENSIONS],
                name="rollup_key",
            )
        ]
        indexes = [
            models.Index(
                fields=["cube", "agreement_id", "grain", "period"], name="rollup_agreement"
            ),
            models.Index(fields=["cube", "customer_id", "grain", "period"], name="rollup_customer"),
            models.Index(fields=["cube", "engineer_id", "grain", "period"], name="rollup_engineer"),
        ]

    def __str__(self):
        return f"{self.cube}/{self.grain}/{self.period}"


class Dirty(models.Model):
    """A request whose fact must be computed again (marked in the transaction that changed it)."""

    ticket_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField()

    def __str__(self):
        return f"dirty {self.ticket_id}"
