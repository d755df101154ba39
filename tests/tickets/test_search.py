"""The desk's search by phone in any spelling or a part of it, and by a contact's name
(tickets.filters.search_tickets, aftersales.lib.phones)."""

import pytest
from django.db import connection
from django.urls import reverse

from aftersales.lib.phones import MIN_PHONE_DIGITS, fill_phone_digits, phone_digits, phone_search
from tests.factories import ContactFactory, CustomerFactory, enter_ticket
from tests.queries import count_queries
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def found(client, text, **filters):
    response = client.get(reverse("tickets:list"), {"q": text, **filters})
    assert response.status_code == 200
    return {row.pk for row in response.context["object_list"]}


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 13800138000",
        "0086 138 0013 8000",
        "１３８００１３８０００",  # full-width digits, as a Chinese input method may type them
        "8000",  # the last four
        "80013800",  # the middle eight
    ],
)
def test_a_contact_phone_is_found_however_it_is_written(dispatcher, dispatcher_client, text):
    ticket = enter_ticket(dispatcher, contact_phone="+86 138-0013-8000")
    enter_ticket(dispatcher, contact_phone="13912345678")
    assert found(dispatcher_client, text) == {ticket.pk}


def test_a_landline_keeps_its_extension_as_typed_and_is_found_without_it(
    dispatcher, dispatcher_client
):
    customer = CustomerFactory()
    response = dispatcher_client.post(
        reverse("tickets:create"),
        {
            "customer": customer.pk,
            "service_type": "repair",
            "priority": "normal",
            "channel": "phone",
            "description": "制冰机不出冰",
            "contact_phone": "0571-8888 8888 转 123",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.contact_phone == "0571-8888 8888 转 123"
    assert ticket.contact_phone_digits == "057188888888"
    for text in ["0571 8888 8888", "(0571) 88888888", "+86 571 8888 8888", "88888888", "0571"]:
        assert found(dispatcher_client, text) == {ticket.pk}, text
    page = dispatcher_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "0571-8888 8888 转 123" in page


def test_three_digits_are_no_phone_search(dispatcher, dispatcher_client):
    # "800" is in every one of these numbers; listing them all would bury the desk.
    for phone in ["13812348000", "13980012345", "02168001234"]:
        enter_ticket(dispatcher, contact_phone=phone)
    assert MIN_PHONE_DIGITS == 4
    assert found(dispatcher_client, "800") == set()
    assert len(found(dispatcher_client, "8001")) == 2


def test_digits_inside_other_text_are_no_phone(dispatcher, dispatcher_client):
    ticket = enter_ticket(dispatcher, contact_phone="13824000000")
    assert found(dispatcher_client, "2400000") == {ticket.pk}
    # A serial number or a request number holds those digits too: it is not a phone.
    assert found(dispatcher_client, "WP2400000") == set()
    assert phone_search("x", ticket.number) is None


def test_the_customers_phone_finds_their_tickets(dispatcher, dispatcher_client):
    customer = CustomerFactory(phone="021-6488 1234")
    mine = enter_ticket(dispatcher, customer=customer, contact_phone="13900001111")
    enter_ticket(dispatcher, contact_phone="13900002222")
    assert customer.phone_digits == "02164881234"
    for text in ["021 6488 1234", "+86 21 6488 1234", "021-64881234", "64881234"]:
        assert found(dispatcher_client, text) == {mine.pk}, text


def test_a_contacts_mobile_finds_the_customers_tickets(dispatcher, dispatcher_client):
    customer = CustomerFactory()
    ContactFactory(customer=customer, name="李静", mobile="13655556666")
    # Entered with another number: the contact's mobile finds the customer's requests.
    ticket = enter_ticket(dispatcher, customer=customer, contact_phone="02150001234")
    enter_ticket(dispatcher)
    assert found(dispatcher_client, "136-5555-6666") == {ticket.pk}
    assert found(dispatcher_client, "5556666") == {ticket.pk}


def test_a_contacts_name_finds_the_customers_tickets(dispatcher, dispatcher_client):
    customer = CustomerFactory()
    ContactFactory(customer=customer, name="欧阳晓燕")
    tickets = {
        enter_ticket(dispatcher, customer=customer, contact_name=name).pk
        for name in ["欧阳晓燕", "前台", ""]
    }
    enter_ticket(dispatcher, contact_name="王磊")
    assert found(dispatcher_client, "欧阳晓燕") == tickets
    assert found(dispatcher_client, "晓燕") == tickets  # a part of a contact's name


def test_the_contact_name_entered_on_a_request_finds_it(dispatcher, dispatcher_client):
    # A caller who is nobody's contact: the name typed at entry finds the request.
    ticket = enter_ticket(dispatcher, contact_name="王先生")
    enter_ticket(dispatcher, contact_name="王女士")
    assert found(dispatcher_client, "王先生") == {ticket.pk}
    assert found(dispatcher_client, " 王先生 ") == {ticket.pk}


def test_a_phone_search_within_a_queue(dispatcher, dispatcher_client, engineer):
    from tickets import services

    waiting = enter_ticket(dispatcher, contact_phone="13800138000")
    assigned = services.perform(
        enter_ticket(dispatcher, contact_phone="13800138000"),
        "assign",
        dispatcher,
        engineer=engineer,
    )
    assert found(dispatcher_client, "8000", state="assigned") == {assigned.pk}
    assert found(dispatcher_client, "138 0013 8000", state="pending_assignment") == {waiting.pk}


@pytest.mark.parametrize("text", ["8000", "13800138000", "欧阳晓燕", "王先生"])
def test_a_search_makes_as_many_queries_for_many_matches_as_for_one(
    dispatcher, dispatcher_client, text
):
    customer = CustomerFactory()
    ContactFactory(customer=customer, name="欧阳晓燕")

    def add(n):
        for _ in range(n):
            enter_ticket(
                dispatcher,
                customer=CustomerFactory(),
                contact_name="王先生",
                contact_phone="13800138000",
            )
            enter_ticket(dispatcher, customer=customer)

    url = reverse("tickets:list")
    add(1)
    few = count_queries(dispatcher_client, url, {"q": text})
    add(30)
    assert count_queries(dispatcher_client, url, {"q": text}) == few
    assert count_queries(dispatcher_client, url, {"q": text, "page": 2}) == few


@pytest.mark.parametrize(
    "text", ["%00", "\x00", "'; drop table tickets_ticket; --", "x" * 5000, "9" * 5000, "+", "转"]
)
def test_garbage_is_no_error(dispatcher, dispatcher_client, text):
    enter_ticket(dispatcher, contact_phone="13800138000")
    response = dispatcher_client.get(reverse("tickets:list"), {"q": text})
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []


def test_the_digits_are_kept_on_every_write(dispatcher):
    ticket = enter_ticket(dispatcher, contact_phone="138 0013 8000")
    assert Ticket.objects.get(pk=ticket.pk).contact_phone_digits == "13800138000"
    ticket.contact_phone = "0571-8888 8888"
    ticket.save()
    assert Ticket.objects.get(pk=ticket.pk).contact_phone_digits == "057188888888"
    (customer,) = type(ticket.customer).objects.bulk_create(
        [
            CustomerFactory.build(
                code="BULK-1", phone="+86 21 6488 1234", region=ticket.customer.region
            )
        ]
    )
    assert type(customer).objects.get(code="BULK-1").phone_digits == "02164881234"


def test_the_migration_fills_the_digits_of_existing_tickets(dispatcher):
    a = enter_ticket(dispatcher, contact_phone="+86 138-0013-8000")
    b = enter_ticket(dispatcher, contact_phone="+86 138-0013-8000")
    c = enter_ticket(dispatcher, contact_phone="0571-8888 8888 转 123")
    Ticket.objects.update(contact_phone_digits="")
    with connection.schema_editor() as editor:
        fill_phone_digits(editor, "tickets_ticket", "contact_phone", "contact_phone_digits")
    digits = dict(Ticket.objects.values_list("pk", "contact_phone_digits"))
    assert digits == {a.pk: "13800138000", b.pk: "13800138000", c.pk: "057188888888"}


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("138 0013 8000", "13800138000"),
        ("+86 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(010) 6488-1234", "01064881234"),
        ("400-810-8888", "4008108888"),
        ("0571-8888 8888 #123", "057188888888"),
        ("8888 8888", "88888888"),  # no area code: the digits as typed
        ("+1 415 555 0100", "14155550100"),
        ("", ""),
    ],
)
def test_phone_digits(typed, digits):
    assert phone_digits(typed) == digits


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("13800138000", "ticket_phone_digits_created"),
        ("0013 8000", "ticket_phone_digits_trgm"),
        ("王先生", "ticket_contact_name_created"),
    ],
)
def test_each_way_of_matching_reads_its_index(dispatcher, text, index):
    from tickets.filters import _search_criteria

    enter_ticket(dispatcher, contact_phone="13800138000", contact_name="王先生")
    criterion = _search_criteria(text)[1]
    query = Ticket.objects.filter(criterion).order_by("-created_at", "-id").values("pk")[:25]
    with connection.cursor() as cursor:
        # A few rows are read faster from the table: forbid that, to see which index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert index in plan
