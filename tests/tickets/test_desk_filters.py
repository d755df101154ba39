"""Every filter the desk offers narrows the list: the names its form sends are the names the
filters read, and each one is tried on tickets whose answer is known."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.factories import enter_ticket
from tickets.filters import TicketFilter
from tickets.models import Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")


def read_names():
    """The query parameters the desk's filters read (a range reads name_after/name_before)."""
    names = {"page"}
    for name, field in TicketFilter().form.fields.items():
        widget = field.widget
        if getattr(widget, "suffixes", None):
            names |= {widget.suffixed(name, suffix) for suffix in widget.suffixes}
        else:
            names.add(name)
    return names


def test_every_input_of_the_desk_is_read_by_a_filter(dispatcher_client):
    page = dispatcher_client.get(reverse("tickets:list")).content.decode()
    form = page.split("ticket-filters")[1].split("</form>")[0]
    offered = set(re.findall(r'<(?:input|select)[^>]* name="([a-z_]+)"', form))
    assert {"q", "created_after", "requested_before"} <= offered
    assert offered <= read_names()


def numbers(client, **params):
    response = client.get(reverse("tickets:list"), params)
    assert response.status_code == 200
    return {row.number for row in response.context["object_list"]}


@pytest.fixture
def three_days(dispatcher):
    """Tickets entered on 12-01, 12-02 and 12-03 (Shanghai days), requested for 12-10/11/12."""
    tickets = []
    for n in range(3):
        ticket = enter_ticket(dispatcher)
        entered = datetime(2026, 12, 1 + n, 23, 30, tzinfo=SHANGHAI)  # late: UTC says the day
        Ticket.objects.filter(pk=ticket.pk).update(  # before, the desk must not
            created_at=entered, requested_date=date(2026, 12, 10) + timedelta(days=n)
        )
        tickets.append(ticket.number)
    return tickets


def test_entered_from_and_until_take_whole_local_days(dispatcher_client, three_days):
    first, second, third = three_days
    assert numbers(dispatcher_client, created_after="2026-12-02") == {second, third}
    assert numbers(dispatcher_client, created_before="2026-12-02") == {first, second}
    both = numbers(dispatcher_client, created_after="2026-12-02", created_before="2026-12-02")
    assert both == {second}


def test_requested_from_and_until(dispatcher_client, three_days):
    first, second, third = three_days
    assert numbers(dispatcher_client, requested_after="2026-12-11") == {second, third}
    assert numbers(dispatcher_client, requested_before="2026-12-10") == {first}


def test_a_date_that_is_not_one_is_said_and_breaks_nothing(dispatcher_client, three_days):
    response = dispatcher_client.get(reverse("tickets:list"), {"created_after": "31.02.2026"})
    assert response.status_code == 200


def test_the_sort_box_reads_in_chinese(dispatcher_client):
    page = dispatcher_client.get(reverse("tickets:list")).content.decode()
    sort = page.split('name="sort"')[1].split("</select>")[0]
    assert '<option value="created">录入</option>' in sort
    assert '<option value="-due">最近到期（降序）</option>' in sort
    assert "Created" not in sort and "应收" not in sort
