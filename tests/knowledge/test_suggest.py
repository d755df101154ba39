"""Suggestions while a request is typed and for a request (knowledge.suggest): the matching
published article and the similar resolved request of the same product line, who may see what,
a fixed number of queries, garbage parameters."""

import pytest
from django.urls import reverse

from aftersales.roles import Role
from knowledge.models import State
from tickets.models import State as TicketState

from ..factories import ProductLineFactory, ticket_in_state
from ..queries import count_queries
from .suggest_data import article, resolved_ticket, unit_of

URL = "/knowledge/suggest/"
TYPED = "压缩机不启动"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def line():
    return ProductLineFactory(code="HVAC", name="商用空调")


@pytest.fixture
def other_engineer(make_user):
    return make_user(Role.ENGINEER, username="engineer2")


@pytest.fixture
def knowledge(dispatcher, engineer, service_manager, line):
    """The article and the past request that match TYPED, and their lookalikes that must not
    show: an unrelated article, a draft, the same problem on another product line."""
    other_line = ProductLineFactory(code="WATER", name="净水设备")
    return {
        "article": article(service_manager, line, title="压缩机不启动的排查"),
        "unrelated": article(
            service_manager, line, title="滤网堵塞的清洗", solution="拆下滤网\n用清水冲洗"
        ),
        "draft": article(service_manager, line, title="压缩机不启动（草稿）", state=State.DRAFT),
        "ticket": resolved_ticket(dispatcher, engineer, line, "压缩机不启动，开机无反应"),
        "elsewhere": resolved_ticket(dispatcher, engineer, other_line, "压缩机不启动，净水机"),
    }


def suggest(client, **params):
    return client.get(URL, params, **HTMX)


def test_a_description_close_to_a_past_request_shows_it_and_the_matching_article(
    dispatcher_client, knowledge, line
):
    response = suggest(dispatcher_client, description=TYPED, line=line.pk)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page  # the panel's content only
    assert f'data-article="{knowledge["article"].pk}"' in page
    assert f'data-ticket="{knowledge["ticket"].pk}"' in page
    past = knowledge["ticket"]
    assert f'<a href="{reverse("tickets:detail", args=[past.pk])}">{past.number}</a>' in page
    # Not what does not match, not a draft, not another product line's request.
    assert f'data-article="{knowledge["unrelated"].pk}"' not in page
    assert f'data-article="{knowledge["draft"].pk}"' not in page
    assert knowledge["elsewhere"].number not in page


def test_the_unit_names_the_product_line(dispatcher_client, knowledge, line):
    unit = unit_of(line)

    page = suggest(dispatcher_client, description=TYPED, equipment=unit.pk).content.decode()

    assert f'data-ticket="{knowledge["ticket"].pk}"' in page
    assert knowledge["elsewhere"].number not in page


def test_an_article_of_the_problem_type_comes_first_among_matches(
    dispatcher_client, service_manager, line
):
    from ..factories import ProblemTypeFactory

    kind = ProblemTypeFactory()
    plain = article(service_manager, line, title="压缩机不启动的检查")
    typed = article(service_manager, line, title="压缩机不启动的处理", problem_type=kind)

    page = suggest(
        dispatcher_client, description=TYPED, line=line.pk, problem_type=kind.pk
    ).content.decode()

    assert page.index(f'data-article="{typed.pk}"') < page.index(f'data-article="{plain.pk}"')


def test_a_short_description_gets_a_quiet_hint(dispatcher_client, knowledge, line):
    for typed in ("", "压", "   "):
        page = suggest(dispatcher_client, description=typed, line=line.pk).content.decode()
        assert "kb-hint" in page
        assert "data-article" not in page and "data-ticket" not in page


def test_without_javascript_the_form_opens_the_suggestions_as_a_page(
    dispatcher_client, knowledge, line
):
    unit = unit_of(line)
    # The entry form's button posts the whole form here (formaction) in a new tab.
    response = dispatcher_client.post(
        URL, {"description": TYPED, "equipment": unit.pk, "contact_name": "周建国"}
    )

    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page
    assert f'data-article="{knowledge["article"].pk}"' in page
    assert f'data-ticket="{knowledge["ticket"].pk}"' in page


def test_an_engineer_sees_past_requests_of_others_without_a_link(
    engineer_client, other_engineer, dispatcher, line, service_manager
):
    past = resolved_ticket(dispatcher, other_engineer, line, "压缩机不启动，开机无反应")

    page = suggest(engineer_client, description=TYPED, line=line.pk).content.decode()

    assert past.number in page
    assert reverse("tickets:detail", args=[past.pk]) not in page


def test_people_who_handle_no_requests_get_no_suggestions(client, client_for, make_user):
    nobody = make_user(None, username="nobody")

    assert client_for(nobody).get(URL, {"description": TYPED}).status_code == 403
    anonymous = client.get(URL, {"description": TYPED})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_panel_costs_the_same_queries_whatever_it_finds(
    dispatcher_client, dispatcher, engineer, service_manager, line
):
    article(service_manager, line, title="压缩机不启动的排查")
    resolved_ticket(dispatcher, engineer, line, "压缩机不启动，开机无反应")
    params = {"description": TYPED, "line": line.pk}
    few = count_queries(dispatcher_client, URL, params)
    for i in range(4):
        article(service_manager, line, title=f"压缩机不启动的排查 {i}")
        resolved_ticket(dispatcher, engineer, line, f"压缩机不启动，第 {i} 次")

    page = dispatcher_client.get(URL, params, **HTMX).content.decode()
    assert page.count("data-article=") == 5 and page.count("data-ticket=") == 5
    assert count_queries(dispatcher_client, URL, params) == few


