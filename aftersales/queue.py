"""Queueing background work from a request without making the request depend on the broker.

A task queued from a page either has a sweep behind it that queues it again if it was lost (the
notification outbox's `requeue_deliveries`, the import jobs' cleanup), or its caller runs it
itself when `publish` says the broker could not take it (an agreement's re-plan). Either way a
broker that is down or hangs costs the page an error nowhere.
"""

import logging
from functools import partial

from django.db import transaction
from kombu.exceptions import OperationalError

from .caching import redis_resting

log = logging.getLogger("aftersales.queue")


def publish(task, *args):
    """`task.delay(*args)`; False (logged) when the broker cannot take it now."""
    if redis_resting():  # Redis failed moments ago: do not wait for it again
        log.warning("%s not queued (Redis unreachable): its sweep queues it later", task.name)
        return False
    try:
        task.delay(*args)
    except OperationalError as error:
        log.warning("%s not queued (%s): its sweep queues it later", task.name, error)
        return False
    return True


def publish_on_commit(task, *args):
    """`publish` once the current transaction commits."""
    transaction.on_commit(partial(publish, task, *args))
