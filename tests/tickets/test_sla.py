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
from tests.queries import capture_queries
from tickets import services, sla, timers
from tickets.models import State, Ticket
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


def test_an_agreement_listing_units_covers_only_those(dispatcher, statutory):
    """The same customer's other unit is not covered by an agreement that lists units: it gets
    the customer's agreement that lists none, or else the default policy."""
    customer = CustomerFactory()
    listed, unlisted = EquipmentFactory(customer=customer), EquipmentFactory(customer=customer)
    special = agreement_for(customer, statutory, high=(30, 60, 120))
    special.equipment.add(listed)
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        on_listed = enter_ticket(dispatcher, customer=customer, equipment=listed, priority="high")
        on_other = enter_ticket(dispatcher, customer=customer, equipment=unlisted, priority="high")
        no_unit = enter_ticket(dispatcher, customer=customer, priority="high")
    assert on_listed.agreement == special
    assert on_other.agreement != special and (
        on_other.agreement is None or on_other.agreement.is_default
    )
    assert no_unit.agreement != special

    general = agreement_for(customer, statutory, high=(120, 240, 480))
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        again = enter_ticket(dispatcher, customer=customer, equipment=unlisted, priority="high")
    assert again.agreement == general


def test_the_covering_agreement_is_found_in_one_query_whichever_level_covers(statutory):
    """The unit's agreement, the customer's, an expired one passed over, the default policy:
    always the agreement and its targets, two queries (an entry from the API or the QR code
    page pays for each one)."""
    customer = CustomerFactory()
    listed, unlisted = EquipmentFactory(customer=customer), EquipmentFactory(customer=customer)
    default = ServiceAgreementFactory(default_policy=True, calendar=statutory)
    special = agreement_for(customer, statutory)
    special.equipment.add(listed)
    general = agreement_for(customer, statutory)
    ServiceAgreementFactory(  # expired: never chosen
        customer=customer, start_date=date(2025, 1, 1), end_date=date(2025, 12, 31)
    )
    other = CustomerFactory()
    cases = [
        (Ticket(customer=customer, equipment=listed), special),
        (Ticket(customer=customer, equipment=unlisted), general),
        (Ticket(customer=customer), general),
        (Ticket(customer=other, equipment=EquipmentFactory(customer=other)), default),
        (Ticket(), default),
    ]
    for ticket, expected in cases:
        ticket.created_at = at("2026-11-23 10:00")
        with capture_queries() as queries:
            found = sla.covering_agreement(ticket)
            assert found.target_for("high") is not None
            assert found.calendar == statutory
        assert found == expected
        assert len(queries) == 2, [q["sql"] for q in queries]


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


# Editing an agreement re-plans its open requests ------------------------------------------------


@pytest.fixture
def eager_tasks():
    """Tasks sent after a commit run at once, in this process, and their errors fail the test."""
    from aftersales.celery import app

    before = {"task_always_eager": app.conf.task_always_eager}
    before["task_eager_propagates"] = app.conf.task_eager_propagates
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(before)


def edit_post(agreement, priority="high", **minutes):
    """The agreement's edit form as drawn, with some minutes of one priority changed."""
    from customers.forms import AgreementForm, SlaTargetFormSetFactory

    form = AgreementForm(instance=agreement, customer=agreement.customer)
    targets = SlaTargetFormSetFactory(instance=agreement, prefix="targets")
    data = {}
    for part in (form, targets.management_form, *targets.forms):
        for field in part:
            if field.value() is not None:
                data[field.html_name] = field.value()
    row = next(f for f in targets.forms if f.instance.priority == priority)
    for name, value in minutes.items():
        data[row[f"{name}_minutes"].html_name] = value
    return data


@pytest.fixture
def two_open_and_a_cancelled(dispatcher, engineer, customer):
    with time_machine.travel(at("2026-11-23 10:00"), tick=False):
        waiting = enter_ticket(dispatcher, customer=customer, priority="high")
        met = enter_ticket(dispatcher, customer=customer, priority="high")
        met = services.perform(met, "assign", dispatcher, engineer=engineer)
        cancelled = enter_ticket(dispatcher, customer=customer, priority="high")
        cancelled = services.perform(cancelled, "cancel", dispatcher, reason="重复报修")
    return waiting, met, cancelled


