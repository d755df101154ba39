"""SLA clocks and the timers, with a frozen clock (time-machine) in Asia/Shanghai.

The agreement's calendar is the ready-made China statutory calendar: Mon–Fri 09:00–12:00 and
13:00–18:00. Monday 23 November 2026 is an ordinary working day.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse

from aftersales.models import BusinessCalendar
from aftersales.roles import Role
from tests.factories import (
    CustomerFactory,
    EquipmentFactory,
    ServiceAgreementFactory,
    enter_ticket,
)
from tickets import services, sla, timers
from tickets.models import MaintenancePlan, State, Ticket
from tickets.sla import Light

SH = ZoneInfo("Asia/Shanghai")
M = timedelta(minutes=1)


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def statutory(db):
    return BusinessCalendar.objects.get(code="cn-statutory")


def agreement_for(customer, calendar, *, urgent=(30, 120, 240), high=(60, 240, 480), **kw):
    agreement = ServiceAgreementFactory(
        customer=customer,
        calendar=calendar,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31),
        **kw,
    )
    targets = {t.priority: t for t in agreement.targets.all()}
    for priority, (response, arrival, resolution) in (("urgent", urgent), ("high", high)):
        target = targets[priority]
        target.response_minutes, target.arrival_minutes, target.resolution_minutes = (
            response,
            arrival,
            resolution,
        )
        target.save()
    return agreement


@pytest.fixture
def customer(statutory):
    customer = CustomerFactory()
    agreement_for(customer, statutory)
    return customer


@time_machine.travel(at("2026-11-23 10:00"), tick=False)
def test_due_times_in_business_time(dispatcher, customer):
    t = enter_ticket(dispatcher, customer=customer, priority="high")
    assert t.response_due == at("2026-11-23 11:00")
    assert t.arrival_due == at("2026-11-23 15:00")  # over the lunch break
    assert t.resolution_due == at("2026-11-24 10:00")  # into Tuesday
    assert t.response_warn_at == at("2026-11-23 10:45")  # 75 %
    assert (t.sla_due, t.sla_check_at) == (at("2026-11-23 11:00"), at("2026-11-23 10:45"))
    assert t.calendar.code == "cn-statutory"


def test_equipment_agreement_wins_then_customer_then_default(dispatcher, statutory):
    customer = CustomerFactory()
    unit = EquipmentFactory(customer=customer)
    general = agreement_for(customer, statutory, high=(120, 240, 480))
    special = agreement_for(customer, statutory, high=(30, 60, 120))
    special.equipment.add(unit)
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        on_unit = enter_ticket(dispatcher, customer=customer, equipment=unit, priority="high")
        other = enter_ticket(dispatcher, customer=customer, priority="high")
        stranger = enter_ticket(dispatcher, customer=CustomerFactory(), priority="high")
    assert (on_unit.agreement, on_unit.response_due) == (special, at("2026-11-23 10:30"))
    assert (other.agreement, other.response_due) == (general, at("2026-11-23 12:00"))
    assert stranger.agreement is None or stranger.agreement.is_default


def test_met_on_assignment_with_margin(dispatcher, engineer, customer):
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        t = enter_ticket(dispatcher, customer=customer, priority="high")
    with time_machine.travel(at("2026-11-23 10:30"), tick=False):
        t = services.perform(t, "assign", dispatcher, engineer=engineer)
    assert (t.response_met_at, t.response_margin) == (at("2026-11-23 10:30"), 30 * M)
    with time_machine.travel(at("2026-11-23 16:00"), tick=False):
        t = services.check_in(t, engineer)
    assert t.arrival_margin == -60 * M  # an hour late
    assert t.sla_due == at("2026-11-24 10:00")  # resolution is next


def test_suspension_stops_the_clocks_in_business_time(dispatcher, customer):
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        t = enter_ticket(dispatcher, customer=customer, priority="high")
    with time_machine.travel(at("2026-11-23 10:40"), tick=False):
        t = services.perform(t, "suspend", dispatcher, reason="客户要求暂缓")
    assert (t.sla_due, t.sla_check_at) == (None, None)  # no clock runs
    with time_machine.travel(at("2026-11-23 14:40"), tick=False):
        t = services.perform(t, "resume", dispatcher)
    # 10:40–12:00 and 13:00–14:40: 180 working minutes (the lunch hour is not counted).
    assert t.sla_paused == 180 * M
    assert t.response_due == at("2026-11-23 15:00")  # 11:00 + 3 working hours
    assert t.arrival_due == at("2026-11-23 18:00")  # uses up the afternoon exactly
    assert t.resolution_due == at("2026-11-24 14:00")


@time_machine.travel(at("2026-11-23 10:00"), tick=False)
def test_priority_change_recomputes_unmet_targets(dispatcher, dispatcher_client, customer):
    t = enter_ticket(dispatcher, customer=customer, priority="high")
    dispatcher_client.post(
        reverse("tickets:priority", args=[t.pk]), {"version": t.version, "priority": "urgent"}
    )
    t.refresh_from_db()
    assert (t.priority, t.response_due, t.arrival_due) == (
        "urgent",
        at("2026-11-23 10:30"),
        at("2026-11-23 12:00"),
    )
    assert t.log.latest("id").action == "change_priority"


def test_timer_warns_then_breaches_once_and_escalates(dispatcher, engineer, customer, make_user):
    manager = make_user(Role.SERVICE_MANAGER)
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        t = enter_ticket(dispatcher, customer=customer, priority="high")
    with time_machine.travel(at("2026-11-23 10:50"), tick=False):
        assert timers.every_minute()["warned"] == 1
        assert timers.every_minute()["warned"] == 0  # twice changes nothing
        t.refresh_from_db()
        assert sla.light(t) == "at_risk"
    assert t.response_warned_at == at("2026-11-23 10:50")
    assert dispatcher.notifications.filter(ticket=t).count() == 1
    with time_machine.travel(at("2026-11-23 11:01"), tick=False):
        assert timers.every_minute()["breached"] == 1
        assert timers.every_minute()["breached"] == 0
        t.refresh_from_db()
        assert sla.light(t) == "breached"
    assert t.response_breached_at == at("2026-11-23 11:01")
    assert manager.notifications.filter(ticket=t).count() == 1
    # The next look is the arrival warning (75 % of 240 working minutes: 13:00 + 1 h = 14:00).
    assert t.sla_check_at == at("2026-11-23 14:00")


def test_templates_and_list_rows_read_the_light_without_the_model(dispatcher, customer):
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        t = enter_ticket(dispatcher, customer=customer, priority="high")
    row = Ticket.objects.values_list("sla_due", "sla_warn_at", named=True).get(pk=t.pk)
    page = Template("{% load tickets %}[{{ ticket|sla_light }}]")
    with time_machine.travel(at("2026-11-23 10:50"), tick=False):
        assert sla.light(row) == Light.AT_RISK
        assert page.render(Context({"ticket": t})) == "[at_risk]"
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        t = services.perform(t, "suspend", dispatcher, reason="客户要求暂缓")
        assert page.render(Context({"ticket": t})) == "[]"  # no clock runs


def test_lists_filter_by_traffic_light(dispatcher, dispatcher_client, customer):
    with time_machine.travel(at("2026-11-23 09:00"), tick=False):
        late = enter_ticket(dispatcher, customer=customer, priority="urgent")
    with time_machine.travel(at("2026-11-23 09:25"), tick=False):
        risky = enter_ticket(dispatcher, customer=customer, priority="urgent")
        fine = enter_ticket(dispatcher, customer=customer, priority="high")
    with time_machine.travel(at("2026-11-23 09:50"), tick=False):

        def numbers(light):
            response = dispatcher_client.get(reverse("tickets:list"), {"light": light})
            return {t.number for t in response.context["object_list"]}

        assert numbers("breached") == {late.number}
        assert numbers("at_risk") == {risky.number}
        assert numbers("on_time") == {fine.number}
        page = dispatcher_client.get(reverse("tickets:list"), {"sort": "due"})
        assert [t.number for t in page.context["object_list"]][:1] == [late.number]
        assert "已超时" in page.content.decode()


def test_requested_date_lock_and_send_back(dispatcher, engineer):
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        waiting = enter_ticket(dispatcher, requested_date=date(2026, 11, 24))
        assigned = enter_ticket(dispatcher, requested_date=date(2026, 11, 24))
        assigned = services.perform(assigned, "assign", dispatcher, engineer=engineer)
        later = enter_ticket(dispatcher, requested_date=date(2026, 11, 30))
    with time_machine.travel(at("2026-11-25 00:01"), tick=False):
        counts = timers.every_minute()
        assert (counts["locked"], counts["sent_back"]) == (1, 1)
        assert timers.every_minute()["locked"] == 0
    waiting.refresh_from_db()
    assigned.refresh_from_db()
    later.refresh_from_db()
    assert waiting.state == State.LOCKED
    assert waiting.log.latest("id").actor is None  # the system
    assert (assigned.state, assigned.unresolved_rounds) == (State.PENDING_ASSIGNMENT, 1)
    assert assigned.requested_date is None  # the dispatcher agrees a new date
    assert "2026-11-24" in assigned.state_reason
    assert later.state == State.PENDING_ASSIGNMENT


def test_second_missed_date_locks(dispatcher, engineer):
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        t = enter_ticket(dispatcher, requested_date=date(2026, 11, 23))
        t = services.check_in(
            services.perform(t, "assign", dispatcher, engineer=engineer), engineer
        )
        t = services.perform(t, "not_resolved", engineer, reason="缺少备件")
        t = services.perform(t, "assign", dispatcher, engineer=engineer)
    with time_machine.travel(at("2026-11-24 08:00"), tick=False):
        timers.every_minute()
    t.refresh_from_db()
    assert (t.state, t.unresolved_rounds) == (State.LOCKED, 2)


def test_revisit_due_and_overdue(dispatcher, engineer, customer, make_user):
    agent = make_user(Role.REVISIT_AGENT)
    with time_machine.travel(at("2026-11-27 17:00"), tick=False):  # Friday afternoon
        t = enter_ticket(dispatcher, customer=customer)
        t = services.check_in(
            services.perform(t, "assign", dispatcher, engineer=engineer), engineer
        )
        t = services.perform(t, "resolve", engineer)
    # 24 working hours: Fri 17–18 (1 h), Mon and Tue (16 h), Wed 09:00 + 7 h → Wed 17:00.
    assert t.revisit_due == at("2026-12-02 17:00")
    with time_machine.travel(at("2026-12-02 17:05"), tick=False):
        assert timers.every_minute()["revisits_overdue"] == 1
        assert timers.every_minute()["revisits_overdue"] == 0
    assert agent.notifications.count() == 1


def test_maintenance_plan_creates_each_ticket_once(customer):
    unit = EquipmentFactory(customer=customer)
    plan = MaintenancePlan.objects.create(
        name="季度保养",
        kind=MaintenancePlan.Kind.MAINTENANCE,
        equipment=unit,
        interval_months=3,
        next_date=date(2026, 11, 30),
        lead_days=7,
    )
    assert timers.daily(date(2026, 11, 22))["plan_tickets"] == 0  # not yet
    assert timers.daily(date(2026, 11, 23))["plan_tickets"] == 1
    assert timers.daily(date(2026, 11, 23))["plan_tickets"] == 0  # twice changes nothing
    ticket = Ticket.objects.get(plan=plan)
    assert (ticket.plan_date, ticket.requested_date, ticket.service_type) == (
        date(2026, 11, 30),
        date(2026, 11, 30),
        "maintenance",
    )
    assert ticket.log.get().actor is None
    plan.refresh_from_db()
    assert plan.next_date == date(2027, 2, 28)


def test_renewal_and_warranty_reminders_once(statutory, make_user, caplog):
    from tests.factories import ContactFactory

    dispatcher = make_user(Role.DISPATCHER)
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True, mobile="13900001111")
    agreement = ServiceAgreementFactory(
        customer=customer, start_date=date(2025, 12, 1), end_date=date(2026, 12, 10)
    )
    EquipmentFactory(customer=customer, warranty_end=date(2026, 12, 5))
    with caplog.at_level("INFO", logger="aftersales.sms"):
        first = timers.daily(date(2026, 11, 23))
        second = timers.daily(date(2026, 11, 24))
    assert first["renewals"] >= 1 and second["renewals"] >= 1
    assert dispatcher.notifications.filter(url=agreement.get_absolute_url()).count() == 1
    from aftersales.models import Delivery

    assert Delivery.objects.filter(channel="sms", target="13900001111").count() == 1


def test_agreement_edit_recomputes_open_tickets(dispatcher, engineer, customer):
    from tickets.sla import replan_agreement

    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        open_ticket = enter_ticket(dispatcher, customer=customer, priority="high")
        met = enter_ticket(dispatcher, customer=customer, priority="high")
        met = services.perform(met, "assign", dispatcher, engineer=engineer)
        agreement = open_ticket.agreement
        target = agreement.target_for("high")
        target.response_minutes, target.arrival_minutes = 120, 300
        target.save()
        assert replan_agreement(agreement) == 2
    open_ticket.refresh_from_db()
    met.refresh_from_db()
    assert open_ticket.response_due == at("2026-11-23 12:00")  # uses up the morning exactly
    assert open_ticket.arrival_due == at("2026-11-23 16:00")
    assert met.response_due == at("2026-11-23 11:00")  # met targets keep their record
    assert met.arrival_due == at("2026-11-23 16:00")
