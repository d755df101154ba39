"""The customer's SMS (issue 11): the engineer and the appointment at assignment, the engineer on
site at check-in, the work done at processing; in Chinese whoever acted, each with the tracking
link, sent after the commit and once per event."""

from datetime import date

import pytest
from django.db import transaction
from django.urls import reverse

from aftersales import tasks
from aftersales.models import Delivery
from aftersales.roles import Role
from tests.factories import enter_ticket, ticket_in_state
from tickets import services
from tickets.models import State, TicketTransition

SITE = "https://service.example.com"
SENT = []  # (mobile, text) as the gateway received them


class Gateway:
    """An SMS backend (SMS_BACKEND) that keeps what it is given."""

    def send(self, mobile, text):
        SENT.append((mobile, text))


@pytest.fixture
def sent(settings, monkeypatch):
    """What the SMS gateway received: queued deliveries run at once through the real task."""
    settings.SMS_BACKEND = f"{__name__}.Gateway"
    settings.SITE_URL = SITE
    SENT.clear()
    monkeypatch.setattr(tasks.deliver, "delay", lambda pk: tasks.deliver.apply(args=[pk]))
    return SENT


@pytest.fixture
def li(make_user):
    return make_user(Role.ENGINEER, username="li", display_name="李明")


@pytest.fixture
def english_client(client_for):
    """client_for(user), reading the pages in English: the customer's SMS stay Chinese."""

    def make(user):
        client = client_for(user)
        client.cookies["django_language"] = "en"
        return client

    return make


def link(ticket):
    return SITE + reverse("ticket_public", args=[ticket.public_token])


def run(callbacks):
    for callback in callbacks:
        callback()


