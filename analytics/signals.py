"""Marking changed requests for the refresh of the figures (`analytics.refresh`).

Every save of a request, a visit, a part line or a revisit marks its request in the saving
transaction; the set-based updates of the timers send `tickets.hooks.tickets_changed`. After the
commit a refresh is queued for the worker (the every-minute refresh takes what it missed).
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from aftersales.queue import publish
from tickets.hooks import tickets_changed
from tickets.models import PartLine, Revisit, State, Ticket, Visit

from .refresh import mark

# While a refresh waits in the queue another is not queued: it takes every mark there is when
# it starts (`refresh_all`), and it drops this flag first. The flag lives in Redis, which every
# process shares; without Redis (the embedded setup) every change queues one. A lost task holds
# the next one back at most QUEUED_FOR seconds, and the every-minute refresh runs regardless.
QUEUED = "analytics:refresh-queued"
QUEUED_FOR = 30


def _send_refresh():
    from .tasks import refresh

    if settings.REDIS_URL and not cache.add(QUEUED, 1, QUEUED_FOR):
        return
    if not publish(refresh):
        cache.delete(QUEUED)


def _queue_refresh():
    # Once per transaction, however many requests it changed (a demo history changes
    # thousands in one).
    connection = transaction.get_connection()
    if not any(func is _send_refresh for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(_send_refresh, robust=True)


def _changed(ids):
    ids = [pk for pk in ids if pk]
    if ids:
        mark(ids)
        _queue_refresh()


def _ticket_saved(sender, instance, **kwargs):
    ids = [instance.pk]
    if instance.state == State.CANCELLED and instance.equipment_id:
        # A cancelled request is no longer the earlier one of its unit's repeat failures.
        ids += Ticket.objects.filter(
            equipment_id=instance.equipment_id, created_at__gt=instance.created_at
        ).values_list("pk", flat=True)[:100]
    _changed(ids)


def _visit_saved(sender, instance, **kwargs):
    _changed([instance.ticket_id])


def _part_saved(sender, instance, **kwargs):
    _changed(
        [Visit.objects.filter(pk=instance.visit_id).values_list("ticket_id", flat=True).first()]
    )


def _tickets_changed(sender, ids, **kwargs):
    _changed(list(ids))


def connect():
    for signal in (post_save, post_delete):
        signal.connect(_ticket_saved, sender=Ticket, dispatch_uid="analytics-ticket")
        signal.connect(_visit_saved, sender=Visit, dispatch_uid="analytics-visit")
        signal.connect(_visit_saved, sender=Revisit, dispatch_uid="analytics-revisit")
        signal.connect(_part_saved, sender=PartLine, dispatch_uid="analytics-part")
    tickets_changed.connect(_tickets_changed, dispatch_uid="analytics-tickets")
