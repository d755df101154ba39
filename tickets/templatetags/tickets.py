from django import template

from tickets import sla

register = template.Library()


@register.filter
def duration_minutes(value):
    """A timedelta as whole minutes, without its sign (the words say early or late)."""
    if value is None:
        return ""
    return round(abs(value.total_seconds()) / 60)


@register.filter
def sla_light(ticket):
    """The SLA traffic light (a `tickets.sla.Light` value; empty when no clock runs) of a ticket
    or of a list row with its sla_due and sla_warn_at."""
    return sla.light(ticket) or ""
