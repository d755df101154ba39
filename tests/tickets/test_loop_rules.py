"""The round rule, the revisit rule, entry, counters and concurrent assignment."""

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import translation

from aftersales.roles import Role
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    ProblemTypeFactory,
    enter_ticket,
    ticket_in_state,
)
from tickets import services
from tickets.models import Revisit, State, Ticket, TicketTransition


def visit_unresolved(ticket, dispatcher, engineer):
    if ticket.state != State.ASSIGNED:
        ticket = services.perform(ticket, "assign", dispatcher, engineer=engineer)
    ticket = services.check_in(ticket, engineer)
    return services.perform(ticket, "not_resolved", engineer, reason="缺少备件")


def test_second_unresolved_round_locks(dispatcher, engineer):
    ticket = enter_ticket(dispatcher)
    ticket = visit_unresolved(ticket, dispatcher, engineer)
    assert (ticket.state, ticket.unresolved_rounds, ticket.engineer) == (
        State.PENDING_ASSIGNMENT,
        1,
        None,
    )
    ticket = visit_unresolved(ticket, dispatcher, engineer)
    assert (ticket.state, ticket.unresolved_rounds, ticket.round) == (State.LOCKED, 2, 2)
    assert ticket.state_reason == "缺少备件"
    assert ticket.locked_at is not None


def test_declining_is_not_a_round(dispatcher, engineer):
    ticket = enter_ticket(dispatcher)
    for _ in range(3):
        ticket = services.perform(ticket, "assign", dispatcher, engineer=engineer)
        ticket = services.perform(ticket, "decline", engineer, reason="不在服务范围")
    assert (ticket.state, ticket.round, ticket.unresolved_rounds) == (
        State.PENDING_ASSIGNMENT,
        0,
        0,
    )
    ticket = visit_unresolved(ticket, dispatcher, engineer)
    assert ticket.state == State.PENDING_ASSIGNMENT  # first unresolved round: not locked


def test_unsatisfied_revisit_reopens_then_locks(
    dispatcher, engineer, revisit_agent, revisit_agent_client
):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    response = revisit_agent_client.post(
        reverse("tickets:revisit", args=[ticket.pk]),
        {"version": ticket.version, "outcome": "unsatisfied", "score": 2, "comment": "仍然漏水"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.state, ticket.unresolved_rounds) == (State.PENDING_ASSIGNMENT, 1)
    assert ticket.state_reason == "仍然漏水"
    assert Revisit.objects.get(ticket=ticket).score == 2

    # Second round: visited, resolved, and again not satisfied → locked.
    ticket = services.perform(ticket, "assign", dispatcher, engineer=engineer)
    ticket = services.check_in(ticket, engineer)
    ticket = services.perform(ticket, "resolve", engineer)
    revisit_agent_client.post(
        reverse("tickets:revisit", args=[ticket.pk]),
        {"version": ticket.version, "outcome": "unsatisfied", "score": 1, "comment": "还是漏水"},
    )
    ticket.refresh_from_db()
    assert ticket.state == State.LOCKED
    assert ticket.log.latest("id").action == "reopen_unsatisfied"


def test_satisfied_revisit_closes(dispatcher, engineer, revisit_agent, revisit_agent_client):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    revisit_agent_client.post(
        reverse("tickets:revisit", args=[ticket.pk]),
        {"version": ticket.version, "outcome": "satisfied", "score": 5, "comment": "师傅很专业"},
    )
    ticket.refresh_from_db()
    assert ticket.state == State.CLOSED
    assert ticket.closed_at is not None
    row = ticket.log.latest("id")
    assert (row.action, row.actor, row.data["score"]) == ("close_satisfied", revisit_agent, 5)


def test_revisit_follows_next_within_the_site(dispatcher, engineer, revisit_agent_client):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    response = revisit_agent_client.post(
        reverse("tickets:revisit", args=[ticket.pk]),
        {
            "version": ticket.version,
            "outcome": "satisfied",
            "score": 5,
            "next": reverse("tickets:list") + "?state=processed",
        },
    )
    assert response.url == reverse("tickets:list") + "?state=processed"


@pytest.mark.parametrize(
    "target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:1"]
)
def test_revisit_ignores_a_next_outside_the_site(
    dispatcher, engineer, revisit_agent_client, target
):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    response = revisit_agent_client.post(
        reverse("tickets:revisit", args=[ticket.pk]),
        {"version": ticket.version, "outcome": "satisfied", "score": 5, "next": target},
    )
    ticket.refresh_from_db()
    assert ticket.state == State.CLOSED  # recorded all the same
    assert response.status_code == 302
    assert response.url == reverse("tickets:revisit_queue")


