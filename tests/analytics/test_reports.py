"""The problem type, agreement, service type and SLA reports on a small hand-made history whose
right answers are written here.

November 2026, Asia/Shanghai (Monday the 2nd). Customer A (VIP) has an annual-fee full-service
agreement, customer B (regular) a per-visit one; high priority: respond within 60 working
minutes, arrive within 240, resolve within 480; normal: 120 / 1440 / 2880.

    T1  2 Nov 10:00  unit U1 (model M1)  不制冷  high   repair       assigned 10:30, work 11–12,
                                                                     closed 3 Nov (2 h)
    T2 12 Nov 10:00  U1, 10 days later   不制冷  high   repair       assigned 11:10 (late),
                                                                     work 12–13, closed 13 Nov (3 h)
    T3  5 Nov 10:00  U3 (model M2), B    不制冷  normal maintenance  assigned 10:20,
                                                                     work 14–15, closed 6 Nov (5 h)
    T4  4 Nov 10:00  U2 (M1)             漏水    high   repair       cancelled at 10:10
    T5  9 Nov 10:00  U2, 5 days later    漏水    high   repair       waiting (no repeat: T4 was
                                                                     cancelled)
    T6 11 Jan 2027   U1, 60 days after T2 不制冷 high   repair       waiting (a repeat within 90
                                                                     days, not within 30)

Each visit: 1.5 labour hours, 100 labour + 20 travel fee, 2 filters; charged to B, free under
A's agreement.
"""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from aftersales.models import BusinessCalendar
from analytics import refresh
from analytics.figures import Scope
from analytics.reports import drill_url, raw
from customers.models import Customer, Priority, ServiceAgreement
from tests.factories import (
    CustomerFactory,
    EquipmentFactory,
    ProblemTypeFactory,
    ProductLineFactory,
    ProductModelFactory,
    ServiceAgreementFactory,
    enter_ticket,
    ticket_in_state,
)
from tests.tickets.test_sla import agreement_for
from tickets import services
from tickets.models import Revisit, ServiceType
from tickets.models.visit import ChargeType

SH = ZoneInfo("Asia/Shanghai")
REPORTS = ["analytics:problems", "analytics:agreements", "analytics:services", "analytics:sla"]
NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def step(when, action, *args, **kwargs):
    with time_machine.travel(at(when), tick=False):
        return action(*args, **kwargs)


def work(ticket, engineer, when, charge):
    """Check in at `when` and report the work done an hour later."""
    ticket = step(when, services.check_in, ticket, engineer)
    later = (datetime.fromisoformat(when) + timedelta(hours=1)).isoformat(sep=" ")
    record = {
        "work_done": "更换滤芯",
        "labour_hours": "1.5",
        "labour_fee": "100",
        "travel_fee": "20",
        "charge": charge,
    }
    return step(
        later,
        services.finish_visit,
        ticket,
        engineer,
        version=ticket.version,
        record=record,
        parts=[("滤芯", 2)],
        photos=[],
        signature=None,
        resolved=True,
    )


def served(ticket, dispatcher, engineer, agent, *, assign, visit, revisit, charge):
    ticket = step(assign, services.perform, ticket, "assign", dispatcher, engineer=engineer)
    ticket = work(ticket, engineer, visit, charge)
    return step(
        revisit,
        services.record_revisit,
        ticket,
        agent,
        version=ticket.version,
        outcome=Revisit.Outcome.SATISFIED,
        score=5,
    )


