from celery import shared_task
from django.core.cache import cache

from . import refresh as figures
from .signals import QUEUED


@shared_task(name="analytics.refresh", ignore_result=True)
def refresh():
    """Bring the figures of the requests changed since the last refresh up to date."""
    # First: a change committed from now on queues the next refresh (analytics.signals).
    cache.delete(QUEUED)
    return {"refreshed": figures.refresh_all()}