def test_assignment_texts_the_engineer_and_the_appointment_after_the_commit(
    dispatcher, li, english_client, sent, django_capture_on_commit_callbacks
):
    ticket = enter_ticket(
        dispatcher, contact_phone="139 1234 5678", requested_date=date(2026, 12, 10)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = english_client(dispatcher).post(
            reverse("tickets:act", args=[ticket.pk, "assign"]),
            {"version": ticket.version, "engineer": li.pk},
        )
        assert response.status_code == 302
        assert sent == []  # nothing before the commit
    run(callbacks)

    assert sent == [
        (
            "13912345678",
            f"【售后服务】您的服务请求 {ticket.number} 已安排工程师 李明 上门，"
            f"预约时间：2026-12-10。查看进度：{link(ticket)}",
        )
    ]
    row = TicketTransition.objects.get(ticket=ticket, action="assign")
    assert Delivery.objects.get(channel=Delivery.Channel.SMS).key == f"customer:{row.pk}"


def test_check_in_on_the_phone_texts_that_the_engineer_is_on_site(
    dispatcher, li, english_client, sent, django_capture_on_commit_callbacks
):
    ticket = ticket_in_state(
        State.ASSIGNED, dispatcher=dispatcher, engineer=li, contact_phone="13912345678"
    )
    sent.clear()  # the assignment's
    with django_capture_on_commit_callbacks(execute=True):
        response = english_client(li).post(
            reverse("mobile:act", args=[ticket.pk, "check_in"]), {"version": ticket.version}
        )
    assert response.status_code == 302

    assert sent == [
        (
            "13912345678",
            f"【售后服务】工程师 李明 已到达现场，为您处理服务请求 {ticket.number}。"
            f"查看进度：{link(ticket)}",
        )
    ]


def test_the_work_reported_done_texts_the_way_to_the_report_and_the_rating(
    dispatcher, li, english_client, sent, django_capture_on_commit_callbacks
):
    ticket = ticket_in_state(
        State.IN_SERVICE, dispatcher=dispatcher, engineer=li, contact_phone="13912345678"
    )
    sent.clear()
    data = {
        "version": ticket.version,
        "result": "resolved",
        "work_done": "更换温控器，试机正常",
        "labour_hours": "1",
        "labour_fee": "100",
        "travel_fee": "0",
        "other_fee": "0",
        "charge": "charged",
        "parts-TOTAL_FORMS": "0",
        "parts-INITIAL_FORMS": "0",
        "parts-MIN_NUM_FORMS": "0",
        "parts-MAX_NUM_FORMS": "30",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = english_client(li).post(reverse("mobile:visit", args=[ticket.pk]), data)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == State.PROCESSED

    assert sent == [
        (
            "13912345678",
            f"【售后服务】您的服务请求 {ticket.number} 已处理完成，"
            f"请点击查看服务报告并为我们的服务评分：{link(ticket)}",
        )
    ]


def test_a_rolled_back_assignment_texts_nothing(
    dispatcher, li, sent, django_capture_on_commit_callbacks
):
    ticket = enter_ticket(dispatcher, contact_phone="13912345678")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.perform(ticket, "assign", dispatcher, engineer=li)
        raise RuntimeError("the caller's transaction fails after the assignment")
    assert sent == []
    assert not Delivery.objects.exists()


def test_the_same_event_is_never_texted_twice(
    dispatcher, li, sent, django_capture_on_commit_callbacks
):
    ticket = enter_ticket(dispatcher, contact_phone="13912345678")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.perform(ticket, "assign", dispatcher, engineer=li)
    row = ticket.log.get(action="assign")
    # A task retried after its commit (or any second call for the same row) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        services.text_customer(ticket, row)
    assert len(sent) == 1
    assert Delivery.objects.filter(channel=Delivery.Channel.SMS).count() == 1


def test_a_reassignment_texts_the_new_engineer(
    dispatcher, li, make_user, sent, django_capture_on_commit_callbacks
):
    wang = make_user(Role.ENGINEER, username="wang", display_name="王强")
    ticket = enter_ticket(dispatcher, contact_phone="13912345678")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.perform(ticket, "assign", dispatcher, engineer=li)
    with django_capture_on_commit_callbacks(execute=True):
        services.perform(ticket, "assign", dispatcher, engineer=wang)

    assert len(sent) == 2
    assert "工程师 李明 上门" in sent[0][1] and "工程师 王强 上门" in sent[1][1]
    assert "预约时间：待与您确认" in sent[1][1]  # no requested date


def test_an_unlocked_request_texts_its_new_assignment(
    dispatcher, li, service_manager, sent, django_capture_on_commit_callbacks
):
    ticket = ticket_in_state(
        State.LOCKED, dispatcher=dispatcher, engineer=li, contact_phone="13912345678"
    )
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.perform(ticket, "unlock", service_manager, engineer=li)
    [(mobile, text)] = sent
    assert mobile == "13912345678" and "已安排工程师 李明 上门" in text and link(ticket) in text


@pytest.mark.parametrize("phone", ["", " ", "0755-86001234-8021", "12345"])
def test_a_request_without_a_mobile_number_texts_nobody(
    dispatcher, li, sent, django_capture_on_commit_callbacks, phone
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=li, contact_phone=phone)
    assert sent == []
    assert not Delivery.objects.exists()


def test_a_mobile_number_written_any_way_is_texted(
    dispatcher, li, sent, django_capture_on_commit_callbacks
):
    ticket = enter_ticket(dispatcher, contact_phone="+86 139-1234-5678")
    with django_capture_on_commit_callbacks(execute=True):
        services.perform(ticket, "assign", dispatcher, engineer=li)
    assert [mobile for mobile, _text in sent] == ["13912345678"]


def test_other_actions_text_nobody(dispatcher, li, sent, django_capture_on_commit_callbacks):
    ticket = ticket_in_state(
        State.ASSIGNED, dispatcher=dispatcher, engineer=li, contact_phone="13912345678"
    )
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.perform(ticket, "accept", li)
        ticket = services.depart(ticket, li, version=ticket.version)
        services.perform(ticket, "decline", li, reason="车坏了")
    assert sent == []
