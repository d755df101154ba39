"""The SLA clock of a service request (SPEC §3): what is ticket-specific about it.

Three targets per priority come from the agreement covering the ticket's equipment (else the
customer's agreement, else the default policy): response (met on assignment), on-site arrival
(met on check-in) and resolution (met when processed). While a ticket is suspended its clock
stands still. The mechanism (business time, warnings, pause and resume, the light, the sweep)
is `aftersales.deadlines`; `CLOCK` describes the ticket's fields to it.

Functions here change the ticket in memory; `services` saves it with its transition row.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.deadlines import Clock, Light
from aftersales.lib.business_time import add_working_time
from aftersales.models import BusinessCalendar
from customers.models import ServiceAgreement

from .models import OPEN_STATES, State

__all__ = [
    "CLOCK",
    "MET_BY",
    "TARGETS",
    "TARGET_LABELS",
    "Light",
    "budgets",
    "covering_agreement",
    "default_calendar",
    "light",
    "light_filter",
    "on_transition",
    "plan",
    "sla_rows",
]

TARGETS = ("response", "arrival", "resolution")
TARGET_LABELS = {
    "response": _("Response"),
    "arrival": _("On-site arrival"),
    "resolution": _("Resolution"),
}
# The action that meets each target.
MET_BY = {
    "assign": "response",
    "unlock": "response",
    "check_in": "arrival",
    "resolve": "resolution",
}

# Suspension is the clock's pause (`suspended_at`), so "open" is all the ticket adds.
CLOCK = Clock(targets=TARGETS, labels=TARGET_LABELS, is_open=lambda t: t.state in OPEN_STATES)

# What list views and filters call; they read the summary fields only, so a row of
# `values_list(named=True)` with sla_due and sla_warn_at will do for `light`.
light = CLOCK.light
light_filter = CLOCK.light_filter


def sla_rows(ticket, now=None):
    """The ticket page's targets: due, met (with margin), breached, tone."""
    return CLOCK.rows(ticket, now)


def covering_agreement(ticket):
    """The agreement whose targets the ticket's clock counts, in one query: an active one that
    lists the unit, else the customer's active one that lists no unit (it covers the customer's
    units that no agreement lists), else the default policy; the latest start first."""
    day = timezone.localdate(ticket.created_at)
    active = Q(start_date__lte=day, end_date__gte=day)
    units = ServiceAgreement.equipment.through.objects
    found = Q(is_default=True)
    rank = []
    if ticket.equipment_id:
        listed = Q(pk__in=units.filter(equipment=ticket.equipment_id).values("serviceagreement"))
        found |= active & listed
        rank.append(When(active & listed, then=0))
    if ticket.customer_id:
        lists_units = Exists(units.filter(serviceagreement=OuterRef("pk")))
        found |= active & Q(customer=ticket.customer_id, is_default=False) & ~lists_units
        rank.append(When(is_default=False, then=1))
    return (
        ServiceAgreement.objects.filter(found)
        .annotate(rank=Case(*rank, default=2) if rank else Value(2))
        .select_related("calendar")
        .prefetch_related("targets")
        .order_by("rank", "-start_date", "-id")
        .first()
    )


def default_calendar():
    return BusinessCalendar.objects.filter(code=settings.SLA_DEFAULT_CALENDAR).first()


def budgets(agreement, priority):
    """The working time of each target for this priority (none without an agreement)."""
    target = agreement.target_for(priority) if agreement else None
    if target is None:
        return {}
    return {
        name: timedelta(minutes=minutes)
        for name in TARGETS
        if (minutes := getattr(target, f"{name}_minutes", None))
    }


def plan(ticket, now=None):
    """Choose the agreement and calendar and compute every unmet target's due time.

    Used at entry and again when the priority (or the covering agreement) changes: targets
    already met keep their record; unmet ones are computed afresh from the entry time plus the
    business time the clock was stopped.
    """
    agreement = covering_agreement(ticket)
    ticket.agreement = agreement
    ticket.calendar = (agreement.calendar if agreement else None) or default_calendar()
    CLOCK.plan(ticket, budgets(agreement, ticket.priority), now or timezone.now())


def on_transition(ticket, action, source, now):
    """Keep the clock in step with a transition that just happened (in memory): meet the
    action's target, pause on suspension and resume after it, and set the revisit due time."""
    if name := MET_BY.get(action):
        CLOCK.meet(ticket, name, now)
    if ticket.state == State.SUSPENDED and source != State.SUSPENDED:
        CLOCK.pause(ticket, now)
    elif source == State.SUSPENDED and ticket.state != State.SUSPENDED:
        CLOCK.resume(ticket, now)
    if action == "resolve":
        ticket.revisit_due = add_working_time(
            CLOCK.work_calendar(ticket), now, timedelta(hours=settings.REVISIT_WITHIN_HOURS)
        )
        ticket.revisit_overdue_at = None
    elif ticket.state != State.PROCESSED:
        ticket.revisit_due = ticket.revisit_overdue_at = None
    # The state changed: a ticket closed or cancelled has no clock running any more.
    CLOCK.refresh(ticket)
