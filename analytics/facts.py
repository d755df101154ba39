"""A request's fact (`TicketFact`): computed here, in Python, from the raw tables.

This is where each figure is defined (the reports only add facts up):

- opened: the request was entered that day (local time, settings.TIME_ZONE);
- repeat 30 / 90: entered for a unit that had another request, not cancelled, entered in the
  30 / 90 days before (a cancelled request is never a repeat);
- processed: the engineer reported it resolved that day (the last round's report);
- closed: closed after a satisfied revisit that day (verified later or not); with it
  first-time fix (no round ended unresolved and the work took one visit), rounds, visits,
  resolution time (entry to the report of the work done, wall-clock), labour hours, fees (labour
  + travel + other), the amount charged (fees of visits charged to the customer) and parts;
- response / arrival / resolution: each SLA target that has a due time counts on the day its
  outcome was known: met in time (on the day it was met), or late (on the day the breach was
  recorded, or met late without one);
- revisit: the revisits that reached the customer (satisfied or not), on the day of the last:
  each in time when made by the revisit due time then in force, with its score (1–5) when the
  customer gave one (satisfaction = the scores' average).
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import DecimalField, ExpressionWrapper, F, Sum

from tickets.models import PartLine, Revisit, State, Ticket, Visit
from tickets.models.visit import ChargeType

from .models import TicketFact
from .models.figures import RESOLUTION_BUCKETS

FINISHED = {State.CLOSED, State.VERIFIED}
TICKET_FIELDS = (
    "id",
    "state",
    "created_at",
    "checked_in_at",
    "processed_at",
    "closed_at",
    "service_point_id",
    "engineer_id",
    "product_id",
    "product__line_id",
    "problem_type_id",
    "agreement_id",
    "customer_id",
    "customer__level",
    "priority",
    "service_type",
    "equipment_id",
    "round",
    "unresolved_rounds",
    *(
        f"{target}_{part}"
        for target in ("response", "arrival", "resolution")
        for part in ("due", "met_at", "margin", "breached_at")
    ),
)


def _zone():
    return ZoneInfo(settings.TIME_ZONE)


def local_day(moment, zone):
    return moment.astimezone(zone).date() if moment else None


def resolution_bucket(minutes):
    for k, hours in enumerate(RESOLUTION_BUCKETS):
        if minutes <= hours * 60:
            return k
    return len(RESOLUTION_BUCKETS)


def compute(ticket_ids):
    """The facts of these requests (those that still exist), unsaved."""
    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).values(*TICKET_FIELDS))
    if not tickets:
        return []
    # A visit starts with a check-in and a revisit follows a report of the work done; a round
    # that ended unresolved cleared those times, but left its count. So a request that shows
    # none of them has neither (a new, assigned or accepted one: most refreshes after a change),
    # and a request without visits no parts.
    visited = [
        t["id"]
        for t in tickets
        if t["checked_in_at"] or t["processed_at"] or t["closed_at"] or t["unresolved_rounds"]
    ]
    work = _visits(visited) if visited else {}
    parts = _parts(list(work)) if work else {}
    revisits = _revisits(visited) if visited else {}
    earlier = _earlier_requests(tickets)
    zone = _zone()
    return [
        _fact(t, work.get(t["id"]), parts.get(t["id"]), revisits.get(t["id"]), earlier, zone)
        for t in tickets
    ]


def _parts(ids):
    return dict(
        PartLine.objects.filter(visit__ticket_id__in=ids)
        .values("visit__ticket_id")
        .annotate(quantity=Sum("quantity"))
        .values_list("visit__ticket_id", "quantity")
    )


def _visits(ids):
    money = DecimalField(max_digits=12, decimal_places=2)
    fee = ExpressionWrapper(F("labour_fee") + F("travel_fee") + F("other_fee"), output_field=money)
    rows = defaultdict(
        lambda: {"visits": 0, "hours": Decimal(0), "fees": Decimal(0), "charged": Decimal(0)}
    )
    for ticket_id, charge, count, hours, fees in (
        Visit.objects.filter(ticket_id__in=ids)
        .values("ticket_id", "charge")
        .annotate(count=Sum(1), hours=Sum("labour_hours"), fees=Sum(fee))
        .values_list("ticket_id", "charge", "count", "hours", "fees")
    ):
        row = rows[ticket_id]
        row["visits"] += count
        row["hours"] += hours or 0
        row["fees"] += fees or 0
        if charge == ChargeType.CHARGED:
            row["charged"] += fees or 0
    return rows


def _revisits(ids):
    """{ticket: {"last": time of the last, "count", "on_time", "scored", "score_sum"}} over
    the revisits that reached the customer."""
    rows = {}
    for ticket_id, at, due, score in (
        Revisit.objects.filter(
            ticket_id__in=ids,
            outcome__in=[Revisit.Outcome.SATISFIED, Revisit.Outcome.UNSATISFIED],
        )
        .order_by("ticket_id", "at", "id")
        .values_list("ticket_id", "at", "due", "score")
    ):
        row = rows.setdefault(ticket_id, {"count": 0, "on_time": 0, "scored": 0, "score_sum": 0})
        row["last"] = at
        row["count"] += 1
        # A revisit recorded before its due time was kept has none: counted in time.
        row["on_time"] += int(due is None or at <= due)
        if score:
            row["scored"] += 1
            row["score_sum"] += score
    return rows


def _earlier_requests(tickets):
    """{unit: sorted entry times of its requests that are not cancelled}, around these ones."""
    units = {t["equipment_id"] for t in tickets if t["equipment_id"]}
    if not units:
        return {}
    since = min(t["created_at"] for t in tickets) - timedelta(days=90)
    until = max(t["created_at"] for t in tickets)
    times = defaultdict(list)
    for unit, created in (
        Ticket.objects.filter(equipment_id__in=units, created_at__gte=since, created_at__lte=until)
        .exclude(state=State.CANCELLED)
        .order_by("created_at")
        .values_list("equipment_id", "created_at")
    ):
        times[unit].append(created)
    return times


def _repeat(ticket, earlier, days):
    if ticket["state"] == State.CANCELLED or not ticket["equipment_id"]:
        return 0
    created = ticket["created_at"]
    since = created - timedelta(days=days)
    return int(any(since <= t < created for t in earlier.get(ticket["equipment_id"], ())))


def _outcome(ticket, target, zone):
    """(day, 1 met in time / 0 late) of one SLA target, or (None, 0) while undecided."""
    if ticket[f"{target}_due"] is None:
        return None, 0
    breached, met = ticket[f"{target}_breached_at"], ticket[f"{target}_met_at"]
    if breached:
        return local_day(breached, zone), 0
    if met:
        margin = ticket[f"{target}_margin"]
        return local_day(met, zone), int(margin is None or margin >= timedelta(0))
    return None, 0


def _fact(t, work, parts, revisit, earlier, zone):
    work = work or {"visits": 0, "hours": 0, "fees": 0, "charged": 0}
    fact = TicketFact(
        ticket_id=t["id"],
        state=t["state"],
        created_at=t["created_at"],
        service_point_id=t["service_point_id"] or 0,
        engineer_id=t["engineer_id"] or 0,
        product_line_id=t["product__line_id"] or 0,
        product_model_id=t["product_id"] or 0,
        problem_type_id=t["problem_type_id"] or 0,
        agreement_id=t["agreement_id"] or 0,
        customer_id=t["customer_id"],
        customer_level=t["customer__level"] or "",
        priority=t["priority"],
        service_type=t["service_type"],
        repeat30=_repeat(t, earlier, 30),
        repeat90=_repeat(t, earlier, 90),
    )
    days = {"created": local_day(t["created_at"], zone)}
    if t["processed_at"]:
        days["processed"] = local_day(t["processed_at"], zone)
    if t["closed_at"] and t["state"] in FINISHED:
        days["closed"] = local_day(t["closed_at"], zone)
        fact.rounds = t["round"]
        fact.visits = work["visits"]
        fact.first_time_fix = int(t["unresolved_rounds"] == 0 and work["visits"] == 1)
        if t["processed_at"]:
            minutes = int((t["processed_at"] - t["created_at"]).total_seconds() // 60)
            fact.resolution_minutes = max(minutes, 0)
            fact.resolution_bucket = resolution_bucket(fact.resolution_minutes)
        fact.labour_hours = work["hours"]
        fact.fees = work["fees"]
        fact.charged = work["charged"]
        fact.parts = parts or 0
    for target in ("response", "arrival", "resolution"):
        day, ok = _outcome(t, target, zone)
        if day:
            days[target] = day
            setattr(fact, f"{target}_ok", ok)
    if revisit:
        days["revisit"] = local_day(revisit["last"], zone)
        fact.revisits = revisit["count"]
        fact.revisits_on_time = revisit["on_time"]
        fact.revisits_scored = revisit["scored"]
        fact.revisit_score_sum = revisit["score_sum"]
    for event, day in days.items():
        setattr(fact, f"{event}_day", day)
        setattr(fact, f"{event}_month", day.replace(day=1))
    return fact
