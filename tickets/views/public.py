"""The customer's view of a service request (/t/<token>/), opened from the work order's QR code:
no login, rate limited, milestones only."""

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.decorators import ratelimit

from ..access import public_ticket
from ..models import Ticket, TicketTransition, Visit

# Milestones a customer sees (no reasons, no internal notes, no people's names but the engineer).
PUBLIC_ACTIONS = {
    "enter",
    "assign",
    "unlock",
    "check_in",
    "resolve",
    "close_satisfied",
    "verify",
    "cancel",
    "cancel_locked",
}


@ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_RATE_LIMIT, block=True)
def ticket_public(request, token):
    ticket = public_ticket(
        token, Ticket.objects.select_related("customer", "product", "equipment", "engineer")
    )
    milestones = list(
        TicketTransition.objects.filter(ticket=ticket, action__in=PUBLIC_ACTIONS).order_by(
            "at", "id"
        )
    )
    visits = list(
        ticket.visits.exclude(result=Visit.Result.OPEN)
        .prefetch_related("parts")
        .order_by("checked_in_at")
    )
    return render(
        request,
        "tickets/ticket_public.html",
        {
            "ticket": ticket,
            "milestones": milestones,
            "visits": visits,
            "hotline": settings.SERVICE_HOTLINE,
        },
    )
