"""Which service requests a person may see or act on: the one answer every tickets page asks.

The rule itself is `Ticket.objects.visible_to(user)` (office roles see every ticket, an engineer
the ones assigned to them); these helpers fetch one ticket through it. A ticket the person may
not see is a 404, never a 403: its number says nothing about whether it exists. Permissions to
act (dispatch, revisit, work) stay on the views (403) and in the services (the transitions).
"""

from django.shortcuts import get_object_or_404

from .models import Ticket


def visible_ticket(user, pk, qs=None):
    """The ticket `pk` if `user` may see it, else 404; `qs` (a Ticket queryset) says what to
    join or fetch with it."""
    # `qs or ...` would evaluate the queryset: every ticket, fetched to test truthiness.
    return get_object_or_404((Ticket.objects if qs is None else qs).visible_to(user), pk=pk)


def engineer_jobs(user):
    """The tickets this person works on as the engineer; office roles opening the engineer's
    pages see only their own too."""
    return Ticket.objects.visible_to(user).filter(engineer=user)


def engineer_job(user, pk, qs=None):
    """The ticket `pk` if it is one of `user`'s jobs (`engineer_jobs`), else 404."""
    jobs = (Ticket.objects if qs is None else qs).visible_to(user).filter(engineer=user)
    return get_object_or_404(jobs, pk=pk)


def public_ticket(token, qs=None):
    """The ticket whose public token (the work order's QR code) this is, for anyone, else 404."""
    return get_object_or_404(Ticket.objects if qs is None else qs, public_token=token)
