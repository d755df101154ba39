"""What the tickets app does when something outside it changes; connected by TicketsConfig.

- Problem types feed the desk's select boxes: a change forgets them (like people's changes do,
  through PEOPLE_CACHES in plugin.py).
- A maintenance plan of `customers` falls due: its work becomes a service request.
- An agreement's SLA terms changed: its open requests are re-planned after the commit.
"""

from django.db.models.signals import post_delete, post_save

from aftersales.caching import forget
from customers.signals import agreement_terms_changed, plan_due

from .models import ProblemType
from .plugin import PEOPLE_CACHES


def _problem_types_changed(sender, **kwargs):
    forget(*PEOPLE_CACHES)


def _plan_due(sender, plan, date, **kwargs):
    from .services import enter_plan_ticket

    return enter_plan_ticket(plan, date)


def _agreement_terms_changed(sender, agreement_id, actor_id=None, **kwargs):
    from .tasks import replan_agreement

    # Sent inside the edit's transaction: the re-plan runs after its commit (it must read the
    # new targets, and nothing is re-planned for an edit that rolled back).
    replan_agreement.delay_on_commit(agreement_id, actor_id)


def connect():
    post_save.connect(_problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt")
    post_delete.connect(_problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt")
    plan_due.connect(_plan_due, dispatch_uid="tickets-plan-due")
    agreement_terms_changed.connect(
        _agreement_terms_changed, dispatch_uid="tickets-replan-agreement"
    )
