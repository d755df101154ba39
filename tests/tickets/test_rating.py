"""The customer rates the service on the tracking page (/t/<token>/), once per processing round;
the rating is the revisit's first answer: the revisit queue shows it, a 1–2 first as "needs a
call", and the revisit form starts from it."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import ticket_in_state
from tests.queries import count_queries
from tickets import services
from tickets.models import Rating, Revisit, State, Ticket, TicketTransition
from tickets.views.queues import RevisitQueueView


@pytest.fixture
def processed(dispatcher, engineer):
    return ticket_in_state(
        State.PROCESSED, dispatcher=dispatcher, engineer=engineer, contact_phone="13912345678"
    )


def page_url(ticket):
    return reverse("ticket_public", args=[ticket.public_token])


def rate_url(ticket):
    return reverse("ticket_rate", args=[ticket.public_token])


def rate(client, ticket, **data):
    """Send the rating form and follow back to the page; returns the page (`said`: its
    messages)."""
    response = client.post(rate_url(ticket), data, follow=True)
    assert response.redirect_chain == [(page_url(ticket) + "#rating", 302)]
    response.said = [str(m) for m in response.context["messages"]]
    return response


def nothing_saved(ticket, version):
    ticket.refresh_from_db()
    return (
        not Rating.objects.filter(ticket=ticket).exists()
        and not TicketTransition.objects.filter(ticket=ticket, action="rate").exists()
        and ticket.version == version
        and not ticket.needs_call
    )


# --- The tracking page ----------------------------------------------------------------------------


def test_the_customer_rates_a_processed_request(client, processed):
    page = client.get(page_url(processed)).content.decode()
    assert 'id="rating"' in page and f'action="{rate_url(processed)}"' in page
    assert "为我们的服务评分" in page and 'name="csrfmiddlewaretoken"' in page
    version = processed.version

    response = rate(client, processed, score="2", comment=" 第二天又漏水了 ")
    assert response.said == ["感谢您对我们服务的评价！"]

    rating = Rating.objects.get(ticket=processed)
    assert (rating.round, rating.score, rating.comment) == (1, 2, "第二天又漏水了")
    row = TicketTransition.objects.get(ticket=processed, action="rate")
    assert row.actor is None and (row.source, row.target) == (State.PROCESSED, State.PROCESSED)
    assert row.data == {"score": 2, "comment": "第二天又漏水了", "round": 1}
    processed.refresh_from_db()
    assert processed.needs_call and processed.version == version + 1
    assert processed.state == State.PROCESSED
    assert not Revisit.objects.exists()  # nobody called: the revisit figures count calls

    page = response.content.decode()
    assert "您的评分：2 分（满分 5 分）。" in page and "第二天又漏水了" in page
    assert rate_url(processed) not in page  # no second form


def test_a_second_rating_of_the_round_is_refused(client, processed):
    rate(client, processed, score="4", comment="不错")
    processed.refresh_from_db()
    version = processed.version

    response = rate(client, processed, score="1", comment="改主意了")
    assert response.said == ["您已评价过本次服务，感谢您的反馈！"]
    assert list(Rating.objects.values_list("score", "comment")) == [(4, "不错")]
    assert TicketTransition.objects.filter(ticket=processed, action="rate").count() == 1
    processed.refresh_from_db()
    assert processed.version == version and not processed.needs_call


@pytest.mark.parametrize("state", [State.PENDING_ASSIGNMENT, State.ASSIGNED, State.IN_SERVICE])
def test_a_request_not_done_yet_cannot_be_rated(client, dispatcher, engineer, state):
    ticket = ticket_in_state(state, dispatcher=dispatcher, engineer=engineer)
    page = client.get(page_url(ticket)).content.decode()
    assert 'id="rating"' not in page and rate_url(ticket) not in page

    response = rate(client, ticket, score="5")
    assert response.said == ["服务完成后才能评价此服务请求。"]
    assert nothing_saved(ticket, ticket.version)


@pytest.mark.parametrize("score", ["", "0", "6", "-1", "2.5", "五", "3; DROP TABLE", "9" * 30])
def test_a_garbage_score_saves_nothing(client, processed, score):
    response = rate(client, processed, score=score, comment="好")
    assert response.said == ["请选择 1 到 5 分的评分。"]
    assert rate_url(processed) in response.content.decode()  # the form, to try again
    assert nothing_saved(processed, processed.version)


def test_a_missing_score_or_a_long_comment_saves_nothing(client, processed):
    assert rate(client, processed, comment="好").said == ["请选择 1 到 5 分的评分。"]
    [said] = rate(client, processed, score="3", comment="长" * 501).said
    assert "500" in said
    assert nothing_saved(processed, processed.version)


def test_a_guessed_token_is_not_found(client, processed):
    guessed = processed.public_token[:-1] + ("A" if processed.public_token[-1] != "A" else "B")
    assert client.post(reverse("ticket_rate", args=[guessed]), {"score": "5"}).status_code == 404
    assert client.post("/t/x/rate/", {"score": "5"}).status_code == 404
    assert nothing_saved(processed, processed.version)


def test_the_form_needs_its_csrf_token(processed):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(rate_url(processed), {"score": "5"}).status_code == 403
    assert nothing_saved(processed, processed.version)

    page = browser.get(page_url(processed)).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = browser.post(rate_url(processed), {"score": "5", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Rating.objects.get().score == 5


def test_only_a_post_rates(client, processed):
    assert client.get(rate_url(processed)).status_code == 405


def test_rating_is_rate_limited(client, processed, settings):
    settings.PUBLIC_RATE_LIMIT = "2/m"
    codes = [
        client.post(rate_url(processed), {"score": "x"}, REMOTE_ADDR="10.9.8.6").status_code
        for _ in range(3)
    ]
    assert codes == [302, 302, 429]


@pytest.mark.parametrize("state", [State.CLOSED, State.VERIFIED])
def test_a_closed_request_can_be_rated_and_asks_for_no_call(client, dispatcher, engineer, state):
    ticket = ticket_in_state(state, dispatcher=dispatcher, engineer=engineer)
    assert 'id="rating"' in client.get(page_url(ticket)).content.decode()
    rate(client, ticket, score="1", comment="太慢了")
    assert Rating.objects.get(ticket=ticket).score == 1
    ticket.refresh_from_db()
    assert ticket.state == state and not ticket.needs_call


def test_each_processing_round_is_rated_afresh(
    client, dispatcher, engineer, revisit_agent, processed
):
    rate(client, processed, score="1", comment="没修好")
    ticket = services.record_revisit(
        processed,
        revisit_agent,
        version=None,
        outcome=Revisit.Outcome.UNSATISFIED,
        score=1,
        comment="没修好",
    )
    assert not ticket.needs_call  # the round is over
    assert 'id="rating"' not in client.get(page_url(ticket)).content.decode()
    ticket = services.perform(ticket, "assign", dispatcher, engineer=engineer)
    ticket = services.check_in(ticket, engineer)
    ticket = services.perform(ticket, "resolve", engineer)
    assert ticket.round == 2

    page = client.get(page_url(ticket)).content.decode()
    assert rate_url(ticket) in page  # round 1's rating was for the first visit
    rate(client, ticket, score="5", comment="这次修好了")
    assert list(Rating.objects.order_by("round").values_list("round", "score")) == [
        (1, 1),
        (2, 5),
    ]
    ticket.refresh_from_db()
    assert not ticket.needs_call


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_ratings_sent_at_once_save_one(dispatcher, engineer):
    ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    barrier = threading.Barrier(2)
    results = {}

    def rate(score):
        try:
            barrier.wait(timeout=10)
            services.rate_ticket(Ticket.objects.get(pk=ticket.pk), score=score)
            results[score] = "ok"
        except services.ActionRefused as refusal:
            results[score] = str(refusal)
        finally:
            connections.close_all()  # each thread used its own database connection

    threads = [threading.Thread(target=rate, args=(score,)) for score in (1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(results.values()).count("ok") == 1
    [rating] = Rating.objects.all()
    assert results[rating.score] == "ok"
    assert TicketTransition.objects.filter(ticket=ticket, action="rate").count() == 1
    assert connection.vendor == "postgresql"


# --- The revisit queue and form -------------------------------------------------------------------


def waiting(n, dispatcher, engineer):
    """`n` processed requests, the first processed first."""
    tickets = []
    start = timezone.now() - timezone.timedelta(days=1)
    for i in range(n):
        ticket = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
        stamp = start + timezone.timedelta(minutes=i)
        Ticket.objects.filter(pk=ticket.pk).update(processed_at=stamp)
        ticket.refresh_from_db()
        tickets.append(ticket)
    return tickets


def test_a_low_rating_goes_first_in_the_revisit_queue_as_needs_a_call(
    client, dispatcher, engineer, revisit_agent_client
):
    oldest, fine, angry = waiting(3, dispatcher, engineer)
    rate(client, fine, score="4")
    rate(client, angry, score="1", comment="师傅态度很差，问题也没解决")

    page = revisit_agent_client.get(reverse("tickets:revisit_queue")).content.decode()
    cards = page.split("<article")[1:]
    numbers = [card.split('data-ticket="')[1].split('"')[0] for card in cards]
    assert numbers == [angry.number, oldest.number, fine.number]

    angry_card, oldest_card, fine_card = cards
    assert "revisit-card--call" in angry_card and "需回电" in angry_card
    assert "客户评分：<strong>1/5</strong>" in angry_card
    assert "师傅态度很差，问题也没解决" in angry_card
    # The call's form starts from the customer's answer.
    assert '<option value="1" selected>' in angry_card
    assert 'value="师傅态度很差，问题也没解决"' in angry_card
    assert "客户评分：<strong>4/5</strong>" in fine_card and "需回电" not in fine_card
    assert '<option value="4" selected>' in fine_card
    assert "客户评分" not in oldest_card and " selected>" not in oldest_card


def test_the_queue_shows_only_this_rounds_rating(
    client, dispatcher, engineer, revisit_agent, revisit_agent_client
):
    [ticket] = waiting(1, dispatcher, engineer)
    rate(client, ticket, score="2", comment="第一次没修好")
    ticket = services.record_revisit(
        ticket, revisit_agent, version=None, outcome="unsatisfied", score=2, comment="没修好"
    )
    ticket = services.perform(ticket, "assign", dispatcher, engineer=engineer)
    ticket = services.check_in(ticket, engineer)
    services.perform(ticket, "resolve", engineer)

    page = revisit_agent_client.get(reverse("tickets:revisit_queue")).content.decode()
    assert ticket.number in page
    assert "第一次没修好" not in page and "需回电" not in page


def test_the_revisit_form_on_the_ticket_page_starts_from_the_rating(
    client, revisit_agent_client, processed
):
    rate(client, processed, score="2", comment="还是有异响")
    page = revisit_agent_client.get(reverse("tickets:detail", args=[processed.pk])).content.decode()
    form = page.split('id="revisit"')[1].split("</form>")[0]
    assert "客户评分：<strong>2/5</strong>" in form and "需回电" in form
    assert '<option value="2" selected>' in form
    assert "还是有异响</textarea>" in form
    # The timeline: the customer's, not the system's.
    timeline = page.split('class="timeline list-unstyled')[1].split("</ol>")[0]
    assert "<strong>客户已评价</strong> · 评分 2/5" in timeline
    assert "· 客户</span>" in timeline and "还是有异响" in timeline


def test_the_revisit_queue_makes_as_many_queries_with_many_ratings(
    client, dispatcher, engineer, revisit_agent_client
):
    url = reverse("tickets:revisit_queue")
    for n, ticket in enumerate(waiting(2, dispatcher, engineer)):
        rate(client, ticket, score=str(n + 1), comment="评价")
    few = count_queries(revisit_agent_client, url)
    for n, ticket in enumerate(waiting(28, dispatcher, engineer)):
        rate(client, ticket, score=str(n % 5 + 1), comment="评价")
    page = revisit_agent_client.get(url).content.decode()
    assert page.count("customer-rating ") + page.count("customer-rating--call") >= 25
    assert count_queries(revisit_agent_client, url) == few


@pytest.mark.postgres
def test_the_queue_is_read_in_its_index_order(rf, revisit_agent):
    view = RevisitQueueView()
    view.request = rf.get("/")
    view.request.user = revisit_agent
    with connection.cursor() as cursor:
        # As on a large table: the planner must find the index that gives the queue's order.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = view.get_queryset()[:25].explain()
    assert "ticket_revisit_calls" in plan and "Sort" not in plan, plan
