"""What the tickets app does when something outside it changes; connected by TicketsConfig.

- Problem types feed the desk's select boxes: a change forgets them (like people's changes do,
  through PEOPLE_CACHES in plugin.py).
- A maintenance plan of `customers` falls due: its work becomes a service request.
- An agreement's SLA terms changed: its open requests are re-planned after the commit.
- A business calendar changed: the open requests counting in it are re-planned likewise.

It also adds its parts to the customers app's pages (customers.slots): the customer's service
requests on the customer 360° page, "New service request" on a unit's page.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.caching import forget
from aftersales.queue import publish
from aftersales.registry import Link, Panel
from aftersales.signals import calendar_changed
from customers.signals import agreement_terms_changed, plan_due
from customers.slots import customer_panels, equipment_actions, equipment_panels

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
    # new targets, and nothing is re-planned for an edit that rolled back). No sweep would find
    # a re-plan the broker lost: when it cannot take it, the re-plan runs here and now.
    def replan():
        if not publish(replan_agreement, agreement_id, actor_id):
            replan_agreement(agreement_id, actor_id)

    transaction.on_commit(replan)


def _calendar_changed(sender, calendar_id, actor_id=None, **kwargs):
    from .tasks import replan_calendar

    # As for an agreement: after the commit, in the worker, or here when the broker refuses it.
    def replan():
        if not publish(replan_calendar, calendar_id, actor_id):
            replan_calendar(calendar_id, actor_id)

    transaction.on_commit(replan)


def _customer_tickets(request, customer):
    """The customer's last ten requests (None: this person may not see requests)."""
    if not request.user.has_perm("tickets.view_ticket"):
        return {"tickets": None}
    tickets = customer.tickets.select_related("engineer", "problem_type")
    return {"tickets": tickets.order_by("-created_at", "-id")[:10]}


CUSTOMER_TICKETS = Panel("tickets/_customer_panel.html", _customer_tickets, rank=100)


def _unit_history(request, unit):
    """The unit's service history, newest first (what a dispatcher looks for first)."""
    if not request.user.has_perm("tickets.view_ticket"):
        return None
    tickets = unit.tickets.select_related("engineer", "problem_type")
    return {"tickets": tickets.order_by("-created_at", "-id")[:20], "unit": unit}


UNIT_HISTORY = Panel("tickets/_unit_history.html", _unit_history, rank=100)
NEW_TICKET_FOR_UNIT = Link(
    _("New service request"),
    lambda unit: f"{reverse('tickets:create')}?equipment={unit.pk}",
    "headset",
    "tickets.add_ticket",
    rank=100,
)


def connect():
    post_save.connect(_problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt")
    post_delete.connect(_problem_types_changed, sender=ProblemType, dispatch_uid="desk-choices-pt")
    plan_due.connect(_plan_due, dispatch_uid="tickets-plan-due")
    agreement_terms_changed.connect(
        _agreement_terms_changed, dispatch_uid="tickets-replan-agreement"
    )
    calendar_changed.connect(_calendar_changed, dispatch_uid="tickets-replan-calendar")
    customer_panels.register(CUSTOMER_TICKETS)
    equipment_actions.register(NEW_TICKET_FOR_UNIT)
    equipment_panels.register(UNIT_HISTORY)
