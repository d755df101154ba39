from celery import shared_task

from . import refresh as figures


@shared_task(name="analytics.refresh", ignore_result=True)
def refresh():
    """Bring the figures of the requests changed since the last refresh up to date."""
    return {"refreshed": figures.refresh_all()}
