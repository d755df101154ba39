"""What the tickets app does when something outside it changes; connected by TicketsConfig.

- Problem types feed the desk's select boxes: a change forgets them (like people's changes do,
  through PEOPLE_CACHES in plugin.py).
- A maintenance plan of `customers` falls due: its work becomes a service request.
"""

from django.db.models.signals import post_delete, post_save

from aftersales.caching import forget
from customers.signals import plan_due

from .models import ProblemType
from .plugin import PEOPLE_CACHES


def _problem_types_changed(sender, **kwargs):
    forget(*PEOPLE_CACHES)


def _plan_due(sender, plan, date, **kwargs):
    from .services import enter_plan_ticket

    return enter_plan_ticket(plan, date)


def connect():
    post_save.connect(_problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt")
    post_delete.connect(_problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt")
    plan_due.connect(_plan_due, dispatch_uid="tickets-plan-due")