@pytest.fixture
def data(db, dispatcher, engineer, revisit_agent):
    calendar = BusinessCalendar.objects.get(code="cn-statutory")
    line = ProductLineFactory(name="商用空调")
    m1, m2 = ProductModelFactory(line=line), ProductModelFactory(line=line)
    a = CustomerFactory(level=Customer.Level.VIP)
    b = CustomerFactory(level=Customer.Level.REGULAR)
    ag_a = agreement_for(
        a,
        calendar,
        type=ServiceAgreement.Type.FULL_SERVICE,
        charging_method=ServiceAgreement.Charging.ANNUAL_FEE,
        annual_fee=12000,
    )
    ag_b = agreement_for(b, calendar, charging_method=ServiceAgreement.Charging.PER_VISIT)
    u1 = EquipmentFactory(customer=a, product_model=m1)
    u2 = EquipmentFactory(customer=a, product_model=m1)
    u3 = EquipmentFactory(customer=b, product_model=m2)
    cold, leak = ProblemTypeFactory(name="不制冷"), ProblemTypeFactory(name="漏水")

    def entered(when, customer, unit, problem, priority="high", service_type="repair"):
        return step(
            when,
            enter_ticket,
            dispatcher,
            customer=customer,
            equipment=unit,
            problem_type=problem,
            priority=priority,
            service_type=service_type,
        )

    people = (dispatcher, engineer, revisit_agent)
    t1 = entered("2026-11-02 10:00", a, u1, cold)
    t1 = served(
        t1,
        *people,
        assign="2026-11-02 10:30",
        visit="2026-11-02 11:00",
        revisit="2026-11-03 10:00",
        charge=ChargeType.AGREEMENT,
    )
    t2 = entered("2026-11-12 10:00", a, u1, cold)
    t2 = served(
        t2,
        *people,
        assign="2026-11-12 11:10",
        visit="2026-11-12 12:00",
        revisit="2026-11-13 10:00",
        charge=ChargeType.AGREEMENT,
    )
    t3 = entered("2026-11-05 10:00", b, u3, cold, "normal", "maintenance")
    t3 = served(
        t3,
        *people,
        assign="2026-11-05 10:20",
        visit="2026-11-05 14:00",
        revisit="2026-11-06 10:00",
        charge=ChargeType.CHARGED,
    )
    t4 = entered("2026-11-04 10:00", a, u2, leak)
    step("2026-11-04 10:10", services.perform, t4, "cancel", dispatcher, reason="重复录入")
    t5 = entered("2026-11-09 10:00", a, u2, leak)
    t6 = entered("2027-01-11 10:00", a, u1, cold)
    refresh.refresh_all()
    return {
        **{f"t{n}": t for n, t in enumerate([t1, t2, t3, t4, t5, t6], start=1)},
        **{"a": a, "b": b, "ag_a": ag_a, "ag_b": ag_b, "cold": cold, "leak": leak},
        **{"m1": m1, "m2": m2, "line": line, "engineer": engineer},
    }


def table(response, key):
    """{first column's text: row} of one of the page's tables."""
    found = next(t for t in response.context["tables"] if t.key == key)
    return {str(row["label"]): row for row in found.rows}


def page(client, name, **params):
    response = client.get(reverse(name), {**NOVEMBER, **params})
    assert response.status_code == 200
    return response


# --- Problem types --------------------------------------------------------------------------


def test_problem_types_counts_median_and_all_time_counters(data, manager_client):
    r = page(manager_client, "analytics:problems")
    types = table(r, "problem_types")
    cold, leak = types["不制冷"], types["漏水"]
    assert (cold["opened"], cold["closed"], leak["opened"], leak["closed"]) == (3, 3, 2, 0)
    assert cold["share"] == pytest.approx(0.6)
    # Closed in 2 h (≤ 2 h bucket), 3 h (2–4 h), 5 h (4–8 h): the median is the middle one,
    # read half-way through the 2–4 h bucket.
    assert cold["median"] == 3.0 and leak["median"] is None
    # The entry counters, whatever the period: T6 (January) counts; T4 (cancelled) too.
    assert (cold["all_time"], leak["all_time"]) == (4, 2)
    models = table(r, "models")
    assert (models[str(data["m1"])]["opened"], models[str(data["m1"])]["all_time"]) == (4, 5)
    assert (models[str(data["m2"])]["opened"], models[str(data["m2"])]["all_time"]) == (1, 1)
    assert table(r, "product_lines")["商用空调"]["all_time"] == 6
    text = r.content.decode()
    assert "不制冷" in text and "3.0" in text


def test_repeat_failures_within_30_and_90_days(data, manager_client):
    november = table(page(manager_client, "analytics:problems"), "problem_types")
    # T2 came back 10 days after T1; T5 follows a cancelled request: no repeat.
    assert (november["不制冷"]["repeat30"], november["不制冷"]["repeat90"]) == (1, 1)
    assert (november["漏水"]["repeat30"], november["漏水"]["repeat90"]) == (0, 0)
    assert november["不制冷"]["repeat30_rate"] == pytest.approx(1 / 3)
    # Over three months T6 (60 days after T2) adds a repeat within 90 days only.
    longer = page(manager_client, "analytics:problems", end="2027-01-31")
    cold = table(longer, "problem_types")["不制冷"]
    assert (cold["opened"], cold["repeat30"], cold["repeat90"]) == (4, 1, 2)
    assert cold["repeat90_rate"] == 0.5


def test_repeat_count_opens_the_repeated_requests(data, manager_client):
    r = page(manager_client, "analytics:problems")
    scope = Scope(date(2026, 11, 1), date(2026, 11, 30))
    link = drill_url(scope, "created", problem_type_id=data["cold"].pk, outcome="repeat30")
    assert link.replace("&", "&amp;") in r.content.decode()
    listed = manager_client.get(link).content.decode()
    assert data["t2"].number in listed
    assert data["t1"].number not in listed and data["t3"].number not in listed


