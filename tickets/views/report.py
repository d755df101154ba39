"""The electronic service report's pages: for staff from the ticket page (the ticket page's
permission), for the customer from the tracking page (/t/<token>/, once the request is
processed; rate limited like the other public pages).

The web version is drawn when asked, in the reader's language; the PDF is the stored copy of
this version, rendered here when the worker has not done it yet (tickets.reports.current_report).
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control
from django_ratelimit.decorators import ratelimit

from aftersales.lib.private_media import private_file_response

from .. import reports
from ..access import public_ticket, visible_ticket
from ..models import ServiceReport, Visit

Audience = ServiceReport.Audience


def _public_rate(group, request):
    return settings.PUBLIC_RATE_LIMIT


def _pdf(ticket, audience):
    report = reports.current_report(ticket, audience)
    return private_file_response(
        report.file.name,
        download_as=reports.download_name(ticket),
        content_type="application/pdf",
    )


# Staff -------------------------------------------------------------------------------------------


def _staff_ticket(request, pk):
    # The ticket page's rule: office roles (view_ticket), through the one access helper.
    if not request.user.has_perm("tickets.view_ticket"):
        raise Http404
    return visible_ticket(request.user, pk, reports.with_related())


@login_required
@cache_control(private=True, no_cache=True)
def staff_report(request, pk):
    ticket = _staff_ticket(request, pk)
    html = reports.render_web(
        reports.report_facts(ticket, Audience.STAFF, get_language()),
        file_url=default_storage.url,  # tickets.media_urls: for people who may see the request
        pdf_url=reverse("tickets:report_pdf", args=[ticket.pk]),
        back_url=ticket.get_absolute_url(),
    )
    return HttpResponse(html)


@login_required
@cache_control(private=True, no_cache=True)
def staff_report_pdf(request, pk):
    return _pdf(_staff_ticket(request, pk), Audience.STAFF)


# The customer ------------------------------------------------------------------------------------


def _customer_ticket(token):
    """The request of this tracking link once its report is offered; else 404, as for a link
    that does not exist."""
    ticket = public_ticket(token, reports.with_related())
    if not reports.customer_may_see(ticket):
        raise Http404
    return ticket


@ratelimit(key="ip", rate=_public_rate, block=True)
@cache_control(private=True, no_cache=True)
def public_report(request, token):
    ticket = _customer_ticket(token)
    html = reports.render_web(
        reports.report_facts(ticket, Audience.CUSTOMER, get_language()),
        file_url=lambda name: reverse("ticket_report_file", args=[token, name]),
        pdf_url=reverse("ticket_report_pdf", args=[token]),
        back_url=reverse("ticket_public", args=[token]),
    )
    return HttpResponse(html)


@ratelimit(key="ip", rate=_public_rate, block=True)
@cache_control(private=True, no_cache=True)
def public_report_pdf(request, token):
    return _pdf(_customer_ticket(token), Audience.CUSTOMER)


@ratelimit(key="ip", rate=_public_rate, block=True)
@cache_control(private=True, max_age=3600)
def public_report_file(request, token, name):
    """A photo or the signature of one of the request's recorded visits (the web version's)."""
    ticket = _customer_ticket(token)
    recorded = ticket.visits.exclude(result=Visit.Result.OPEN)
    if not recorded.filter(Q(photos__image=name) | Q(signature=name)).exists():
        raise Http404
    return private_file_response(name)
