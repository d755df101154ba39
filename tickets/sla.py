"""SLA clocks of a ticket (SPEC §3), computed in the business time of its agreement's calendar.

Three targets per priority come from the agreement covering the ticket's equipment (else the
customer's agreement, else the default policy): response (met on assignment), on-site arrival
(met on check-in) and resolution (met when processed). While a ticket is suspended its clocks
stop; the business time spent suspended pushes every unmet due time out by exactly that much.

Functions here change the ticket in memory; `services.perform` saves it with the transition.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.lib.business_time import WorkCalendar, add_working_time, working_time_between
from aftersales.lib.cn_holidays import china_statutory
from aftersales.models import BusinessCalendar
from customers.models import ServiceAgreement

from .models import OPEN_STATES, State

TARGETS = ("response", "arrival", "resolution")
TARGET_LABELS = {
    "response": _("Response"),
    "arrival": _("On-site arrival"),
    "resolution": _("Resolution"),
}
# The action that meets each target.
MET_BY = {
    "assign": "response",
    "unlock": "response",
    "check_in": "arrival",
    "resolve": "resolution",
}
WARN_SHARE = 0.75  # warn when 75 % of a target's time is used (under 25 % left)


class Light:
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    BREACHED = "breached"

    LABELS = {
        ON_TIME: _("On time"),
        AT_RISK: _("At risk"),
        BREACHED: _("Breached"),
    }
    TONES = {ON_TIME: "success", AT_RISK: "warning", BREACHED: "danger"}


_FALLBACK = None


def work_calendar(ticket):
    """The `WorkCalendar` of the ticket (its calendar, else China's statutory working days)."""
    global _FALLBACK
    if ticket.calendar_id:
        return ticket.calendar.calendar
    if _FALLBACK is None:
        _FALLBACK = WorkCalendar.from_dict(china_statutory())
    return _FALLBACK


def covering_agreement(ticket):
    day = timezone.localdate(ticket.created_at)
    active = (
        ServiceAgreement.objects.active_on(day)
        .select_related("calendar")
        .prefetch_related("targets")
        .order_by("-start_date", "-id")
    )
    if ticket.equipment_id:
        found = active.filter(equipment=ticket.equipment_id).first()
        if found:
            return found
    # The customer's agreement: one that covers the customer as a whole (no unit list) first.
    found = (
        active.filter(customer=ticket.customer_id, is_default=False)
        .annotate(units=Count("equipment"))
        .order_by("units", "-start_date", "-id")
        .first()
    )
    if found:
        return found
    return (
        ServiceAgreement.objects.filter(is_default=True)
        .select_related("calendar")
        .prefetch_related("targets")
        .first()
    )


def default_calendar():
    return BusinessCalendar.objects.filter(code=settings.SLA_DEFAULT_CALENDAR).first()


def plan(ticket, now=None):
    """Choose the agreement and calendar and compute every unmet target's due time.

    Used at entry and again when the priority (or the covering agreement) changes: targets
    already met keep their record; unmet ones are computed afresh from the entry time plus the
    business time the clocks were stopped.
    """
    now = now or timezone.now()
    agreement = covering_agreement(ticket)
    ticket.agreement = agreement
    ticket.calendar = (agreement.calendar if agreement else None) or default_calendar()
    cal = work_calendar(ticket)
    target = agreement.target_for(ticket.priority) if agreement else None
    for name in TARGETS:
        if getattr(ticket, f"{name}_met_at"):
            continue
        minutes = getattr(target, f"{name}_minutes", None) if target else None
        if not minutes:
            _set(ticket, name, due=None, warn=None)
            continue
        budget = timedelta(minutes=minutes)
        due = add_working_time(cal, ticket.created_at, budget + ticket.sla_paused)
        warn = add_working_time(cal, ticket.created_at, budget * WARN_SHARE + ticket.sla_paused)
        _set(ticket, name, due=due, warn=warn)
        # A new, later due time takes back a warning or a breach that no longer holds.
        if due > now:
            setattr(ticket, f"{name}_breached_at", None)
        if warn > now:
            setattr(ticket, f"{name}_warned_at", None)
    refresh(ticket)


def _set(ticket, name, *, due, warn):
    setattr(ticket, f"{name}_due", due)
    setattr(ticket, f"{name}_warn_at", warn)


def on_transition(ticket, action, source, now):
    """Keep the clocks in step with a transition that just happened (in memory)."""
    name = MET_BY.get(action)
    if name and getattr(ticket, f"{name}_met_at") is None:
        due = getattr(ticket, f"{name}_due")
        setattr(ticket, f"{name}_met_at", now)
        if due is not None:
            setattr(ticket, f"{name}_margin", margin(work_calendar(ticket), due, now))
    if ticket.state == State.SUSPENDED and source != State.SUSPENDED:
        ticket.suspended_at = now
    elif source == State.SUSPENDED and ticket.state != State.SUSPENDED:
        resume(ticket, now)
    if action == "resolve":
        ticket.revisit_due = add_working_time(
            work_calendar(ticket), now, timedelta(hours=settings.REVISIT_WITHIN_HOURS)
        )
        ticket.revisit_overdue_at = None
    elif ticket.state != State.PROCESSED:
        ticket.revisit_due = ticket.revisit_overdue_at = None
    refresh(ticket)


def resume(ticket, now):
    """Push every unmet due time out by the business time spent suspended."""
    if ticket.suspended_at is None:
        return
    cal = work_calendar(ticket)
    paused = working_time_between(cal, ticket.suspended_at, now)
    ticket.sla_paused += paused
    ticket.suspended_at = None
    if not paused:
        return
    for name in TARGETS:
        if getattr(ticket, f"{name}_met_at"):
            continue
        for field in ("due", "warn_at"):
            moment = getattr(ticket, f"{name}_{field}")
            if moment is not None:
                setattr(ticket, f"{name}_{field}", add_working_time(cal, moment, paused))


def margin(cal, due, met):
    """Working time to spare at `met` (negative when late)."""
    if met <= due:
        return working_time_between(cal, met, due)
    return -working_time_between(cal, due, met)


def refresh(ticket):
    """Derive the list fields and the timer's next look from the targets (no clocks: empty)."""
    running = ticket.state in OPEN_STATES and ticket.state != State.SUSPENDED
    unmet = [n for n in TARGETS if getattr(ticket, f"{n}_met_at") is None]
    dues = [getattr(ticket, f"{n}_due") for n in unmet if getattr(ticket, f"{n}_due")]
    ticket.sla_due = min(dues) if running and dues else None
    ticket.sla_warn_at = None
    if ticket.sla_due is not None:
        nearest = next(n for n in unmet if getattr(ticket, f"{n}_due") == ticket.sla_due)
        ticket.sla_warn_at = getattr(ticket, f"{nearest}_warn_at")
    checks = []
    for n in unmet:
        if getattr(ticket, f"{n}_warned_at") is None and getattr(ticket, f"{n}_warn_at"):
            checks.append(getattr(ticket, f"{n}_warn_at"))
        if getattr(ticket, f"{n}_breached_at") is None and getattr(ticket, f"{n}_due"):
            checks.append(getattr(ticket, f"{n}_due"))
    ticket.sla_check_at = min(checks) if running and checks else None


def light(ticket, now=None):
    """The traffic light of the nearest unmet target, or None when no clock runs."""
    if ticket.sla_due is None:
        return None
    now = now or timezone.now()
    if ticket.sla_due <= now:
        return Light.BREACHED
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        return Light.AT_RISK
    return Light.ON_TIME


def light_filter(value, now=None):
    """A queryset filter for one traffic light (uses the sla_due index)."""
    now = now or timezone.now()
    if value == Light.BREACHED:
        return Q(sla_due__lte=now)
    if value == Light.AT_RISK:
        return Q(sla_due__gt=now, sla_warn_at__lte=now)
    if value == Light.ON_TIME:
        return Q(sla_due__gt=now) & (Q(sla_warn_at__gt=now) | Q(sla_warn_at__isnull=True))
    return Q()


def sla_rows(ticket, now=None):
    """The three targets for the ticket page: due, met (with margin), warned, breached."""
    now = now or timezone.now()
    rows = []
    for name in TARGETS:
        due = getattr(ticket, f"{name}_due")
        if due is None:
            continue
        met = getattr(ticket, f"{name}_met_at")
        late = (met or now) > due
        rows.append(
            {
                "name": name,
                "label": TARGET_LABELS[name],
                "due": due,
                "met_at": met,
                "margin": getattr(ticket, f"{name}_margin"),
                "breached_at": getattr(ticket, f"{name}_breached_at"),
                "tone": "danger" if late else ("success" if met else "neutral"),
            }
        )
    return rows


def replan_agreement(agreement):
    """Recompute the unmet targets of the open tickets this agreement covers (after an edit)."""
    from .models import Ticket

    tickets = (
        Ticket.objects.select_for_update(of=("self",))
        .filter(agreement=agreement, state__in=OPEN_STATES)
        .select_related("calendar")
    )
    fields = [f"{n}_{part}" for n in TARGETS for part in ("due", "warn_at", "warned_at")]
    fields += [f"{n}_breached_at" for n in TARGETS]
    fields += ["agreement", "calendar", "sla_due", "sla_warn_at", "sla_check_at"]
    changed = []
    for ticket in tickets:
        plan(ticket)
        changed.append(ticket)
    Ticket.objects.bulk_update(changed, fields, batch_size=500)
    return len(changed)
