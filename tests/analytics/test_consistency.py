"""The rollups equal the same figures computed straight from the raw tables, on random data.

Forty requests live random lives over three months (entered, assigned, declined, worked on
once or twice, revisited, cancelled, verified), the timer runs now and then, and the figures
are refreshed at random moments (some changes wait for the next refresh). At the end every
figure read through the rollups — over whole months, over ranges cut across months, per
service point and per problem type — equals its definition computed with the ORM from the
tickets, visits and revisits; `compare` finds no difference, and a rebuild changes nothing.
"""

import contextlib
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Count

from aftersales.models import BusinessCalendar
from analytics import figures, refresh
from analytics.figures import Scope
from tests.factories import (
    CustomerFactory,
    EngineerProfileFactory,
    EquipmentFactory,
    ProblemTypeFactory,
    enter_ticket,
)
from tests.tickets.test_sla import agreement_for
from tickets import services, timers
from tickets.models import Revisit, State, Ticket, Visit

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SH)


def local(moment):
    return moment.astimezone(SH).date()


@pytest.fixture
def random_history(db, dispatcher, revisit_agent, service_manager):
    rng = random.Random(20261203)
    calendar = BusinessCalendar.objects.get(code="cn-statutory")
    engineers = [EngineerProfileFactory().user for _ in range(3)]
    problems = [ProblemTypeFactory() for _ in range(3)]
    customers = [CustomerFactory(level=level) for level in ("regular", "vip", "strategic")]
    for customer in customers[:2]:
        agreement_for(customer, calendar)
    units = [EquipmentFactory(customer=rng.choice(customers)) for _ in range(8)]
    now = START
    tickets = []

    def later(hours):
        nonlocal now
        now += timedelta(hours=hours)
        return time_machine.travel(now, tick=False)

    for _n in range(40):
        with later(rng.uniform(1, 50)):
            unit = rng.choice(units)
            t = enter_ticket(
                dispatcher,
                customer=unit.customer,
                equipment=unit,
                priority=rng.choice(["normal", "high", "urgent"]),
                problem_type=rng.choice(problems),
            )
            tickets.append(t.pk)
        for _step in range(rng.randint(1, 14)):
            t = Ticket.objects.get(pk=t.pk)
            with later(rng.uniform(0.2, 20)):
                if rng.random() < 0.2:
                    timers.every_minute()
                    continue
                with contextlib.suppress(services.ActionRefused):  # not possible now: next
                    t = _random_step(t, rng, dispatcher, revisit_agent, service_manager, engineers)
            if rng.random() < 0.3:
                refresh.refresh_all()
    refresh.refresh_all()
    return tickets


def _random_step(t, rng, dispatcher, agent, manager, engineers):
    if t.state == State.PENDING_ASSIGNMENT:
        if rng.random() < 0.1:
            return services.perform(t, "cancel", dispatcher, reason="客户撤回")
        return services.perform(t, "assign", dispatcher, engineer=rng.choice(engineers))
    if t.state == State.ASSIGNED:
        if rng.random() < 0.1:
            return services.perform(t, "decline", t.engineer, reason="不在区域")
        return services.check_in(t, t.engineer)
    if t.state == State.IN_SERVICE:
        resolved = rng.random() < 0.65
        return services.finish_visit(
            t,
            t.engineer,
            version=t.version,
            record={"labour_hours": str(rng.choice([0.5, 1, 2])), "labour_fee": "80"},
            parts=[("滤芯", rng.randint(1, 3))] if rng.random() < 0.5 else [],
            photos=[],
            signature=None,
            resolved=resolved,
            reason="" if resolved else "缺件",
        )
    if t.state == State.PROCESSED:
        outcome = rng.choice(
            [Revisit.Outcome.SATISFIED] * 3
            + [Revisit.Outcome.UNSATISFIED, Revisit.Outcome.UNREACHABLE]
        )
        score = rng.choice([None, 2, 3, 4, 5]) if outcome != Revisit.Outcome.UNREACHABLE else None
        return services.record_revisit(t, agent, version=t.version, outcome=outcome, score=score)
    if t.state == State.CLOSED:
        return services.perform(t, "verify", manager)
    if t.state == State.LOCKED:
        return services.perform(t, "unlock", manager, engineer=rng.choice(engineers))
    return t


