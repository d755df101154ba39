"""Visit photos and customers' signatures are private: each is served only to a person who may
see its service request (tickets.access's rule), in DEBUG and in production alike.

In production the web server sends the file itself when MEDIA_ACCEL_REDIRECT is set; else
Django streams it (aftersales.lib.private_media).
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.views.decorators.cache import cache_control

from aftersales.lib.private_media import private_file_response

from ..models import Ticket


@login_required
@cache_control(private=True, max_age=3600)
def visit_file(request, name):
    """`name`: the file's path under MEDIA_ROOT (visits/… or signatures/…)."""
    tickets = Ticket.objects.visible_to(request.user)
    if not tickets.filter(Q(visits__photos__image=name) | Q(visits__signature=name)).exists():
        raise Http404
    return private_file_response(name)