NASTY = [
    "\x00",
    "a\x00b",
    "abc",
    "-1",
    "0",
    "99999999999999999999",
    "1e309",
    "１２３",
    "%",
    "' OR 1=1 --",
    "🙂",
    "x" * 5000,
]


@pytest.mark.parametrize("name", ["description", "line", "equipment", "problem_type"])
def test_garbage_parameters_never_fail(dispatcher_client, knowledge, name):
    for value in NASTY:
        params = {"description": TYPED, name: value}
        assert dispatcher_client.get(URL, params, **HTMX).status_code == 200, (name, value)
        assert dispatcher_client.get(URL, params).status_code == 200, (name, value)


# The panels on the tickets app's pages ------------------------------------------------------


def test_the_entry_form_has_the_panel_that_follows_the_description(dispatcher_client, line):
    unit = unit_of(line)

    page = dispatcher_client.get(
        reverse("tickets:create"), {"customer": unit.customer.pk}
    ).content.decode()

    assert 'id="kb-suggest"' in page
    assert f'hx-get="{URL}"' in page
    assert "keyup changed delay:400ms from:#id_description" in page
    assert f'formaction="{URL}"' in page  # the way without JavaScript


def test_the_request_page_and_the_job_page_load_the_requests_suggestions(
    dispatcher_client, engineer_client, dispatcher, engineer, line
):
    unit = unit_of(line)
    ticket = ticket_in_state(
        TicketState.ASSIGNED,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        description=TYPED,
    )
    lazy = reverse("knowledge:ticket_suggestions", args=[ticket.pk])

    desk = dispatcher_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    phone = engineer_client.get(reverse("mobile:job", args=[ticket.pk])).content.decode()

    desk_back, phone_back = f"%2Ftickets%2F{ticket.pk}%2F", f"%2Fm%2Fjobs%2F{ticket.pk}%2F"
    for page, back in ((desk, desk_back), (phone, phone_back)):
        assert 'id="kb-suggest"' in page
        assert f'hx-get="{lazy}?next={back}"' in page
        assert f'<a href="{lazy}?next={back}"' in page  # the way without JavaScript


def test_a_requests_suggestions_match_its_description_and_line_not_itself(
    engineer_client, dispatcher, engineer, service_manager, knowledge, line
):
    unit = unit_of(line)
    ticket = ticket_in_state(
        TicketState.IN_SERVICE,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        description=TYPED,
    )
    url = reverse("knowledge:ticket_suggestions", args=[ticket.pk])

    page = engineer_client.get(url, **HTMX).content.decode()

    assert f'data-article="{knowledge["article"].pk}"' in page
    assert f'data-ticket="{knowledge["ticket"].pk}"' in page
    assert f'data-ticket="{ticket.pk}"' not in page
    assert knowledge["elsewhere"].number not in page
    # The feedback buttons of this request.
    feedback = reverse("knowledge:feedback", args=[knowledge["article"].pk, ticket.pk])
    assert f'hx-post="{feedback}"' in page
    # Without JavaScript: a page of its own, back to the job.
    full = engineer_client.get(url, {"next": "/m/jobs/1/"}).content.decode()
    assert "<html" in full and 'href="/m/jobs/1/"' in full
    assert (
        'href="https://evil.example/"'
        not in engineer_client.get(url, {"next": "https://evil.example/"}).content.decode()
    )


def test_an_engineer_cannot_see_the_suggestions_of_someone_elses_request(
    client_for, other_engineer, dispatcher, engineer, line
):
    ticket = ticket_in_state(
        TicketState.ASSIGNED, dispatcher=dispatcher, engineer=engineer, description=TYPED
    )
    url = reverse("knowledge:ticket_suggestions", args=[ticket.pk])

    assert client_for(other_engineer).get(url).status_code == 404


def test_a_requests_suggestions_cost_the_same_queries_whatever_they_find(
    engineer_client, dispatcher, engineer, service_manager, line
):
    unit = unit_of(line)
    ticket = ticket_in_state(
        TicketState.IN_SERVICE,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        description=TYPED,
    )
    url = reverse("knowledge:ticket_suggestions", args=[ticket.pk])
    article(service_manager, line, title="压缩机不启动的排查")
    resolved_ticket(dispatcher, engineer, line, "压缩机不启动，开机无反应")
    few = count_queries(engineer_client, url)
    for i in range(4):
        article(service_manager, line, title=f"压缩机不启动的排查 {i}")
        resolved_ticket(dispatcher, engineer, line, f"压缩机不启动，第 {i} 次")

    assert count_queries(engineer_client, url) == few


def test_garbage_in_a_requests_suggestions_next_never_fails(
    engineer_client, dispatcher, engineer, line
):
    ticket = ticket_in_state(
        TicketState.ASSIGNED, dispatcher=dispatcher, engineer=engineer, description=TYPED
    )
    url = reverse("knowledge:ticket_suggestions", args=[ticket.pk])

    for value in [*NASTY, "//evil.example/", "javascript:alert(1)"]:
        response = engineer_client.get(url, {"next": value})
        assert response.status_code == 200, value
        assert 'href="javascript:' not in response.content.decode()
