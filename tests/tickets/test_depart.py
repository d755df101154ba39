"""The engineer's "Set off" (出发) on the phone: a "depart" row on the request's log for an
accepted job not yet checked in, once per assignment, shown on the desk's timeline."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from aftersales.models import Delivery
from aftersales.roles import Role
from tests.factories import ticket_in_state
from tickets import services
from tickets.models import State, TicketTransition


@pytest.fixture
def accepted(dispatcher, engineer):
    ticket = ticket_in_state(
        State.ASSIGNED, dispatcher=dispatcher, engineer=engineer, contact_phone="13912345678"
    )
    return services.perform(ticket, "accept", engineer)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def set_off(client, ticket, version=None):
    if version is None:
        ticket.refresh_from_db()
        version = ticket.version
    return client.post(reverse("mobile:depart", args=[ticket.pk]), {"version": version})


def departures(ticket):
    return TicketTransition.objects.filter(ticket=ticket, action="depart")


def test_an_accepted_job_offers_set_off_and_records_it_once(engineer_client, accepted):
    page = engineer_client.get(reverse("mobile:job", args=[accepted.pk])).content.decode()
    assert reverse("mobile:depart", args=[accepted.pk]) in page and "出发" in page
    version = accepted.version

    response = set_off(engineer_client, accepted)
    assert response.status_code == 302
    assert response["Location"] == reverse("mobile:job", args=[accepted.pk])
    assert messages_of(response) == [f"您已出发前往 {accepted.number}，客户可以看到您正在路上。"]
    row = departures(accepted).get()
    assert (row.source, row.target) == (State.ASSIGNED, State.ASSIGNED)
    assert row.actor.username == "engineer" and row.data == {"round": 1}
    accepted.refresh_from_db()
    assert accepted.state == State.ASSIGNED and accepted.version == version + 1

    page = engineer_client.get(reverse("mobile:job", args=[accepted.pk])).content.decode()
    assert reverse("mobile:depart", args=[accepted.pk]) not in page
    assert 'id="departed"' in page and "客户可以看到" in page
    assert "工程师已出发" in page  # the job's history

    # A second press (a double tap, an old page): nothing changes, and it says so.
    again = set_off(engineer_client, accepted)
    assert again.status_code == 302
    [said] = messages_of(again)
    assert said.startswith("您已于 ") and "出发" in said
    assert departures(accepted).count() == 1
    accepted.refresh_from_db()
    assert accepted.version == version + 1
    # The same from the page drawn before the first press.
    set_off(engineer_client, accepted, version=version)
    assert departures(accepted).count() == 1


def test_set_off_needs_the_job_accepted(engineer_client, dispatcher, engineer):
    ticket = ticket_in_state(State.ASSIGNED, dispatcher=dispatcher, engineer=engineer)
    page = engineer_client.get(reverse("mobile:job", args=[ticket.pk])).content.decode()
    assert reverse("mobile:depart", args=[ticket.pk]) not in page

    response = set_off(engineer_client, ticket)
    assert messages_of(response) == ["请先接单，再点击出发。"]
    assert not departures(ticket).exists()


def test_a_stale_page_sets_off_nothing(engineer_client, accepted):
    response = set_off(engineer_client, accepted, version=accepted.version - 1)
    assert "刚刚被其他人修改" in messages_of(response)[0]
    assert not departures(accepted).exists()


def test_set_off_is_refused_once_on_site(engineer_client, engineer, accepted):
    ticket = services.check_in(accepted, engineer)
    page = engineer_client.get(reverse("mobile:job", args=[ticket.pk])).content.decode()
    assert reverse("mobile:depart", args=[ticket.pk]) not in page
    response = set_off(engineer_client, ticket)
    assert messages_of(response) == ["只能为指派给您的工单点击出发。"]
    assert not departures(ticket).exists()


def test_another_engineers_job_is_not_found(client_for, make_user, accepted):
    other = make_user(Role.ENGINEER, username="engineer2")
    assert set_off(client_for(other), accepted).status_code == 404
    assert not departures(accepted).exists()


def test_only_a_post_sets_off(engineer_client, accepted):
    response = engineer_client.get(reverse("mobile:depart", args=[accepted.pk]))
    assert response.status_code == 405
    assert not departures(accepted).exists()


def test_a_new_assignment_may_set_off_again(
    engineer_client, client_for, dispatcher, engineer, make_user, accepted
):
    set_off(engineer_client, accepted)
    other = make_user(Role.ENGINEER, username="engineer2")
    ticket = services.perform(accepted, "assign", dispatcher, engineer=other)
    ticket = services.perform(ticket, "accept", other)
    page = client_for(other).get(reverse("mobile:job", args=[ticket.pk])).content.decode()
    assert reverse("mobile:depart", args=[ticket.pk]) in page  # the first engineer's was before

    set_off(client_for(other), ticket)
    assert [row.actor for row in departures(ticket)] == [engineer, other]


def test_the_desk_timeline_shows_the_engineer_on_the_way(
    engineer_client, dispatcher_client, accepted
):
    before = Delivery.objects.filter(channel=Delivery.Channel.SMS).count()
    set_off(engineer_client, accepted)
    page = dispatcher_client.get(reverse("tickets:detail", args=[accepted.pk])).content.decode()
    timeline = page.split('class="timeline list-unstyled')[1].split("</ol>")[0]
    assert "<strong>工程师已出发</strong>" in timeline and "· engineer" in timeline
    # Nobody is texted about it: the tracking page shows it.
    assert Delivery.objects.filter(channel=Delivery.Channel.SMS).count() == before