def test_problem_trend_per_day_for_the_commonest_types(data, manager_client):
    r = page(manager_client, "analytics:problems")
    found = next(t for t in r.context["tables"] if t.key == "problem_trend")
    assert [str(c.label) for c in found.columns[1:3]] == ["不制冷", "漏水"]
    days = found.rows
    assert len(days) == 30
    assert (days[1]["k0"], days[1]["total"]) == (1, 1)  # 2 Nov: T1
    assert (days[3]["k1"], days[3]["total"]) == (1, 1)  # 4 Nov: T4
    assert sum(d["total"] for d in days) == 5


# --- Service agreements ---------------------------------------------------------------------


def test_agreements_work_beside_the_charging_method(data, manager_client):
    r = page(manager_client, "analytics:agreements")
    rows = table(r, "agreements")
    a, b = rows[str(data["ag_a"])], rows[str(data["ag_b"])]
    assert a["charging"] == ServiceAgreement.Charging.ANNUAL_FEE.label
    assert (a["opened"], a["closed"], b["opened"], b["closed"]) == (4, 2, 1, 1)
    assert (a["labour_hours"], a["fees"], a["charged"], a["not_charged"]) == (3, 240, 0, 240)
    assert (b["labour_hours"], b["fees"], b["charged"], b["not_charged"]) == (1.5, 120, 120, 0)
    assert (a["parts"], b["parts"]) == (4, 2)
    assert a["hours_per_request"] == 1.5
    # Response: T1 in time, T2 late (T4, T5 undecided); arrival and resolution all in time.
    assert (a["response_rate"], a["arrival_rate"], a["resolution_rate"]) == (0.5, 1, 1)
    assert b["response_rate"] == 1
    assert a["links"]["label"] == reverse("customers:agreement_detail", args=[data["ag_a"].pk])
    methods = {row["label"]: row for row in table(r, "charging").values()}
    annual = methods[ServiceAgreement.Charging.ANNUAL_FEE.label]
    assert (annual["agreements"], annual["labour_hours"], annual["not_charged"]) == (1, 3, 240)


@time_machine.travel(at("2026-11-20 12:00"), tick=False)
def test_agreements_ending_in_30_60_90_days(db, manager_client):
    today = date(2026, 11, 20)
    ending = {}
    for days in (-1, 0, 30, 31, 60, 61, 90, 91):
        ending[days] = ServiceAgreementFactory(
            start_date=today - timedelta(days=200), end_date=today + timedelta(days=days)
        )
    r = page(manager_client, "analytics:agreements")
    windows = [row["count"] for row in table(r, "ending").values()]
    assert windows == [2, 2, 2]  # 0 and 30; 31 and 60; 61 and 90 (not yesterday's, nor 91)
    upcoming = list(table(r, "next_ending").values())
    assert [row["days_left"] for row in upcoming] == [0, 30, 31, 60, 61, 90]
    first = ending[0]
    assert upcoming[0]["label"] == str(first)
    assert reverse("customers:agreement_detail", args=[first.pk]) in r.content.decode()


# --- Service types --------------------------------------------------------------------------


def test_service_types_volumes_durations_and_fees(data, manager_client):
    rows = table(page(manager_client, "analytics:services"), "service_types")
    repair, upkeep = rows[str(ServiceType.REPAIR.label)], rows[str(ServiceType.MAINTENANCE.label)]
    assert (repair["opened"], repair["closed"], upkeep["opened"], upkeep["closed"]) == (4, 2, 1, 1)
    assert repair["average"] == 2.5  # (2 h + 3 h) / 2
    assert repair["median"] == 2.0  # one in ≤ 2 h, one in 2–4 h: the edge between them
    assert (upkeep["average"], upkeep["median"]) == (5.0, 6.0)  # half-way through 4–8 h
    assert (repair["hours"], repair["fees"], repair["charged"]) == (1.5, 240, 0)
    assert (upkeep["fees"], upkeep["charged"]) == (120, 120)
    installation = rows[str(ServiceType.INSTALLATION.label)]
    assert installation["opened"] == 0 and installation["median"] is None


# --- SLA compliance -------------------------------------------------------------------------


def test_sla_compliance_per_priority_and_the_breach_list(data, manager_client):
    r = page(manager_client, "analytics:sla")
    priorities = table(r, "by_priority")
    high, normal = priorities[str(Priority.HIGH.label)], priorities[str(Priority.NORMAL.label)]
    assert (high["decided"], high["response_rate"], high["response_late"]) == (6, 0.5, 1)
    assert (high["arrival_rate"], high["resolution_rate"]) == (1, 1)
    assert high["overall"] == pytest.approx(5 / 6)
    assert (normal["decided"], normal["response_rate"], normal["overall"]) == (3, 1, 1)
    assert priorities[str(Priority.URGENT.label)]["response_rate"] is None
    # The late count opens the list of the late requests of that priority: T2 only.
    scope = Scope(date(2026, 11, 1), date(2026, 11, 30))
    link = drill_url(scope, "response", priority="high", outcome="late")
    assert link.replace("&", "&amp;") in r.content.decode()
    listed = manager_client.get(link).content.decode()
    assert data["t2"].number in listed and data["t1"].number not in listed
    breaches = table(r, "breaches")
    assert [row["late"] for row in breaches.values()] == [1, 0, 0]
    late_list = manager_client.get(list(breaches.values())[0]["links"]["late"]).content.decode()
    assert data["t2"].number in late_list and data["t3"].number not in late_list


