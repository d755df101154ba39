"""Writing maintenance plans (the pages in customers.views.plans): save, deactivate, reactivate.

A plan is never deleted from the pages: its service requests keep pointing at it. Every write
locks the plan's row first, as the daily job does (customers.timers.run_due_plans), so an edit
and the job's move to the next date never overwrite each other.
"""

from django.db import transaction
from django.utils import timezone

from .models import MaintenancePlan

# The columns a plan's form sets (MaintenancePlanForm; the interval is one of the two).
FIELDS = [
    "name",
    "kind",
    "equipment",
    "agreement",
    "interval_days",
    "interval_months",
    "next_date",
    "lead_days",
    "priority",
    "service_point",
]


def save_plan(plan, values, *, drawn_next_date=None):
    """Create (`plan.pk` None) or change a plan with `values` ({field: value} of FIELDS).

    `drawn_next_date`: the next date the edit form showed. When the person left it as it was
    and the daily job has moved the plan on since, the job's date stays: writing the old one
    back would announce a date whose work is already created.
    """
    with transaction.atomic():
        if plan.pk is not None:
            current = MaintenancePlan.objects.select_for_update().get(pk=plan.pk)
            if values["next_date"] == drawn_next_date:
                values = {**values, "next_date": current.next_date}
            plan.active = current.active
            plan.last_date = current.last_date
        for name in FIELDS:
            setattr(plan, name, values[name])
        plan.save()
    return plan


def set_plan_active(plan, active, today=None):
    """Deactivate or reactivate a plan; returns (plan as saved, whether it changed).

    Deactivated, the daily job passes it by (it reads `active` again under the row lock).
    Reactivated, a next date that went by meanwhile moves on to the first planned date from
    today: no request is created for a date long gone.
    """
    with transaction.atomic():
        locked = MaintenancePlan.objects.select_for_update().get(pk=plan.pk)
        if locked.active == active:
            return locked, False
        locked.active = active
        if active:
            today = today or timezone.localdate()
            while locked.next_date < today:
                locked.next_date = locked.following_date()
        locked.save()
    return locked, True
