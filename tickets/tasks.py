"""Celery tasks of the closed loop: thin wrappers around tickets.timers."""

from celery import shared_task

from aftersales.services import record_heartbeat

from . import timers


@shared_task(name="tickets.every_minute", ignore_result=True)
def every_minute():
    counts = timers.every_minute()
    record_heartbeat("sla-timers")
    return counts
