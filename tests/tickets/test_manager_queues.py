"""The service manager's two queues (locked, awaiting verification) page independently, each
with its total from the remembered queue counts."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import queued_tickets, ticket_in_state
from tests.queries import capture_queries, count_queries
from tickets import services
from tickets.models import State

pytestmark = pytest.mark.django_db


def section(html, name):
    """The part of the manager's page of one queue: "locked-queue" or "verify-queue"."""
    start = html.index(f'id="{name}"')
    end = html.find("<section", start)
    return html[start : end if end > 0 else len(html)]


def shown(html):
    return re.findall(r">(SR\d{8}-\d{4})</a>", html)


def manager_page(client, **params):
    response = client.get(reverse("tickets:manager_queues"), params)
    assert response.status_code == 200
    return response.content.decode()


# The service manager's queues ------------------------------------------------------------------


def test_the_verification_queue_pages_past_its_first_page(dispatcher, service_manager_client):
    size = settings.PAGE_SIZE
    closed = queued_tickets(size + 2, State.CLOSED, dispatcher)

    first = section(manager_page(service_manager_client), "verify-queue")
    assert shown(first) == closed[:size]
    assert f'id="closed-count">{size + 2}<' in first  # the total, not "25+"
    assert 'rel="next"' in first

    second = section(manager_page(service_manager_client, closed_page=2), "verify-queue")
    assert shown(second) == closed[size:]  # row 26 and 27
    assert f"第 {size + 1}–{size + 2} 条，共 {size + 2} 条" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_the_locked_queue_pages_past_its_first_page(dispatcher, service_manager_client):
    size = settings.PAGE_SIZE
    locked = queued_tickets(size + 1, State.LOCKED, dispatcher)
    first = section(manager_page(service_manager_client), "locked-queue")
    assert shown(first) == locked[:size]
    assert f'id="locked-count">{size + 1}<' in first
    second = section(manager_page(service_manager_client, locked_page=2), "locked-queue")
    assert shown(second) == locked[size:]


def test_the_two_pagers_are_independent(dispatcher, service_manager_client):
    size = settings.PAGE_SIZE
    locked = queued_tickets(size + 1, State.LOCKED, dispatcher)
    closed = queued_tickets(size + 1, State.CLOSED, dispatcher)

    html = manager_page(service_manager_client, closed_page=2)
    assert shown(section(html, "locked-queue")) == locked[:size]
    assert shown(section(html, "verify-queue")) == closed[size:]
    # Each pager's links keep the other list's page, and land on their own list.
    assert "?closed_page=2&amp;locked_page=2#locked-queue" in section(html, "locked-queue")
    assert "?closed_page=1#verify-queue" in section(html, "verify-queue")

    html = manager_page(service_manager_client, locked_page=2, closed_page=2)
    assert shown(section(html, "locked-queue")) == locked[size:]
    assert shown(section(html, "verify-queue")) == closed[size:]


@pytest.mark.parametrize("garbage", ["abc", "-1", "0", "1.5", "99999999999999999999", "\x00"])
def test_a_page_number_that_is_none_shows_the_first_page(
    dispatcher, service_manager_client, garbage
):
    closed = queued_tickets(settings.PAGE_SIZE + 1, State.CLOSED, dispatcher)
    html = manager_page(service_manager_client, closed_page=garbage, locked_page=garbage)
    assert shown(section(html, "verify-queue"))[0] == closed[0]


def test_a_page_past_the_end_shows_the_last_page(dispatcher, service_manager_client):
    closed = queued_tickets(settings.PAGE_SIZE + 1, State.CLOSED, dispatcher)
    html = manager_page(service_manager_client, closed_page=9)
    assert shown(section(html, "verify-queue")) == closed[-1:]


def test_the_totals_come_from_the_remembered_counts_and_follow_each_change(
    dispatcher, engineer, service_manager, service_manager_client
):
    tickets = [
        ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer) for _ in range(2)
    ]
    assert 'id="closed-count">2<' in manager_page(service_manager_client)
    with capture_queries() as queries:
        manager_page(service_manager_client)
    assert not [q for q in queries if "COUNT(" in q["sql"]]  # no count over the tickets
    services.perform(tickets[0], "verify", service_manager)
    assert 'id="closed-count">1<' in manager_page(service_manager_client)


def test_every_page_of_the_queues_makes_the_same_queries(dispatcher, service_manager_client):
    url = reverse("tickets:manager_queues")
    queued_tickets(2, State.LOCKED, dispatcher)
    queued_tickets(2, State.CLOSED, dispatcher)
    few = count_queries(service_manager_client, url)
    queued_tickets(2 * settings.PAGE_SIZE, State.LOCKED, dispatcher)
    queued_tickets(2 * settings.PAGE_SIZE, State.CLOSED, dispatcher)
    assert count_queries(service_manager_client, url) == few
    assert count_queries(service_manager_client, url, {"closed_page": 2}) == few
    assert count_queries(service_manager_client, url, {"locked_page": 3, "closed_page": 2}) == few
