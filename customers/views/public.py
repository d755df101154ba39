"""The pages anyone may open without signing in: what a unit's QR code shows."""

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django_ratelimit.decorators import ratelimit

from ..models import Equipment


@ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_RATE_LIMIT, block=True)
def public_equipment(request, token):
    """What the QR code on a unit opens: the unit's public facts (fault reporting comes later)."""
    unit = get_object_or_404(
        Equipment.objects.select_related("product_model__line", "customer"), qr_token=token
    )
    return render(
        request,
        "customers/public_equipment.html",
        {"unit": unit, "hotline": settings.SERVICE_HOTLINE},
    )
