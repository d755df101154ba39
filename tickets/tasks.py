"""Celery tasks of the closed loop: thin wrappers around tickets.timers and tickets.services."""

import logging

from celery import shared_task
from celery.signals import worker_init
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


@worker_init.connect(weak=False, dispatch_uid="tickets-warm-up-pdf")
def warm_up_pdf(**kwargs):
    """A worker loads WeasyPrint and the fonts as it starts (its pool's processes inherit them),
    not while a customer waits for the first report. A machine without Pango still runs every
    other task: said in the log, the report tasks fail on their own."""
    try:
        from . import pdf

        pdf.warm_up()
    except Exception:
        logging.getLogger(__name__).exception("PDF rendering is not available in this worker")
