"""The customer's view of a service request (/t/<token>/): the link in every SMS and on the work
order's QR code. No login, rate limited; milestones in plain words, never internal notes,
reasons, staff phone numbers, or fees before the work is verified.

A portal request still waiting to be matched to its unit (`Intake`) has the same kind of link;
matching gives the service request the same token, so the customer's link keeps working.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django_ratelimit.decorators import ratelimit

from ..models import Intake, State, Ticket, TicketTransition, Visit

# What a customer is told of each action; actions not named here are internal (declined,
# locked, re-planned, priority …).
PUBLIC_EVENTS = {
    "enter": (_("Request received"), "inbox"),
    "assign": (_("Engineer assigned"), "person-check"),
    "unlock": (_("Engineer assigned"), "person-check"),
    "accept": (_("The engineer confirmed the job"), "check2"),
    "depart": (_("The engineer is on the way"), "truck"),
    "check_in": (_("The engineer is on site"), "geo-alt"),
    "resolve": (_("Service completed"), "tools"),
    "not_resolved": (_("Another visit is needed"), "arrow-repeat"),
    "suspend": (_("On hold"), "pause-circle"),
    "resume": (_("Resumed"), "play-circle"),
    "customer_info": (_("You added information"), "chat-text"),
    "rate": (_("You rated the service"), "star"),
    "close_satisfied": (_("Closed after your feedback"), "emoji-smile"),
    "reopen_unsatisfied": (_("Reopened after your feedback"), "arrow-counterclockwise"),
    "verify": (_("Fees confirmed"), "receipt"),
    "cancel": (_("Cancelled"), "x-circle"),
    "cancel_locked": (_("Cancelled"), "x-circle"),
}

# The state in plain words, under its badge.
PLAIN_STATES = {
    State.PENDING_ASSIGNMENT: _("We have your request and are choosing an engineer."),
    State.SUSPENDED: _("Your request is on hold; we will contact you."),
    State.ASSIGNED: _("An engineer has the job and will contact you."),
    State.IN_SERVICE: _("The engineer is working on it."),
    State.PROCESSED: _("The work is done. We will call you to ask how it went."),
    State.CLOSED: _("Finished. Thank you for your feedback."),
    State.VERIFIED: _("Finished."),
    State.LOCKED: _("A service manager is taking care of your request."),
    State.CANCELLED: _("This request was cancelled."),
}


def _events(ticket):
    rows = TicketTransition.objects.filter(ticket=ticket, action__in=PUBLIC_EVENTS).order_by(
        "at", "id"
    )
    return [
        {"at": at, "label": PUBLIC_EVENTS[action][0], "icon": PUBLIC_EVENTS[action][1]}
        for action, at in rows.values_list("action", "at")
    ]


@ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_RATE_LIMIT, block=True)
def ticket_public(request, token):
    ticket = (
        Ticket.objects.select_related("product", "equipment", "engineer")
        .filter(public_token=token)
        .first()
    )
    if ticket is None:
        return _intake_public(request, token)
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
            "plain_state": PLAIN_STATES.get(ticket.state, ""),
            "events": _events(ticket),
            "visits": visits,
            # Fees are the verified ones: before verification a correction may change them.
            "show_fees": ticket.state == State.VERIFIED,
            "hotline": settings.SERVICE_HOTLINE,
        },
    )


def _intake_public(request, token):
    found = Intake.objects.filter(token=token).first()
    if found is None:
        raise Http404
    return render(
        request,
        "tickets/portal/intake_public.html",
        {"intake": found, "hotline": settings.SERVICE_HOTLINE},
    )
