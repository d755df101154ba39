"""Every lock waits for a service manager, so every lock tells each of them: two rounds
unresolved, an unsatisfied revisit after a second round, and the timer's missed dates."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from aftersales.models import Notification
from aftersales.roles import Role
from tests.factories import enter_ticket, ticket_in_state
from tests.tickets.test_loop_rules import visit_unresolved
from tickets import services, timers
from tickets.models import State


def lock_notices(ticket):
    return list(
        Notification.objects.filter(event="ticket_locked", ticket=ticket).values_list(
            "user__username", "title"
        )
    )


def test_two_unresolved_rounds_tell_every_service_manager(
    dispatcher, engineer, service_manager, make_user
):
    second = make_user(Role.SERVICE_MANAGER, username="svcmanager2")
    ticket = visit_unresolved(enter_ticket(dispatcher), dispatcher, engineer)
    assert lock_notices(ticket) == []  # the first round goes back to the dispatcher
    ticket = visit_unresolved(ticket, dispatcher, engineer)
    assert ticket.state == State.LOCKED
    title = f"{ticket.number} 已锁定：缺少备件"
    assert sorted(lock_notices(ticket)) == sorted(
        [(second.username, title), (service_manager.username, title)]
    )


def test_an_unsatisfied_second_round_tells_them(
    dispatcher, engineer, revisit_agent, service_manager
):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    ticket = services.record_revisit(
        ticket, revisit_agent, version=ticket.version, outcome="unsatisfied", comment="仍然漏水"
    )
    ticket = services.check_in(
        services.perform(ticket, "assign", dispatcher, engineer=engineer), engineer
    )
    ticket = services.perform(ticket, "resolve", engineer)
    ticket = services.record_revisit(
        ticket, revisit_agent, version=ticket.version, outcome="unsatisfied", comment="还是漏水"
    )
    assert ticket.state == State.LOCKED
    assert lock_notices(ticket) == [(service_manager.username, f"{ticket.number} 已锁定：还是漏水")]


def test_the_timers_lock_tells_them_once(dispatcher, service_manager):
    shanghai = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=shanghai), tick=False):
        ticket = enter_ticket(dispatcher, requested_date=date(2026, 11, 24))
    with time_machine.travel(datetime(2026, 11, 25, 0, 1, tzinfo=shanghai), tick=False):
        timers.every_minute()
        timers.every_minute()
    ticket.refresh_from_db()
    assert ticket.state == State.LOCKED
    assert len(lock_notices(ticket)) == 1


def test_a_request_the_timer_sends_back_tells_the_dispatchers_once(dispatcher, engineer):
    shanghai = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=shanghai), tick=False):
        ticket = enter_ticket(dispatcher, requested_date=date(2026, 11, 24))
        ticket = services.perform(ticket, "assign", dispatcher, engineer=engineer)
    with time_machine.travel(datetime(2026, 11, 25, 0, 1, tzinfo=shanghai), tick=False):
        timers.every_minute()
        timers.every_minute()
    ticket.refresh_from_db()
    assert ticket.state == State.PENDING_ASSIGNMENT
    notices = Notification.objects.filter(event="ticket_pending_assignment", ticket=ticket)
    assert list(notices.values_list("user__username", flat=True)) == [dispatcher.username]
    assert notices.get().title.startswith(f"{ticket.number} 已退回待分配：")
    assert lock_notices(ticket) == []
