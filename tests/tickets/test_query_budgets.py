"""Query budgets (STYLE 24): the ticket queues and the work order make the same number of
queries with a few rows as with many, each row carrying visits, parts, photos and calls."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import EquipmentFactory, ticket_in_state
from tests.queries import count_queries
from tickets import services
from tickets.models import PartLine, Revisit, State, Visit, VisitPhoto


def dress(ticket, extra_visits=0):
    """Parts and photos on each of the ticket's visits, after `extra_visits` earlier ones."""
    last = ticket.visits.get()
    for n in range(extra_visits):
        Visit.objects.create(
            ticket=ticket,
            engineer=last.engineer,
            round=last.round,
            checked_in_at=last.checked_in_at,
            finished_at=last.finished_at,
            result=Visit.Result.UNRESOLVED,
            work_done=f"第 {n + 1} 次上门",
        )
    for visit in ticket.visits.all():
        PartLine.objects.bulk_create(
            [PartLine(visit=visit, name="压缩机电容"), PartLine(visit=visit, name="滤芯")]
        )
        VisitPhoto.objects.bulk_create(
            [VisitPhoto(visit=visit, image=f"visits/2026/12/{visit.pk}-{n}.jpg") for n in (1, 2)]
        )


def processed_tickets(n, dispatcher, engineer, agent):
    for _i in range(n):
        ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
        dress(ticket)
        services.record_revisit(
            ticket, agent, version=None, outcome=Revisit.Outcome.UNREACHABLE, score=None
        )


def test_revisit_queue_budget(dispatcher, engineer, revisit_agent, revisit_agent_client):
    url = reverse("tickets:revisit_queue")
    processed_tickets(2, dispatcher, engineer, revisit_agent)
    few = count_queries(revisit_agent_client, url)
    processed_tickets(28, dispatcher, engineer, revisit_agent)
    page = revisit_agent_client.get(url).content.decode()
    assert page.count("visit-thumb") == 2 * min(30, settings.PAGE_SIZE)
    assert count_queries(revisit_agent_client, url) == few


def manager_tickets(n, dispatcher, engineer):
    for i in range(n):
        ticket = ticket_in_state(
            (State.CLOSED, State.LOCKED)[i % 2],
            dispatcher=dispatcher,
            engineer=engineer,
            equipment=EquipmentFactory(),
        )
        if ticket.state == State.CLOSED:
            dress(ticket)


def test_manager_queues_budget(dispatcher, engineer, service_manager_client):
    url = reverse("tickets:manager_queues")
    manager_tickets(2, dispatcher, engineer)
    few = count_queries(service_manager_client, url)
    manager_tickets(28, dispatcher, engineer)
    page = service_manager_client.get(url).content.decode()
    assert page.count("visit-thumb") == 2 * min(15, settings.PAGE_SIZE)
    assert count_queries(service_manager_client, url) == few


@pytest.mark.parametrize("who", ["dispatcher", "engineer"])
def test_work_order_budget(request, dispatcher, engineer, revisit_agent, client_for, who):
    client = client_for(request.getfixturevalue(who))

    def work_order(visits):
        ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
        dress(ticket, extra_visits=visits - 1)
        for _n in range(visits):
            Revisit.objects.create(
                ticket=ticket, agent=revisit_agent, outcome=Revisit.Outcome.UNREACHABLE
            )
        return reverse("tickets:work_order", args=[ticket.pk])

    few, many = work_order(1), work_order(20)
    assert client.get(many).content.decode().count('class="work-order-visit"') == 20
    assert count_queries(client, many) == count_queries(client, few)
