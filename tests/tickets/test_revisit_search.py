"""The revisit queue's search box: the desk's search (tickets.filters.search_tickets) over the
tickets waiting for their call."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import ContactFactory, CustomerFactory, enter_ticket, queued_tickets
from tests.queries import count_queries
from tickets.models import State

pytestmark = pytest.mark.django_db


def shown(html):
    return re.findall(r">(SR\d{8}-\d{4})</a>", html)


def revisit_page(client, **params):
    response = client.get(reverse("tickets:revisit_queue"), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def waiting(dispatcher):
    """Three tickets waiting for their revisit call, each of another customer and caller."""
    tickets = {}
    for key, name, phone in [
        ("lin", "苏州林氏净水科技有限公司", "13912340001"),
        ("wang", "杭州王记餐饮管理有限公司", "13912340002"),
        ("zhou", "南京周大福珠宝店", "13912340003"),
    ]:
        customer = CustomerFactory(name=name)
        contact = ContactFactory(customer=customer, is_primary=True, mobile=phone)
        (number,) = queued_tickets(
            1,
            State.PROCESSED,
            dispatcher,
            customer=customer,
            contact=contact,
            contact_phone=phone,
        )
        tickets[key] = number
    return tickets


def test_the_revisit_queue_offers_a_search_box(revisit_agent_client, waiting):
    html = revisit_page(revisit_agent_client)
    assert re.search(r'<form class="filter-bar" method="get"[^>]*>\s*<input[^>]*name="q"', html)
    assert set(shown(html)) == set(waiting.values())


@pytest.mark.parametrize(
    ("key", "text"),
    [("lin", None), ("wang", "王记餐饮"), ("zhou", "13912340003")],
    ids=["number", "customer name", "contact phone"],
)
def test_the_revisit_queue_finds_by_number_customer_or_phone(
    revisit_agent_client, waiting, key, text
):
    text = text or waiting[key]  # None: the ticket's number
    assert shown(revisit_page(revisit_agent_client, q=text)) == [waiting[key]]


def test_the_revisit_search_shows_only_tickets_waiting_for_their_call(
    dispatcher, revisit_agent_client, waiting
):
    enter_ticket(dispatcher, contact_phone="13912340003")  # not processed yet
    assert shown(revisit_page(revisit_agent_client, q="13912340003")) == [waiting["zhou"]]


def test_a_revisit_search_that_finds_nothing_says_so(revisit_agent_client, waiting):
    html = revisit_page(revisit_agent_client, q="没有这个客户")
    assert shown(html) == []
    assert "没有符合搜索条件的待回访请求" in html
    assert 'value="没有这个客户"' in html  # the box keeps the text


def test_a_revisit_search_makes_the_same_queries_with_more_rows(
    dispatcher, revisit_agent_client, waiting
):
    url = reverse("tickets:revisit_queue")
    few = count_queries(revisit_agent_client, url, {"q": "13912340003"})
    customer = CustomerFactory(name="南京周记商贸")
    queued_tickets(settings.PAGE_SIZE + 5, State.PROCESSED, dispatcher, customer=customer)
    assert count_queries(revisit_agent_client, url, {"q": "13912340003"}) == few
    assert count_queries(revisit_agent_client, url, {"q": "南京周"}) == few
