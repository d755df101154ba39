"""Visit photos, customers' signatures and the photos customers sent are private: each is served
only to a person who may see its service request (tickets.access's rule), in DEBUG and in
production alike.

In production the web server sends the file itself when MEDIA_ACCEL_REDIRECT is set; else
Django streams it (aftersales.lib.private_media).
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.views.decorators.cache import cache_control

from aftersales.lib.private_media import private_file_response

from ..models import CustomerPhoto, Ticket


@login_required
@cache_control(private=True, max_age=3600)
def visit_file(request, name):
    """`name`: the file's path under MEDIA_ROOT (visits/…, signatures/… or customer-photos/…)."""
    tickets = Ticket.objects.visible_to(request.user)
    if name.startswith("customer-photos/"):
        # A portal request's photo before it is matched: for the dispatchers who match it.
        seen = tickets.filter(customer_photos__image=name).exists() or (
            request.user.has_perm("tickets.dispatch_ticket")
            and CustomerPhoto.objects.filter(image=name, intake__isnull=False).exists()
        )
    else:
        seen = tickets.filter(Q(visits__photos__image=name) | Q(visits__signature=name)).exists()
    if not seen:
        raise Http404
    return private_file_response(name)
