"""Feedback from a request on an article (knowledge.feedback): "this solved it" / "didn't
help", one say per person and request, the counters, who may give it."""

import pytest
from django.urls import reverse

from aftersales.roles import Role
from knowledge import feedback
from knowledge.models import Article, Feedback, State
from tickets.models import State as TicketState

from ..factories import ProductLineFactory, ticket_in_state
from .suggest_data import article, unit_of

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def line():
    return ProductLineFactory(code="HVAC", name="商用空调")


@pytest.fixture
def other_engineer(make_user):
    return make_user(Role.ENGINEER, username="engineer2")


@pytest.fixture
def published(service_manager, line):
    return article(service_manager, line, title="压缩机不启动的排查")


def job(dispatcher, engineer, line, state=TicketState.IN_SERVICE):
    unit = unit_of(line)
    return ticket_in_state(
        state,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        description="压缩机不启动",
    )


@pytest.fixture
def ticket(dispatcher, engineer, line):
    return job(dispatcher, engineer, line)


def url(article, ticket):
    return reverse("knowledge:feedback", args=[article.pk, ticket.pk])


def counters(article):
    fresh = Article.objects.get(pk=article.pk)
    return fresh.helped, fresh.failed, fresh.uses


def test_this_solved_it_counts_once_however_often_it_is_clicked(engineer_client, published, ticket):
    for _click in range(3):
        response = engineer_client.post(url(published, ticket), {"helped": "yes"}, **HTMX)
        assert response.status_code == 200

    assert counters(published) == (1, 0, 1)
    said = Feedback.objects.get()
    assert (said.article, said.ticket, said.helped) == (published, ticket, True)
    # htmx gets the buttons as they are now: "this solved it" pressed, the counts.
    page = response.content.decode()
    assert f'id="kb-feedback-{published.pk}"' in page
    assert 'aria-pressed="true" data-feedback="yes"' in page
    assert 'data-helped="1" data-failed="0"' in page


def test_changing_ones_mind_moves_the_counters(engineer_client, published, ticket):
    engineer_client.post(url(published, ticket), {"helped": "yes"}, **HTMX)
    page = engineer_client.post(url(published, ticket), {"helped": "no"}, **HTMX).content.decode()
    assert counters(published) == (0, 1, 1)
    assert 'aria-pressed="true" data-feedback="no"' in page

    engineer_client.post(url(published, ticket), {"helped": "yes"}, **HTMX)
    assert counters(published) == (1, 0, 1)
    assert Feedback.objects.count() == 1


def test_uses_count_requests_not_people(
    engineer_client, dispatcher_client, dispatcher, engineer, published, ticket, line
):
    engineer_client.post(url(published, ticket), {"helped": "no"})
    dispatcher_client.post(url(published, ticket), {"helped": "yes"})
    assert counters(published) == (1, 1, 1)

    another = job(dispatcher, engineer, line)
    engineer_client.post(url(published, another), {"helped": "yes"})
    assert counters(published) == (2, 1, 2)
    assert Feedback.objects.count() == 3


def test_the_service_keeps_one_say_per_person_and_request(engineer, dispatcher, published, ticket):
    feedback.record(published, ticket, engineer, True)
    feedback.record(published, ticket, engineer, True)
    feedback.record(published, ticket, dispatcher, False)
    now = feedback.record(published, ticket, engineer, False)

    assert (now.helped, now.failed, now.uses) == (0, 2, 1)
    assert counters(published) == (0, 2, 1)


def test_without_javascript_a_message_and_back_where_one_came_from(
    engineer_client, published, ticket
):
    back = reverse("knowledge:ticket_suggestions", args=[ticket.pk]) + "?next=/m/"

    response = engineer_client.post(url(published, ticket), {"helped": "yes", "next": back})

    assert response.status_code == 302 and response["Location"] == back
    assert counters(published) == (1, 0, 1)
    page = engineer_client.get(back).content.decode()
    assert 'aria-pressed="true" data-feedback="yes"' in page


def test_a_next_elsewhere_is_not_followed(engineer_client, published, ticket):
    response = engineer_client.post(
        url(published, ticket), {"helped": "yes", "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("knowledge:ticket_suggestions", args=[ticket.pk])


def test_an_engineer_not_on_the_request_cannot_give_feedback(
    client_for, other_engineer, published, ticket
):
    response = client_for(other_engineer).post(url(published, ticket), {"helped": "yes"})

    assert response.status_code == 404
    assert counters(published) == (0, 0, 0) and not Feedback.objects.exists()


def test_nobody_signed_out_gives_feedback(client, published, ticket):
    response = client.post(url(published, ticket), {"helped": "yes"})

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Feedback.objects.exists()


def test_a_person_without_a_role_cannot_give_feedback(client_for, make_user, published, ticket):
    response = client_for(make_user(None, username="nobody")).post(
        url(published, ticket), {"helped": "yes"}
    )

    assert response.status_code == 404
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("state", [State.DRAFT, State.REVIEW, State.ARCHIVED])
def test_an_article_not_published_takes_no_feedback(
    engineer_client, service_manager, line, ticket, state
):
    unpublished = article(service_manager, line, title="压缩机不启动（未发布）", state=state)

    page = engineer_client.post(
        url(unpublished, ticket), {"helped": "yes"}, **HTMX
    ).content.decode()
    assert 'role="alert"' in page
    response = engineer_client.post(url(unpublished, ticket), {"helped": "yes"}, follow=True)
    assert len(list(response.context["messages"])) == 1

    assert counters(unpublished) == (0, 0, 0) and not Feedback.objects.exists()


def test_an_answer_that_is_neither_yes_nor_no_changes_nothing(engineer_client, published, ticket):
    for answer in ("", "maybe", "\x00", "1"):
        engineer_client.post(url(published, ticket), {"helped": answer}, **HTMX)

    assert counters(published) == (0, 0, 0) and not Feedback.objects.exists()


def test_feedback_is_only_posted(engineer_client, published, ticket):
    assert engineer_client.get(url(published, ticket), {"helped": "yes"}).status_code == 405
    assert not Feedback.objects.exists()


def test_the_suggestions_show_ones_own_earlier_say(engineer_client, published, ticket):
    engineer_client.post(url(published, ticket), {"helped": "no"})

    page = engineer_client.get(
        reverse("knowledge:ticket_suggestions", args=[ticket.pk]), **HTMX
    ).content.decode()

    assert 'aria-pressed="true" data-feedback="no"' in page
    assert 'aria-pressed="false" data-feedback="yes"' in page


# Two people at once ----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_says_at_once_count_one_use(make_user, service_manager, line):
    import threading

    from django.db import connections

    dispatcher = make_user(Role.DISPATCHER)
    engineer = make_user(Role.ENGINEER, username="engineer1")
    published = article(service_manager, line, title="压缩机不启动的排查")
    ticket = job(dispatcher, engineer, line)
    barrier = threading.Barrier(2)
    errors = []

    def say(user, helped):
        try:
            barrier.wait(timeout=10)
            feedback.record(Article.objects.get(pk=published.pk), ticket, user, helped)
        except Exception as error:  # a thread's failure is reported by the assertions below
            errors.append(error)
        finally:
            connections.close_all()  # each thread used its own database connection

    threads = [
        threading.Thread(target=say, args=(engineer, True)),
        threading.Thread(target=say, args=(dispatcher, False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not errors
    assert counters(published) == (1, 1, 1)
    assert Feedback.objects.count() == 2
