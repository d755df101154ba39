import pytest
from django.urls import reverse

from customers.models import Contact, Customer

from ..factories import ContactFactory, CustomerFactory, RegionFactory, TagFactory

pytestmark = pytest.mark.django_db


def customer_post(region, **overrides):
    data = {
        "code": "",
        "name": "上海明辉食品有限公司",
        "kind": "company",
        "level": "vip",
        "region": region.pk,
        "phone": "021-64881234",
        "address": "上海市闵行区莘庄工业区申富路 88 号",
        "notes": "",
        "contacts-TOTAL_FORMS": "2",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-name": "李强",
        "contacts-0-title": "设备科长",
        "contacts-0-mobile": "+86 138-1234-5678",
        "contacts-0-email": "liqiang@example.com",
        "contacts-0-is_primary": "on",
        "contacts-1-name": "",
        "contacts-1-mobile": "",
    }
    data.update(overrides)
    return data


def test_dispatcher_creates_customer_with_contact_and_gets_a_code(client, dispatcher):
    region = RegionFactory()
    client.force_login(dispatcher)
    response = client.post(reverse("customers:create"), customer_post(region))
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert customer.code.startswith("C")
    contact = customer.contacts.get()
    assert (contact.name, contact.mobile, contact.is_primary) == ("李强", "13812345678", True)


def test_invalid_mobile_is_refused_in_chinese_and_nothing_is_saved(client, dispatcher):
    client.force_login(dispatcher)
    data = customer_post(RegionFactory(), **{"contacts-0-mobile": "1234"})
    response = client.post(reverse("customers:create"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "请输入11位中国大陆手机号" in response.content.decode()
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()


def test_two_primary_contacts_are_refused(client, dispatcher):
    client.force_login(dispatcher)
    data = customer_post(
        RegionFactory(),
        **{
            "contacts-1-name": "王芳",
            "contacts-1-mobile": "13900001111",
            "contacts-1-is_primary": "on",
        },
    )
    response = client.post(reverse("customers:create"), data)
    assert response.status_code == 200
    assert not Customer.objects.exists()


def test_primary_contact_can_move_to_another_contact(client, dispatcher):
    customer = CustomerFactory()
    first = ContactFactory(customer=customer, is_primary=True)
    second = ContactFactory(customer=customer, is_primary=False)
    client.force_login(dispatcher)
    data = customer_post(
        customer.region,
        code=customer.code,
        name=customer.name,
        **{
            "contacts-TOTAL_FORMS": "2",
            "contacts-INITIAL_FORMS": "2",
            "contacts-0-id": first.pk,
            "contacts-0-name": first.name,
            "contacts-0-mobile": first.mobile,
            "contacts-0-is_primary": "",
            "contacts-1-id": second.pk,
            "contacts-1-name": second.name,
            "contacts-1-mobile": second.mobile,
            "contacts-1-is_primary": "on",
        },
    )
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("明辉", {"C-0042"}),
        ("c-0042", {"C-0042"}),
        ("64881234", {"C-0042"}),
        ("13912340000", {"C-0043"}),
        ("王芳", {"C-0043"}),
    ],
)
def test_customer_list_search(client, dispatcher, query, expected):
    CustomerFactory(name="上海明辉食品有限公司", code="C-0042", phone="021-64881234")
    other = CustomerFactory(name="华润置地（深圳）物业", code="C-0043")
    ContactFactory(customer=other, name="王芳", mobile="13912340000")
    client.force_login(dispatcher)
    response = client.get(reverse("customers:list"), {"q": query})
    codes = {c.code for c in response.context["object_list"]}
    assert codes == expected


def test_customer_list_filters_by_level_region_and_tag(client, dispatcher):
    east, south = RegionFactory(name="上海"), RegionFactory(name="广州")
    hospital = TagFactory(name="医院")
    vip = CustomerFactory(level="vip", region=east)
    vip.tags.add(hospital)
    CustomerFactory(level="regular", region=east)
    CustomerFactory(level="vip", region=south)
    client.force_login(dispatcher)
    url = reverse("customers:list")
    assert len(client.get(url, {"level": "vip"}).context["object_list"]) == 2
    assert len(client.get(url, {"region": east.pk}).context["object_list"]) == 2
    only = client.get(url, {"level": "vip", "region": east.pk, "tag": hospital.pk})
    assert list(only.context["object_list"]) == [vip]


def test_customer_list_is_paginated(client, dispatcher):
    CustomerFactory.create_batch(30)
    client.force_login(dispatcher)
    page2 = client.get(reverse("customers:list"), {"page": 2})
    assert page2.context["paginator"].count == 30
    assert len(page2.context["object_list"]) == 5


@pytest.mark.parametrize("role", ["engineer", "parts_clerk"])
def test_roles_without_customer_access_are_refused(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("customers:list")).status_code == 403
    customer = CustomerFactory()
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 403


def test_revisit_agent_may_read_but_not_create(client, revisit_agent):
    client.force_login(revisit_agent)
    customer = CustomerFactory()
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert client.get(reverse("customers:create")).status_code == 403
    assert (
        client.post(reverse("customers:create"), customer_post(RegionFactory())).status_code == 403
    )
    assert Customer.objects.count() == 1


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_contact_marked_for_deletion_is_removed(client, dispatcher):
    customer = CustomerFactory()
    kept = ContactFactory(customer=customer, is_primary=True)
    gone = ContactFactory(customer=customer, is_primary=False)
    client.force_login(dispatcher)
    data = customer_post(
        customer.region,
        code=customer.code,
        name=customer.name,
        **{
            "contacts-TOTAL_FORMS": "2",
            "contacts-INITIAL_FORMS": "2",
            "contacts-0-id": kept.pk,
            "contacts-0-name": kept.name,
            "contacts-0-mobile": kept.mobile,
            "contacts-0-is_primary": "on",
            "contacts-1-id": gone.pk,
            "contacts-1-name": gone.name,
            "contacts-1-mobile": gone.mobile,
            "contacts-1-DELETE": "on",
        },
    )
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302
    assert list(customer.contacts.all()) == [kept]
