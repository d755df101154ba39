"""The customer rates the service on the tracking page (/t/<token>/rate/): no login, CSRF
checked, rate limited like the page; the form itself is templates/tickets/public/_rating.html."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from aftersales.lib.actions import run_action

from .. import services
from ..access import public_ticket
from ..forms import RatingForm


@require_POST
@ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_RATE_LIMIT, block=True)
def ticket_rate(request, token):
    ticket = public_ticket(token)  # a guessed token: 404
    page = reverse("ticket_public", args=[token]) + "#rating"
    return run_action(
        request,
        RatingForm(request.POST),
        lambda data: services.rate_ticket(ticket, score=data["score"], comment=data["comment"]),
        success=lambda done: _("Thank you for rating our service."),
        after=lambda done: page,
    )
