"""Celery tasks of the closed loop: thin wrappers around tickets.timers and tickets.services."""

from celery import shared_task
from django.db import OperationalError

from aftersales.services import record_heartbeat

from . import reports, services, timers


@shared_task(name="tickets.every_minute", ignore_result=True)
def every_minute():
    counts = timers.every_minute()
    record_heartbeat("sla-timers")
    return counts


# A lock wait that ends in a deadlock or a timeout is tried again: the service is idempotent.
@shared_task(
    name="tickets.replan_agreement",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def replan_agreement(agreement_id, actor_id=None):
    """An agreement's SLA terms changed: re-plan its open requests (services.replan_agreement)."""
    return services.replan_agreement(agreement_id, actor_id)


@shared_task(
    name="tickets.replan_calendar",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def replan_calendar(calendar_id, actor_id=None):
    """A business calendar changed: re-plan the open requests counting in it
    (services.replan_calendar)."""
    return services.replan_calendar(calendar_id, actor_id)


@shared_task(
    name="tickets.render_service_reports",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def render_service_reports(ticket_id):
    """A request's visit record or 核销 changed: render the copies of its service report whose
    content changed (reports.render_reports); running it twice renders nothing the second time."""
    return reports.render_reports(ticket_id)