def test_revisit_needs_score_and_reason(dispatcher, engineer, revisit_agent_client):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    response = revisit_agent_client.post(
        reverse("tickets:revisit", args=[ticket.pk]),
        {"version": ticket.version, "outcome": "unsatisfied", "score": "", "comment": ""},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.state == State.PROCESSED
    assert not Revisit.objects.exists()
    html = response.content.decode()
    assert "请记录客户满意度" in html
    assert "请说明客户不满意的原因" in html


def test_unreachable_customer_stays_in_the_queue(
    dispatcher, engineer, revisit_agent, revisit_agent_client
):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    revisit_agent_client.post(
        reverse("tickets:revisit", args=[ticket.pk]),
        {"version": ticket.version, "outcome": "unreachable", "comment": "无人接听"},
    )
    ticket.refresh_from_db()
    assert ticket.state == State.PROCESSED
    assert ticket.log.latest("id").action == "revisit_attempt"
    page = revisit_agent_client.get(reverse("tickets:revisit_queue")).content.decode()
    assert ticket.number in page
    assert "1 次未联系上客户" in page


def test_send_back_correct_then_verify(dispatcher, engineer, service_manager):
    ticket = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    ticket = services.perform(ticket, "send_back", service_manager, reason="工时填错")
    assert ticket.state == State.CLOSED and ticket.correction_requested
    with pytest.raises(services.ActionRefused):
        services.perform(ticket, "verify", service_manager)  # not while a correction is due
    ticket = services.perform(ticket, "correct", engineer)
    ticket = services.perform(ticket, "verify", service_manager)
    assert ticket.state == State.VERIFIED
    assert list(ticket.log.values_list("action", flat=True))[-3:] == [
        "send_back",
        "correct",
        "verify",
    ]


# Entry ----------------------------------------------------------------------------------------


def test_entry_numbers_counts_and_logs(dispatcher, dispatcher_client):
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer, is_primary=True)
    unit = EquipmentFactory(customer=customer)
    problem = ProblemTypeFactory(name="不制冷")
    url = reverse("tickets:create") + f"?customer={customer.pk}"
    page = dispatcher_client.get(url)
    assert unit.serial_no in page.content.decode()  # the customer's units beside the form
    response = dispatcher_client.post(
        url,
        {
            "customer": customer.pk,
            "contact": contact.pk,
            "equipment": unit.pk,
            "service_type": "repair",
            "problem_type": problem.pk,
            "priority": "high",
            "channel": "phone",
            "description": "空调不制冷",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert ticket.number.startswith("SR") and ticket.number.endswith("-0001")
    assert (ticket.state, ticket.contact_phone, ticket.product) == (
        State.PENDING_ASSIGNMENT,
        contact.mobile,
        unit.product_model,
    )
    unit.product_model.refresh_from_db()
    problem.refresh_from_db()
    assert (unit.product_model.ticket_count, problem.ticket_count) == (1, 1)
    assert list(ticket.log.values_list("action", "target")) == [("enter", "pending_assignment")]


def test_entry_as_suspended(dispatcher, dispatcher_client):
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True)
    dispatcher_client.post(
        reverse("tickets:create"),
        {
            "customer": customer.pk,
            "service_type": "maintenance",
            "priority": "normal",
            "channel": "phone",
            "description": "年度保养",
            "contact_phone": "13800138000",
            "suspend_reason": "等客户确认停机时间",
        },
    )
    ticket = Ticket.objects.get()
    assert ticket.state == State.SUSPENDED
    assert list(ticket.log.values_list("action", flat=True)) == ["enter", "suspend"]


def test_bad_entry_saves_nothing(dispatcher_client):
    customer = CustomerFactory()
    other_unit = EquipmentFactory()  # belongs to another customer
    response = dispatcher_client.post(
        reverse("tickets:create"),
        {
            "customer": customer.pk,
            "equipment": other_unit.pk,
            "service_type": "repair",
            "priority": "normal",
            "channel": "phone",
            "description": "",
            "requested_date": "2020-01-01",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "客户要求日期不能早于今天" in html
    assert "选择一个有效的选项" in html
    assert not Ticket.objects.exists()
    other_unit.product_model.refresh_from_db()
    assert other_unit.product_model.ticket_count == 0


def test_numbers_are_unique_per_day(dispatcher):
    numbers = {enter_ticket(dispatcher).number for _ in range(5)}
    assert len(numbers) == 5


# Two people at once ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_assignments_one_wins(make_user):
    from django.db import connections

    dispatcher = make_user(Role.DISPATCHER)
    manager = make_user(Role.SERVICE_MANAGER)
    first = make_user(Role.ENGINEER, username="engineer1")
    second = make_user(Role.ENGINEER, username="engineer2")
    ticket = enter_ticket(dispatcher)
    version = ticket.version
    barrier = threading.Barrier(2)
    results = {}

    def assign(actor, engineer):
        try:
            barrier.wait(timeout=10)
            services.perform(
                Ticket.objects.get(pk=ticket.pk),
                "assign",
                actor,
                version=version,
                engineer=engineer,
            )
            results[engineer.username] = "ok"
        except services.ActionRefused as refusal:
            results[engineer.username] = str(refusal)
        finally:
            connections.close_all()  # each thread used its own database connection

    threads = [
        threading.Thread(target=assign, args=(dispatcher, first)),
        threading.Thread(target=assign, args=(manager, second)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(results.values()).count("ok") == 1
    loser = next(v for v in results.values() if v != "ok")
    # The threads speak the default language, whatever an earlier test left active here.
    with translation.override(settings.LANGUAGE_CODE):
        assert loser == services.stale_message()
    ticket.refresh_from_db()
    winner = first if results["engineer1"] == "ok" else second
    assert (ticket.state, ticket.engineer, ticket.version) == (State.ASSIGNED, winner, version + 1)
    assert TicketTransition.objects.filter(ticket=ticket, action="assign").count() == 1
    assert connection.vendor == "postgresql"


def entry(client, customer, **fields):
    data = {
        "customer": customer.pk,
        "service_type": "repair",
        "priority": "normal",
        "channel": "phone",
        "description": "空调不制冷",
        "contact_phone": "13800138000",
        **fields,
    }
    return client.post(reverse("tickets:create"), data)


def test_entry_refuses_a_phone_nobody_can_dial_and_texts_without_bounds(dispatcher_client):
    customer = CustomerFactory()
    bad_phone = entry(dispatcher_client, customer, contact_phone="abc<script>")
    assert bad_phone.status_code == 200
    assert "请输入电话号码" in bad_phone.content.decode()
    too_long = entry(dispatcher_client, customer, description="漏" * 2001)
    assert "最多 2000 个字符（当前 2001 个）" in too_long.content.decode()
    assert not Ticket.objects.exists()


def test_entry_keeps_real_phones_and_drops_direction_tricks(dispatcher_client):
    customer = CustomerFactory()
    response = entry(
        dispatcher_client,
        customer,
        contact_phone="+86 138-0013-8000",
        description="客户电话\u202e0008310083\u202c，请回电",
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.contact_phone == "+86 138-0013-8000"
    assert ticket.description == "客户电话0008310083，请回电"


def test_the_service_type_must_be_chosen(dispatcher_client):
    customer = CustomerFactory()
    page = dispatcher_client.get(reverse("tickets:create") + f"?customer={customer.pk}")
    select = page.content.decode().split('name="service_type"')[1].split("</select>")[0]
    assert '<option value="" selected>请选择服务类型</option>' in select
    response = entry(dispatcher_client, customer, service_type="")
    assert response.status_code == 200 and not Ticket.objects.exists()
    assert entry(dispatcher_client, customer, service_type="maintenance").status_code == 302
