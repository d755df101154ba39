from celery import shared_task

from .services import record_heartbeat


@shared_task
def heartbeat():
    """Runs every minute from beat; the status page shows that workers and timers are alive."""
    record_heartbeat("beat")


@shared_task
def ping(value):
    """Echo task used to check a worker end to end."""
    record_heartbeat("ping")
    return value
