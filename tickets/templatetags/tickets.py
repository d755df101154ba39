from django import template
from django.utils.translation import gettext as _

from tickets import sla

register = template.Library()


@register.filter
def working_time(value):
    """A margin (a timedelta of working time) without its sign, as people read it: "25 min",
    "3 h 5 min" (the words around it say early or late)."""
    if value is None:
        return ""
    hours, minutes = divmod(round(abs(value.total_seconds()) / 60), 60)
    if not hours:
        return _("%(m)s min") % {"m": minutes}
    return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}


@register.filter
def sla_light(ticket):
    """The SLA traffic light (a `tickets.sla.Light` value; empty when no clock runs) of a ticket
    or of a list row with its sla_due and sla_warn_at."""
    return sla.light(ticket) or ""


@register.simple_tag
def customer_rating(ticket):
    """What the tracking page's rating part (templates/tickets/public/_rating.html) shows of a
    ticket: whether it can be rated now (`open`: the work is done), the customer's rating of
    this round (`given`, with its `stars`) or the empty form. One query, none before the work
    is done. (The part is self-contained so that the page includes it in one line.)"""
    from tickets.forms import RatingForm
    from tickets.services import RATABLE_STATES, current_rating

    if ticket.state not in RATABLE_STATES:
        return {"open": False}
    given = current_rating(ticket)
    return {
        "open": True,
        "given": given,
        "stars": [n <= given.score for n in range(1, 6)] if given else [],
        "form": None if given else RatingForm(),
    }
