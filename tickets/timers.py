"""The timers of the closed loop (SPEC §3), run by Celery beat (tickets.tasks).

Every job is idempotent and set-based: it reads only the rows that are due through partial
indexes, so a run costs the same whether 100 or 1,000,000 tickets are open but not yet due,
and running it twice (or on two workers at once) changes nothing the second time. State
changes go through `services.perform` with the system as the actor, in bounded batches.
"""

import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.notifications import Row, Text, notify_many, people_with_role
from aftersales.roles import Role

from . import services
from .hooks import tickets_changed
from .models import State, Ticket
from .sla import CLOCK

log = logging.getLogger(__name__)

# State changes per run and timer; the rest waits for the next minute (bounded work per run).
BATCH = 500
# Above this many events for one person in one run, they get one summary instead.
DIGEST_ABOVE = 20
# What the notices of a warning or a breach need of the ticket.
SWEEP_ROW = ("id", "number", "engineer_id", "created_by_id", "service_point_id")


def mark_sla(now=None):
    """Record warnings (75 %) and breaches once, in one set-based UPDATE (see
    `aftersales.deadlines.Clock.sweep`); return the `Mark`s of what newly happened, each row
    with the ticket's id, number, engineer, creator and service point."""
    return CLOCK.sweep(Ticket, now or timezone.now(), returning=SWEEP_ROW)


def lock_unassigned(today=None):
    """Lock tickets still waiting for an engineer after the customer's requested date."""
    today = today or timezone.localdate()
    ids = list(
        Ticket.objects.filter(state=State.PENDING_ASSIGNMENT, requested_date__lt=today)
        .order_by("requested_date", "id")
        .values_list("id", flat=True)[:BATCH]
    )
    reason = _("No engineer was assigned by the requested date %(date)s.")
    return _fire(ids, "lock_unassigned", reason)


def send_back_missed(today=None):
    """Tickets still `assigned` after the requested date end their round (locked after two)."""
    today = today or timezone.localdate()
    ids = list(
        Ticket.objects.filter(state=State.ASSIGNED, requested_date__lt=today)
        .order_by("requested_date", "id")
        .values_list("id", flat=True)[:BATCH]
    )
    reason = _("The assigned engineer missed the requested date %(date)s.")
    return _fire(ids, "miss_requested_date", reason)


def _fire(ids, action, reason):
    done = []
    for ticket in Ticket.objects.filter(pk__in=ids):
        text = reason % {"date": ticket.requested_date}
        try:
            done.append(services.perform(ticket, action, None, reason=text))
        except services.ActionRefused:
            continue  # changed in between (a person acted first): nothing to do
    return done


def flag_overdue_revisits(now=None):
    now = now or timezone.now()
    ids = list(
        Ticket.objects.filter(
            state=State.PROCESSED, revisit_overdue_at__isnull=True, revisit_due__lte=now
        ).values_list("id", flat=True)
    )
    Ticket.objects.filter(pk__in=ids, revisit_overdue_at__isnull=True).update(
        revisit_overdue_at=now
    )
    return ids


def every_minute(now=None):
    """The every-minute job; returns counts for the log and the tests."""
    now = now or timezone.now()
    with transaction.atomic():
        events = mark_sla(now)
        _notify_sla(events, now)
        tickets_changed.send(Ticket, ids=[mark.row.id for mark in events if mark.breached])
    locked = lock_unassigned(timezone.localdate(now))
    sent_back = send_back_missed(timezone.localdate(now))
    with transaction.atomic():
        overdue = flag_overdue_revisits(now)
        _notify_revisits(overdue, now)
    for ticket in sent_back:
        if ticket.state == State.PENDING_ASSIGNMENT:
            # (a lock told the service managers in services.perform)
            services.tell_role(
                ticket, Role.DISPATCHER, _("%(number)s is back for assignment: %(reason)s")
            )
    counts = {
        "warned": sum(bool(mark.warned) for mark in events),
        "breached": sum(bool(mark.breached) for mark in events),
        "locked": sum(t.state == State.LOCKED for t in locked + sent_back),
        "sent_back": sum(t.state == State.PENDING_ASSIGNMENT for t in sent_back),
        "revisits_overdue": len(overdue),
    }
    if any(counts.values()):
        log.info("timers: %s", counts)
    return counts


# Notifications ----------------------------------------------------------------------------------


def _notify_sla(events, now):
    if not events:
        return
    rows = []
    breach_rows = []
    per_user = {}
    for row, warned, _breached in events:
        for target in warned:
            for user_id in {row.engineer_id, row.created_by_id} - {None}:
                per_user.setdefault(user_id, []).append(
                    (row.id, row.number, f"warn:{row.id}:{target}", target, "warned")
                )
    breached = [(row.id, row.number, t) for row, _warned, targets in events for t in targets]
    for user_id, items in per_user.items():
        if len(items) > DIGEST_ABOVE:
            rows.append(
                Row(
                    user_id,
                    None,
                    Text(
                        _("%(count)s service requests are at risk of missing their SLA"),
                        count=len(items),
                    ),
                    "",
                    reverse("tickets:list") + "?light=at_risk",
                    f"warn-digest:{now:%Y%m%d%H%M}",
                )
            )
            continue
        for ticket_id, number, key, _target, _kind in items:
            rows.append(
                Row(
                    user_id,
                    ticket_id,
                    Text(_("%(number)s: under 25 %% of the SLA time left"), number=number),
                    "",
                    reverse("tickets:detail", args=[ticket_id]),
                    key,
                )
            )
    if breached:
        managers = people_with_role(Role.SERVICE_MANAGER)
        for manager in managers:
            if len(breached) > DIGEST_ABOVE:
                breach_rows.append(
                    Row(
                        manager.pk,
                        None,
                        Text(_("%(count)s SLA targets were breached"), count=len(breached)),
                        "",
                        reverse("tickets:list") + "?light=breached",
                        f"breach-digest:{now:%Y%m%d%H%M}",
                    )
                )
                continue
            for ticket_id, number, target in breached:
                breach_rows.append(
                    Row(
                        manager.pk,
                        ticket_id,
                        Text(_("%(number)s breached its SLA"), number=number),
                        "",
                        reverse("tickets:detail", args=[ticket_id]),
                        f"breach:{ticket_id}:{target}",
                    )
                )
    notify_many("sla_warning", rows, about=Ticket)
    notify_many("sla_breach", breach_rows, about=Ticket)


def _notify_revisits(ids, now):
    if not ids:
        return
    agents = people_with_role(Role.REVISIT_AGENT)
    rows = [
        Row(
            agent.pk,
            None,
            Text(_("%(count)s revisits are overdue"), count=len(ids)),
            "",
            reverse("tickets:revisit_queue"),
            f"revisit-overdue:{now:%Y%m%d%H%M}",
        )
        for agent in agents
    ]
    notify_many("revisit_overdue", rows, about=Ticket)