def test_editing_agreement_targets_replans_its_open_tickets_with_a_log_row(
    dispatcher,
    dispatcher_client,
    two_open_and_a_cancelled,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    waiting, met, cancelled = two_open_and_a_cancelled
    agreement = waiting.agreement
    with (
        time_machine.travel(at("2026-11-23 10:20"), tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = dispatcher_client.post(
            reverse("customers:agreement_edit", args=[agreement.pk]),
            edit_post(agreement, response=120, arrival=300),
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # the re-plan task, sent once the edit is committed
    for ticket in (waiting, met, cancelled):
        ticket.refresh_from_db()
    assert waiting.response_due == at("2026-11-23 12:00")  # uses up the morning exactly
    assert waiting.arrival_due == at("2026-11-23 16:00")
    assert (waiting.sla_due, waiting.sla_check_at) == (
        at("2026-11-23 12:00"),
        at("2026-11-23 11:30"),
    )
    assert met.response_due == at("2026-11-23 11:00")  # a met target keeps its record
    assert met.arrival_due == at("2026-11-23 16:00")
    for ticket, versions_before in ((waiting, 1), (met, 2)):
        entry = ticket.log.latest("id")
        assert (entry.action, entry.actor, entry.source, entry.target) == (
            "replan",
            dispatcher,
            ticket.state,
            ticket.state,
        )
        assert entry.at == at("2026-11-23 10:20")
        assert entry.label == "协议变更后重新计算了 SLA 到期时间"
        assert ticket.version == versions_before + 1
    # A finished request keeps the clock it finished with.
    assert (cancelled.response_due, cancelled.log.latest("id").action) == (
        at("2026-11-23 11:00"),
        "cancel",
    )


def test_with_the_broker_down_the_replan_runs_in_the_request(
    dispatcher_client, two_open_and_a_cancelled, monkeypatch, django_capture_on_commit_callbacks
):
    """No sweep finds a re-plan the broker lost: when publishing fails it runs at once."""
    from kombu.exceptions import OperationalError

    from tickets.tasks import replan_agreement

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(replan_agreement, "delay", broker_down)
    waiting, _met, _cancelled = two_open_and_a_cancelled
    with (
        time_machine.travel(at("2026-11-23 10:20"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = dispatcher_client.post(
            reverse("customers:agreement_edit", args=[waiting.agreement.pk]),
            edit_post(waiting.agreement, response=120, arrival=300),
        )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.response_due == at("2026-11-23 12:00")
    assert waiting.log.latest("id").action == "replan"


def test_editing_what_the_clock_does_not_depend_on_replans_nothing(
    dispatcher_client, two_open_and_a_cancelled, django_capture_on_commit_callbacks
):
    agreement = two_open_and_a_cancelled[0].agreement
    data = edit_post(agreement)
    data["name"] = "改名后的维保合同"
    with django_capture_on_commit_callbacks() as callbacks:
        response = dispatcher_client.post(
            reverse("customers:agreement_edit", args=[agreement.pk]), data
        )
    assert response.status_code == 302
    assert callbacks == []


def test_a_page_drawn_before_the_replan_cannot_put_the_old_clock_back(
    dispatcher,
    dispatcher_client,
    engineer,
    two_open_and_a_cancelled,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    waiting = two_open_and_a_cancelled[0]
    drawn_version = waiting.version  # the ticket page is open at the desk …
    with time_machine.travel(at("2026-11-23 10:20"), tick=False):
        # … while a colleague edits the agreement (the re-plan runs once that commits) …
        with django_capture_on_commit_callbacks(execute=True):
            dispatcher_client.post(
                reverse("customers:agreement_edit", args=[waiting.agreement.pk]),
                edit_post(waiting.agreement, response=120, arrival=300),
            )
        # … then the page's Assign button is pressed.
        response = dispatcher_client.post(
            reverse("tickets:act", args=[waiting.pk, "assign"]),
            {"version": drawn_version, "engineer": engineer.pk},
            follow=True,
        )
    assert "此服务请求刚刚被其他人修改" in response.content.decode()
    waiting.refresh_from_db()
    assert (waiting.state, waiting.response_due) == (
        State.PENDING_ASSIGNMENT,
        at("2026-11-23 12:00"),
    )
    assert waiting.log.latest("id").action == "replan"


def test_replanning_twice_changes_nothing_the_second_time(dispatcher, two_open_and_a_cancelled):
    waiting, met, _cancelled = two_open_and_a_cancelled
    target = waiting.agreement.target_for("high")
    target.response_minutes, target.arrival_minutes = 120, 300
    target.save()
    with time_machine.travel(at("2026-11-23 10:20"), tick=False):
        assert services.replan_agreement(waiting.agreement_id, dispatcher.pk) == 2
        assert services.replan_agreement(waiting.agreement_id, dispatcher.pk) == 0
    waiting.refresh_from_db()
    assert waiting.version == 2
    assert waiting.log.filter(action="replan").count() == 1
    assert met.log.filter(action="replan").count() == 1


def test_replanning_takes_back_a_breach_the_new_targets_no_longer_hold(
    dispatcher, two_open_and_a_cancelled
):
    waiting = two_open_and_a_cancelled[0]
    with time_machine.travel(at("2026-11-23 11:01"), tick=False):
        assert timers.every_minute()["breached"] == 1  # the response was due at 11:00
        target = waiting.agreement.target_for("high")
        target.response_minutes = 120
        target.save()
        services.replan_agreement(waiting.agreement_id)
    waiting.refresh_from_db()
    assert (waiting.response_due, waiting.response_breached_at) == (at("2026-11-23 12:00"), None)
    assert waiting.response_warned_at is None  # 75 % of 120 minutes: 11:30, still ahead
    assert sla.light(waiting, at("2026-11-23 11:01")) == Light.ON_TIME
    assert waiting.log.latest("id").actor is None  # the system