def test_sla_by_customer_engineer_agreement_and_whole_months(data, manager_client):
    r = page(manager_client, "analytics:sla", start="2026-11-10", end="2026-11-20")
    # In the period only T2 (12–13 Nov) decided its targets.
    customers = table(r, "by_customer")
    assert list(customers) == [str(data["a"])]
    assert customers[str(data["a"])]["response_rate"] == 0
    engineers = table(r, "by_engineer")
    assert engineers[str(data["engineer"])]["decided"] == 3
    assert table(r, "by_agreement")[str(data["ag_a"])]["response_late"] == 1
    # The month table reads all of November: T1, T2, T3.
    months = list(table(r, "by_month").values())
    assert len(months) == 1
    assert (months[0]["decided"], months[0]["response_late"]) == (9, 1)
    assert months[0]["response_rate"] == pytest.approx(2 / 3)


# --- Export, queries, bad links, permissions --------------------------------------------------


def test_excel_export_equals_the_page(data, manager_client):
    shown = page(manager_client, "analytics:problems")
    exported = page(manager_client, "analytics:problems", export="xlsx")
    book = load_workbook(io.BytesIO(exported.content))
    tables = shown.context["tables"]
    assert len(book.sheetnames) == len(tables)
    for sheet, t in zip(book.worksheets, tables, strict=True):
        cells = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert cells[0] == [str(c.label) for c in t.columns]
        assert cells[1:] == [[raw(row.get(c.key), c.kind) for c in t.columns] for row in t.rows]
    first = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    assert first[1][:5] == ["不制冷", 3, 60.0, 3, 3.0]  # opened, share %, closed, median h


def more_history(dispatcher, engineer):
    """Twelve more closed requests, each with its own customer, agreement, model and type."""
    with time_machine.travel(at("2026-11-16 10:00"), tick=False):
        for n in range(12):
            customer = CustomerFactory()
            ServiceAgreementFactory(customer=customer)
            ticket_in_state(
                "closed",
                dispatcher=dispatcher,
                engineer=engineer,
                customer=customer,
                product=ProductModelFactory(),
                problem_type=ProblemTypeFactory(),
                priority=["urgent", "high", "normal", "low"][n % 4],
                service_type=["installation", "inspection", "consultation"][n % 3],
            )
    refresh.refresh_all()


@pytest.mark.parametrize("name", REPORTS)
def test_queries_do_not_grow_with_the_data(name, data, manager_client, dispatcher, engineer):
    def count():
        page(manager_client, name)  # the session's and the filters' caches filled
        with CaptureQueriesContext(connection) as queries:
            page(manager_client, name)
        return len(queries)

    small = count()
    more_history(dispatcher, engineer)
    assert count() == small
    assert small <= 16


@pytest.mark.parametrize("name", REPORTS)
def test_bad_parameters_never_fail(name, data, manager_client):
    for query in [
        "?start=garbage&end=2026-13-01",
        "?start=2026-02-30&end=1900-01-01",
        "?service_point=x&product_line=%00&agreement=NOPE&customer_level=zzz",
        "?agreement=" + "9" * 60,
        "?start=1900-01-01&export=pdf",
        "?export=csv&start=2027-01-01&end=2026-01-01",
    ]:
        assert manager_client.get(reverse(name) + query).status_code == 200, query


@pytest.mark.parametrize("name", REPORTS)
def test_engineers_and_dispatchers_may_not_see_them(name, db, engineer_client, dispatcher_client):
    for client in (engineer_client, dispatcher_client):
        assert client.get(reverse(name)).status_code == 403


def test_filters_narrow_every_report(data, manager_client):
    """A customer-level filter: only customer A's requests (VIP)."""
    rows = table(page(manager_client, "analytics:problems", customer_level="vip"), "problem_types")
    assert rows["不制冷"]["opened"] == 2
    sla = table(page(manager_client, "analytics:sla", customer_level="regular"), "by_priority")
    assert sla[str(Priority.HIGH.label)]["decided"] == 0
    assert sla[str(Priority.NORMAL.label)]["decided"] == 3
    services = table(
        page(manager_client, "analytics:services", agreement=data["ag_b"].number), "service_types"
    )
    assert services[str(ServiceType.MAINTENANCE.label)]["opened"] == 1
    assert services[str(ServiceType.REPAIR.label)]["opened"] == 0
