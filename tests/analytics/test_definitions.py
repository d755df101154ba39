"""Each figure's definition on a small hand-made history whose right answers are written here.

Monday 2 November 2026, Asia/Shanghai; the customer's agreement gives a high-priority request
60 working minutes to respond (assignment), 240 to arrive, 480 to resolve (statutory calendar).
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from aftersales.models import BusinessCalendar
from analytics import figures, metrics, refresh
from analytics.figures import Scope
from tests.factories import CustomerFactory, EquipmentFactory, enter_ticket
from tests.tickets.test_sla import agreement_for
from tickets import services, timers
from tickets.models import Revisit

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def step(when, action, *args, **kwargs):
    with time_machine.travel(at(when), tick=False):
        return action(*args, **kwargs)


def work(ticket, engineer, when, *, resolved=True):
    """Check in at `when` and report the work an hour later."""
    ticket = step(when, services.check_in, ticket, engineer)
    later = (datetime.fromisoformat(when) + timedelta(hours=1)).isoformat(sep=" ")
    return step(
        later,
        services.finish_visit,
        ticket,
        engineer,
        version=ticket.version,
        record={"work_done": "更换滤芯", "labour_hours": "1.5", "labour_fee": "100"},
        parts=[("滤芯", 2)],
        photos=[],
        signature=None,
        resolved=resolved,
        reason="" if resolved else "缺少备件",
    )


def revisit(ticket, agent, when, outcome, score):
    return step(
        when,
        services.record_revisit,
        ticket,
        agent,
        version=ticket.version,
        outcome=outcome,
        score=score,
    )


@pytest.fixture
def history(db, dispatcher, engineer, revisit_agent):
    calendar = BusinessCalendar.objects.get(code="cn-statutory")
    customer = CustomerFactory()
    agreement_for(customer, calendar)
    unit, other_unit = EquipmentFactory(customer=customer), EquipmentFactory(customer=customer)

    def entered(when, **fields):
        return step(when, enter_ticket, dispatcher, customer=customer, priority="high", **fields)

    # T1: assigned after 30 minutes (response met), fixed on the first visit, revisit score 5.
    t1 = entered("2026-11-02 10:00", equipment=unit)
    t1 = step("2026-11-02 10:30", services.perform, t1, "assign", dispatcher, engineer=engineer)
    t1 = work(t1, engineer, "2026-11-02 11:00")
    t1 = revisit(t1, revisit_agent, "2026-11-03 10:00", Revisit.Outcome.SATISFIED, 5)

    # T2: the timer records the response breach at 11:00; two rounds, revisit score 3.
    t2 = entered("2026-11-02 10:00", equipment=other_unit)
    step("2026-11-02 11:01", timers.every_minute)
    t2 = step("2026-11-02 11:30", services.perform, t2, "assign", dispatcher, engineer=engineer)
    t2 = work(t2, engineer, "2026-11-02 13:30", resolved=False)
    t2 = step("2026-11-02 15:00", services.perform, t2, "assign", dispatcher, engineer=engineer)
    t2 = work(t2, engineer, "2026-11-02 16:00")
    t2 = revisit(t2, revisit_agent, "2026-11-03 11:00", Revisit.Outcome.SATISFIED, 3)

    # T3: the same unit as T1 ten days later (a repeat within 30 and 90 days); assigned 70
    # minutes after entry with no timer run in between: met late, no breach recorded.
    t3 = entered("2026-11-12 10:00", equipment=unit)
    t3 = step("2026-11-12 11:10", services.perform, t3, "assign", dispatcher, engineer=engineer)

    # T4: T1's unit 59 days after T1 (49 after T3): a repeat within 90 days, not within 30.
    t4 = entered("2026-12-31 10:00", equipment=unit)
    # T5 cancelled, T6 on its unit five days later: a cancelled request makes no repeat.
    third = EquipmentFactory(customer=customer)
    t5 = entered("2026-11-04 10:00", equipment=third)
    step("2026-11-04 10:10", services.perform, t5, "cancel", dispatcher, reason="重复录入")
    t6 = entered("2026-11-09 10:00", equipment=third)
    refresh.refresh_all()
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5, "t6": t6, "engineer": engineer}


NOVEMBER = Scope(date(2026, 11, 1), date(2026, 11, 30))


def test_counts_first_time_fix_rounds_and_satisfaction(history):
    total = figures.totals(NOVEMBER)[0]
    assert total["opened"] == 5  # T1, T2, T3, T5, T6 (T4 is in December)
    assert total["processed"] == 2 and total["closed"] == 2
    assert metrics.first_time_fix(total) == 0.5  # T1 yes; T2 took two rounds
    assert metrics.rounds(total) == 1.5  # (1 + 2) / 2
    assert total["visits"] == 3
    assert metrics.satisfaction(total) == 4.0  # (5 + 3) / 2
    assert metrics.revisits_on_time(total) == 1.0
    assert total["labour_hours"] == 4.5  # three visits of 1.5 h
    assert total["parts"] == 6


def test_sla_compliance(history):
    total = figures.totals(NOVEMBER)[0]
    # Response: T1 in time; T2 breached (the timer); T3 met 10 minutes late (no breach).
    assert (total["response_ok"], total["response_late"]) == (1, 2)
    assert metrics.sla_rate(total, "response") == pytest.approx(1 / 3)
    assert metrics.sla_breaches(total) >= 2


def test_repeat_failures(history):
    november = figures.totals(NOVEMBER)[0]
    assert (november["repeat30"], november["repeat90"]) == (1, 1)  # T3 only (T6: T5 cancelled)
    december = figures.totals(Scope(date(2026, 12, 1), date(2026, 12, 31)))[0]
    assert (december["opened"], december["repeat30"], december["repeat90"]) == (1, 0, 1)


def test_days_of_events_and_median(history):
    per_day = {row["period"]: row for row in figures.series(NOVEMBER)}
    assert per_day[date(2026, 11, 2)]["opened"] == 2
    assert per_day[date(2026, 11, 3)]["closed"] == 2  # closed on the revisit's day
    # T1 took 2 h from entry to the report (≤ 2 h bucket), T2 7 h (4–8 h): the median lies
    # half-way through the second of the two requests' buckets.
    total = figures.totals(NOVEMBER)[0]
    assert (total["resolved_in_0"], total["resolved_in_2"]) == (1, 1)
    assert metrics.median_resolution_hours(total) == 2.0


def test_drill_down_lists_the_late_responses(history, manager_client):
    url = reverse("analytics:requests")
    page = manager_client.get(
        url, {"start": "2026-11-01", "end": "2026-11-30", "event": "response", "outcome": "late"}
    )
    text = page.content.decode()
    assert history["t2"].number in text and history["t3"].number in text
    assert history["t1"].number not in text


def test_a_change_moves_the_figures_once(history, dispatcher):
    """Cancelling T6 takes it out of nothing it counted in November but its opening: the
    request still was entered; refreshing twice changes nothing."""
    t6 = history["t6"]
    before = figures.totals(NOVEMBER)[0]
    step("2026-11-20 09:00", services.perform, t6, "cancel", dispatcher, reason="客户撤回")
    refresh.refresh_all()
    refresh.refresh_all()
    after = figures.totals(NOVEMBER)[0]
    assert after == before
    assert refresh.compare()["facts"] == 0 and refresh.compare()["rollups"] == 0


def test_an_engineer_may_not_see_reports(history, engineer_client, dispatcher_client):
    for client in (engineer_client, dispatcher_client):
        assert client.get(reverse("analytics:overview")).status_code == 403
        assert client.get(reverse("analytics:requests")).status_code == 403