def raw_figures(start, end, **filters):
    """The definitions of analytics.facts, computed with the ORM from the raw tables."""
    tickets = list(Ticket.objects.filter(**filters))
    visits = dict(Visit.objects.values_list("ticket_id").annotate(n=Count("pk")))
    within = lambda moment: moment is not None and start <= local(moment) <= end  # noqa: E731
    closed = [
        t for t in tickets if t.state in (State.CLOSED, State.VERIFIED) and within(t.closed_at)
    ]
    conclusive = Revisit.objects.filter(
        ticket__in=tickets, outcome__in=[Revisit.Outcome.SATISFIED, Revisit.Outcome.UNSATISFIED]
    ).order_by("at")
    last = {}
    for r in conclusive:
        last.setdefault(r.ticket_id, []).append(r)
    revisits = [r for rs in last.values() if within(rs[-1].at) for r in rs]
    scored = [r.score for r in revisits if r.score]
    out = {
        "opened": sum(within(t.created_at) for t in tickets),
        "processed": sum(within(t.processed_at) for t in tickets),
        "closed": len(closed),
        "first_time_fix": sum(t.unresolved_rounds == 0 and visits.get(t.pk) == 1 for t in closed),
        "rounds": sum(t.round for t in closed),
        "revisited": len(revisits),
        "scored": len(scored),
        "score_sum": sum(scored),
    }
    for target in ("response", "arrival", "resolution"):
        ok = late = 0
        for t in tickets:
            due, met = getattr(t, f"{target}_due"), getattr(t, f"{target}_met_at")
            breached = getattr(t, f"{target}_breached_at")
            margin = getattr(t, f"{target}_margin")
            if due is None:
                continue
            if breached:
                late += within(breached)
            elif met:
                if margin is None or margin >= timedelta(0):
                    ok += within(met)
                else:
                    late += within(met)
        out[f"{target}_ok"], out[f"{target}_late"] = ok, late
    return out


RANGES = [
    (date(2026, 9, 1), date(2026, 12, 31)),  # whole months only
    (date(2026, 9, 17), date(2026, 11, 5)),  # cut across months: days, a month, days
    (date(2026, 10, 3), date(2026, 10, 21)),  # inside one month
]


def test_rollups_equal_the_raw_tables(random_history):
    assert Ticket.objects.filter(state__in=[State.CLOSED, State.VERIFIED]).exists()
    for start, end in RANGES:
        total = figures.totals(Scope(start, end))[0]
        raw = raw_figures(start, end)
        assert {k: total[k] for k in raw} == raw, (start, end)
    # Per service point and per problem type (two cubes), and with a level filter (another).
    start, end = RANGES[1]
    for row in figures.totals(Scope(start, end), by=["problem_type_id"]):
        raw = raw_figures(start, end, problem_type_id=row["problem_type_id"] or None)
        assert {k: row[k] for k in raw} == raw
    for level in ("regular", "vip", "strategic"):
        total = figures.totals(Scope(start, end, {"customer_level": level}))[0]
        raw = raw_figures(start, end, customer__level=level)
        assert {k: total[k] for k in raw} == raw


def test_series_add_up_to_the_totals(random_history):
    start, end = RANGES[1]
    for scope in (Scope(start, end), Scope(date(2026, 9, 1), date(2026, 12, 31))):
        points = figures.series(scope)
        total = figures.totals(scope)[0]
        assert sum(p["opened"] for p in points) == total["opened"]
        assert sum(p["closed"] for p in points) == total["closed"]


def test_nothing_differs_and_a_rebuild_changes_nothing(random_history):
    assert refresh.compare() == {"facts": 0, "rollups": 0, "examples": []}
    before = [figures.totals(Scope(s, e)) for s, e in RANGES]
    refresh.rebuild()
    assert [figures.totals(Scope(s, e)) for s, e in RANGES] == before


def test_compare_finds_a_stale_rollup(random_history):
    from analytics.models import Rollup

    row = Rollup.objects.filter(cube=1, grain="d", opened__gt=0).first()
    Rollup.objects.filter(pk=row.pk).update(opened=row.opened + 1)
    assert refresh.compare()["rollups"] == 2  # the changed row, and the row it should be


def test_the_sql_refresh_of_a_large_batch_agrees(random_history, monkeypatch):
    """Above SMALL_BATCH requests a refresh sums their change in SQL instead of Python: the same
    figures either way (every request marked again, some after a change)."""
    monkeypatch.setattr(refresh, "SMALL_BATCH", 0)
    before = [figures.totals(Scope(s, e)) for s, e in RANGES]
    refresh.mark(random_history)
    assert refresh.refresh_all() == len(random_history)
    assert [figures.totals(Scope(s, e)) for s, e in RANGES] == before
    Ticket.objects.filter(pk=random_history[0]).update(priority="urgent")
    refresh.mark(random_history)
    refresh.refresh_all()
    assert refresh.compare() == {"facts": 0, "rollups": 0, "examples": []}
