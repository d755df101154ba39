"""What the tickets app offers the apps above it (parts, knowledge, complaints): the
visit_recorded hook and the ticket page's panel slot, tried as such an app would use them."""

from decimal import Decimal

import pytest
from django.template import engines
from django.urls import reverse

from aftersales.registry import Panel
from tests.factories import enter_ticket, ticket_in_state
from tests.tickets.test_mobile import correction_post, job_url, message_texts, visit_post
from tickets import services
from tickets.hooks import visit_recorded
from tickets.models import PartLine, State, Visit
from tickets.slots import ticket_panels


class Calls(list):
    refuse = None  # a message: the receiver refuses the record with it


@pytest.fixture
def receiver():
    """A receiver on visit_recorded that remembers its calls, and refuses when told to."""
    calls = Calls()

    def record(sender, **kwargs):
        calls.append(kwargs)
        if calls.refuse:
            raise services.ActionRefused(calls.refuse)

    visit_recorded.connect(record, weak=False)
    yield calls
    visit_recorded.disconnect(record)


def test_a_finished_visit_is_announced_with_its_parts(
    engineer_client, dispatcher, engineer, receiver
):
    ticket = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    data = visit_post(ticket, **{"parts-0-name": "温控器 WK-20", "parts-0-quantity": "2"})
    engineer_client.post(job_url(ticket, "visit"), data)

    [call] = receiver
    assert call["visit"] == Visit.objects.get(ticket=ticket)
    assert call["parts"] == [("温控器 WK-20", Decimal("2"))]
    assert call["actor"] == engineer and call["corrected"] is False


def test_a_receiver_that_refuses_saves_nothing_and_the_engineer_reads_why(
    engineer_client, dispatcher, engineer, receiver
):
    """The parts app refusing a record (not enough stock in the van) undoes the whole visit."""
    ticket = ticket_in_state(State.IN_SERVICE, dispatcher=dispatcher, engineer=engineer)
    receiver.refuse = "车载库存不足：温控器 WK-20"
    data = visit_post(ticket, **{"parts-0-name": "温控器 WK-20", "parts-0-quantity": "2"})
    response = engineer_client.post(job_url(ticket, "visit"), data)

    assert message_texts(response) == ["车载库存不足：温控器 WK-20"]
    ticket.refresh_from_db()
    assert ticket.state == State.IN_SERVICE
    assert not PartLine.objects.filter(visit__ticket=ticket).exists()
    assert Visit.objects.get(ticket=ticket).result == Visit.Result.OPEN


def test_a_correction_is_announced_as_corrected(
    client_for, dispatcher, engineer, service_manager, receiver
):
    ticket = ticket_in_state(State.CLOSED, dispatcher=dispatcher, engineer=engineer)
    services.perform(ticket, "send_back", service_manager, reason="补录电容")
    receiver.clear()
    client_for(engineer).post(job_url(ticket, "correct"), correction_post(ticket))

    [call] = receiver
    assert call["corrected"] is True and call["actor"] == engineer
    assert call["parts"] == [("压缩机电容 35μF", Decimal("1"))]


@pytest.fixture
def knowledge_panel(settings, tmp_path):
    """A panel as the knowledge app would add it: its own template, its own context."""
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "_suggestions.html").write_text(
        '<section id="kb-panel">相关知识：{{ panel.title }}（{{ panel.number }}）</section>'
    )
    engines["django"].engine.dirs.append(str(tmp_path))
    for loader in engines["django"].engine.template_loaders:
        loader.reset()

    def context(request, ticket):
        if not request.user.has_perm("tickets.dispatch_ticket"):
            return None
        return {"title": "压缩机不启动的排查", "number": ticket.number}

    panel = ticket_panels.register(Panel("kb/_suggestions.html", context, rank=10))
    yield panel
    ticket_panels._parts.remove(panel)
    engines["django"].engine.dirs.remove(str(tmp_path))


def test_the_ticket_page_shows_panels_of_apps_above_to_those_they_allow(
    dispatcher_client, client_for, dispatcher, revisit_agent, knowledge_panel
):
    ticket = enter_ticket(dispatcher)
    url = reverse("tickets:detail", args=[ticket.pk])

    page = dispatcher_client.get(url).content.decode()
    assert f"相关知识：压缩机不启动的排查（{ticket.number}）" in page

    agent_view = client_for(revisit_agent).get(url)
    assert agent_view.status_code == 200
    assert 'id="kb-panel"' not in agent_view.content.decode()
