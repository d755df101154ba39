from celery import shared_task

from . import calendars, notifications
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


@shared_task(bind=True, max_retries=None)
def deliver(self, delivery_id):
    """Send one notification outbox row; on failure try again with back-off (the row counts the
    attempts and gives up after NOTIFY_MAX_ATTEMPTS). Running it twice sends nothing twice."""
    retry_in = notifications.send_delivery(delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task
def requeue_deliveries():
    """Every minute from beat: queue outbox rows whose message was lost."""
    return notifications.requeue_due()


@shared_task
def clear_sessions():
    """Every night from beat: delete expired sessions (Django's clearsessions)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    record_heartbeat("sessions")
    return deleted


@shared_task
def sweep_public_counters():
    """Every hour from beat: delete rate-limit windows and SMS codes older than a day."""
    from . import throttle, verification

    return throttle.sweep() + verification.sweep()


@shared_task
def check_calendars():
    """Every morning from beat: warn the administrators about calendars in use that run out of
    complete years soon (once per calendar and missing year; calendars.warn_running_out)."""
    found = calendars.warn_running_out()
    record_heartbeat("calendars")
    return {"warned": found}
