"""The closed loop through the views: every action × every state × every role.

Each case POSTs the action as a real user would (with the version their page showed), then
checks the database state, the message the user sees and the transition row.
"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from aftersales.roles import Role
from tests.factories import ticket_in_state
from tickets.models import State, Ticket, TicketTransition

ROLES = ["dispatcher", "engineer", "other_engineer", "service_manager", "revisit_agent", "manager"]
DISPATCH = {"dispatcher", "service_manager"}

# (action, source state) → roles allowed; every other role (and every other state) is refused.
ALLOWED = {
    ("suspend", State.PENDING_ASSIGNMENT): DISPATCH,
    ("resume", State.SUSPENDED): DISPATCH,
    ("assign", State.PENDING_ASSIGNMENT): DISPATCH,
    ("assign", State.ASSIGNED): DISPATCH,
    ("unlock", State.LOCKED): {"service_manager"},
    ("accept", State.ASSIGNED): {"engineer"},
    ("decline", State.ASSIGNED): {"engineer"},
    ("check_in", State.ASSIGNED): {"engineer"},
    ("verify", State.CLOSED): {"service_manager"},
    ("send_back", State.CLOSED): {"service_manager"},
    ("cancel", State.PENDING_ASSIGNMENT): DISPATCH,
    ("cancel", State.SUSPENDED): DISPATCH,
    ("cancel_locked", State.PENDING_ASSIGNMENT): {"service_manager"},
    ("cancel_locked", State.SUSPENDED): {"service_manager"},
    ("cancel_locked", State.LOCKED): {"service_manager"},
}
TARGET = {
    "suspend": State.SUSPENDED,
    "resume": State.PENDING_ASSIGNMENT,
    "assign": State.ASSIGNED,
    "unlock": State.ASSIGNED,
    "decline": State.PENDING_ASSIGNMENT,
    "check_in": State.IN_SERVICE,
    "verify": State.VERIFIED,
    "cancel": State.CANCELLED,
    "cancel_locked": State.CANCELLED,
}
ACTIONS = sorted({action for action, _state in ALLOWED})


@pytest.fixture
def people(make_user, dispatcher, engineer, service_manager, revisit_agent, manager):
    return {
        "dispatcher": dispatcher,
        "engineer": engineer,
        "other_engineer": make_user(Role.ENGINEER, username="engineer2"),
        "service_manager": service_manager,
        "revisit_agent": revisit_agent,
        "manager": manager,
    }


def post_action(client, ticket, action, engineer):
    return client.post(
        reverse("tickets:act", args=[ticket.pk, action]),
        {"version": ticket.version, "reason": "客户要求改期", "engineer": engineer.pk},
    )


def levels(response):
    return [m.level_tag for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", ACTIONS)
def test_action_matrix(action, state, people, client_for):
    allowed = ALLOWED.get((action, state), set())
    engineer = people["engineer"]

    def fresh():
        return ticket_in_state(state, dispatcher=people["dispatcher"], engineer=engineer)

    ticket = fresh()
    for role in ROLES:
        if role in allowed:
            continue
        before = TicketTransition.objects.filter(ticket=ticket).count()
        response = post_action(client_for(people[role]), ticket, action, engineer)
        ticket.refresh_from_db()
        assert ticket.state == state, (role, action, state)
        assert TicketTransition.objects.filter(ticket=ticket).count() == before
        # Refused with a message, or not even visible (an engineer's view of others' jobs).
        assert response.status_code == 404 or levels(response) == ["error"], (role, action)

    for role in sorted(allowed):
        ticket = fresh()
        actor = people[role]
        response = post_action(client_for(actor), ticket, action, engineer)
        assert levels(response) == ["success"], (role, action, state)
        ticket.refresh_from_db()
        assert ticket.state == TARGET.get(action, state)
        row = TicketTransition.objects.filter(ticket=ticket).latest("id")
        assert (row.action, row.source, row.target, row.actor) == (
            action,
            state,
            ticket.state,
            actor,
        )


def test_refusal_is_explained_in_chinese(dispatcher_client, dispatcher, engineer):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    response = dispatcher_client.post(
        reverse("tickets:act", args=[ticket.pk, "cancel"]),
        {"version": ticket.version, "reason": "客户撤回"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        follow=True,
    )
    assert "“取消”在请求处于“已处理”时不能进行。" in response.content.decode()


def test_reason_is_required_on_the_server(dispatcher_client, dispatcher, engineer):
    ticket = ticket_in_state(State.PENDING_ASSIGNMENT, dispatcher=dispatcher, engineer=engineer)
    response = dispatcher_client.post(
        reverse("tickets:act", args=[ticket.pk, "suspend"]),
        {"version": ticket.version, "reason": "  "},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.state == State.PENDING_ASSIGNMENT
    assert "请填写原因" in response.content.decode()


def test_stale_page_changes_nothing(dispatcher_client, dispatcher, engineer, make_user):
    ticket = ticket_in_state(State.PENDING_ASSIGNMENT, dispatcher=dispatcher, engineer=engineer)
    old_version = ticket.version
    other = make_user(Role.ENGINEER, username="engineer2")
    # Someone else assigns first …
    dispatcher_client.post(
        reverse("tickets:act", args=[ticket.pk, "assign"]),
        {"version": old_version, "engineer": engineer.pk},
    )
    # … then a page drawn before that tries to assign another engineer.
    response = dispatcher_client.post(
        reverse("tickets:act", args=[ticket.pk, "assign"]),
        {"version": old_version, "engineer": other.pk},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.engineer == engineer
    assert "刚刚被其他人修改" in response.content.decode()
    assert ticket.log.filter(action="assign").count() == 1


def test_reassignment_is_logged_and_keeps_the_round(dispatcher, engineer, make_user, client_for):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    other = make_user(Role.ENGINEER, username="engineer2")
    post_action(client_for(dispatcher), ticket, "assign", other)
    ticket.refresh_from_db()
    assert (ticket.state, ticket.engineer, ticket.round) == (State.ASSIGNED, other, 1)
    assert list(ticket.log.values_list("action", flat=True)) == ["enter", "assign", "assign"]


def test_system_only_transitions_are_refused_to_people(dispatcher, engineer, service_manager):
    from tickets import services

    ticket = ticket_in_state(State.PENDING_ASSIGNMENT, dispatcher=dispatcher, engineer=engineer)
    for person in (dispatcher, service_manager):
        with pytest.raises(services.ActionRefused):
            services.perform(ticket, "lock_unassigned", person, reason="x")
    ticket = services.perform(ticket, "lock_unassigned", None, reason="客户要求日期前未分配")
    assert ticket.state == State.LOCKED
    assert ticket.log.latest("id").actor is None


def test_no_state_field_to_write(dispatcher, engineer):
    ticket = ticket_in_state(State.PENDING_ASSIGNMENT, dispatcher=dispatcher, engineer=engineer)
    with pytest.raises(AttributeError):
        ticket.state = State.VERIFIED
    assert Ticket.objects.get(pk=ticket.pk).state == State.PENDING_ASSIGNMENT
