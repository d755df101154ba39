"""Visit photos and customers' signatures are private: each is served only to a person who may
see its service request (tickets.access's rule), in DEBUG and in production alike.

In production the web server sends the file itself when MEDIA_ACCEL_REDIRECT is set (nginx:
an `internal` location serving MEDIA_ROOT, e.g. MEDIA_ACCEL_REDIRECT=/protected-media/); else
Django streams it.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.cache import cache_control

from ..models import Ticket


@login_required
@cache_control(private=True, max_age=3600)
def visit_file(request, name):
    """`name`: the file's path under MEDIA_ROOT (visits/… or signatures/…)."""
    tickets = Ticket.objects.visible_to(request.user)
    if not tickets.filter(Q(visits__photos__image=name) | Q(visits__signature=name)).exists():
        raise Http404
    if settings.MEDIA_ACCEL_REDIRECT:
        response = HttpResponse(content_type="")
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT.rstrip("/") + "/" + name
        return response
    root = Path(str(settings.MEDIA_ROOT)).resolve()
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"))
