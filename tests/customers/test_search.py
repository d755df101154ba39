"""The customer search (CustomerQuerySet.search / matching): a phone in any spelling or a part of
it, and a contact's name, on the customer list and the entry page's customer picker."""

import pytest
from django.db import connection
from django.urls import reverse

from customers.models import Customer

from ..factories import ContactFactory, CustomerFactory, RegionFactory
from ..queries import count_queries
from .test_import_export import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    shop = CustomerFactory(name="杭州湖滨餐饮有限公司", code="C-0571", phone="0571-8700 1234")
    ContactFactory(customer=shop, name="欧阳晓燕", mobile="13800138000")
    return shop


def codes(client, text):
    response = client.get(reverse("customers:list"), {"q": text})
    assert response.status_code == 200
    return {c.code for c in response.context["object_list"]}


@pytest.mark.parametrize(
    "text",
    [
        # The customer's phone
        "0571-8700 1234",
        "(0571) 87001234",
        "+86 571 8700 1234",
        "87001234",
        "1234",
        # The contact's mobile
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 13800138000",
        "8000",
        "80013800",
        # The contact's name, or a part of it
        "欧阳晓燕",
        "晓燕",
    ],
)
def test_a_customer_is_found_by_phone_in_any_spelling_and_by_a_contacts_name(
    client, dispatcher, shop, text
):
    ContactFactory(customer=CustomerFactory(code="C-OTHER"), name="王磊", mobile="13966667777")
    client.force_login(dispatcher)
    assert codes(client, text) == {"C-0571"}


def test_the_entry_page_finds_the_caller_by_a_part_of_their_number(client, dispatcher, shop):
    client.force_login(dispatcher)
    page = client.get(reverse("tickets:create"), {"q": "0013 8000"})
    assert [c.code for c in page.context["found"]] == ["C-0571"]


def test_three_digits_are_no_phone_search(client, dispatcher, shop):
    client.force_login(dispatcher)
    assert codes(client, "138") == set()  # in a good part of all mobile numbers
    assert codes(client, "0013") == {"C-0571"}


def test_a_customer_with_several_matching_contacts_is_listed_once(client, dispatcher, shop):
    ContactFactory(customer=shop, name="欧阳娜娜", mobile="13800138001")
    client.force_login(dispatcher)
    response = client.get(reverse("customers:list"), {"q": "欧阳"})
    assert [c.code for c in response.context["object_list"]] == ["C-0571"]
    assert response.context["paginator"].count == 1


def test_the_search_makes_as_many_queries_for_many_customers_as_for_one(client, dispatcher):
    def add(n):
        for _ in range(n):
            customer = CustomerFactory()
            ContactFactory(customer=customer, name="欧阳晓燕", mobile="13800138000")
            ContactFactory(customer=customer, name="欧阳娜娜")

    client.force_login(dispatcher)
    url = reverse("customers:list")
    add(1)
    few = {text: count_queries(client, url, {"q": text}) for text in ("欧阳", "8000")}
    add(30)
    for text, count in few.items():
        assert count_queries(client, url, {"q": text}) == count, text


@pytest.mark.parametrize(
    "text", ["%00", "\x00", "'; drop table customers_customer; --", "x" * 5000]
)
def test_garbage_is_no_error(client, dispatcher, shop, text):
    client.force_login(dispatcher)
    assert codes(client, text) == set()


def test_an_import_writes_the_phone_digits(client, dispatcher, shop):
    RegionFactory(name="杭州")
    client.force_login(dispatcher)
    csv = (
        "客户编码,名称,类型,等级,地区,电话\n"
        "C-0571,杭州湖滨餐饮有限公司,公司,普通,杭州,021-6488 1234\n"
        "C-9002,张先生,个人,普通,杭州,13700001234\n"
    )
    assert upload(client, "customers", "customers.csv", csv.encode()).context["report"].ok
    client.post(reverse("customers:transfer_confirm"))
    digits = dict(Customer.objects.values_list("code", "phone_digits"))
    assert digits == {"C-0571": "02164881234", "C-9002": "13700001234"}
    assert codes(client, "6488 1234") == {"C-0571"}


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("text", "indexes"),
    [
        ("0013 8000", {"customer_phone_digits_trgm", "contact_mobile_trgm"}),
        ("欧阳晓燕", {"customer_name_upper_trgm", "contact_name_upper_trgm"}),
    ],
)
def test_each_half_of_the_search_reads_its_index(shop, text, indexes):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Customer.objects.matching(text).explain()
    assert {name for name in indexes if name in plan} == indexes
