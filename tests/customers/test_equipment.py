import io
from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from customers.models import Equipment

from ..factories import (
    CustomerFactory,
    EquipmentFactory,
    ProductModelFactory,
    ServiceAgreementFactory,
)
from ..queries import count_queries

pytestmark = pytest.mark.django_db


def equipment_post(model, **overrides):
    data = {
        "product_model": model.pk,
        "serial_no": "WP500-2026-000001",
        "install_address": "上海市浦东新区张江路 100 号",
        "install_date": "2026-03-02",
        "purchase_date": "2026-03-01",
        "warranty_end": "",
        "status": "in_use",
    }
    data.update(overrides)
    return data


def test_warranty_end_is_computed_from_the_models_period(client, dispatcher):
    customer = CustomerFactory()
    model = ProductModelFactory(warranty_months=24)
    client.force_login(dispatcher)
    response = client.post(
        reverse("customers:equipment_create", args=[customer.pk]), equipment_post(model)
    )
    unit = Equipment.objects.get()
    assert response.status_code == 302
    assert unit.customer == customer
    assert unit.warranty_end == date(2028, 2, 29)


def test_warranty_end_given_by_the_dispatcher_is_kept(client, dispatcher):
    customer = CustomerFactory()
    model = ProductModelFactory(warranty_months=12)
    client.force_login(dispatcher)
    client.post(
        reverse("customers:equipment_create", args=[customer.pk]),
        equipment_post(model, warranty_end="2029-12-31"),
    )
    assert Equipment.objects.get().warranty_end == date(2029, 12, 31)


def test_serial_number_is_unique_per_product_model(client, dispatcher):
    unit = EquipmentFactory(serial_no="SN-1")
    client.force_login(dispatcher)
    url = reverse("customers:equipment_create", args=[unit.customer.pk])
    response = client.post(url, equipment_post(unit.product_model, serial_no="SN-1"))
    assert response.status_code == 200
    assert "已有序列号相同的设备" in response.content.decode()
    assert Equipment.objects.count() == 1
    other_model = ProductModelFactory()
    response = client.post(url, equipment_post(other_model, serial_no="SN-1"))
    assert response.status_code == 302
    assert Equipment.objects.count() == 2


def test_install_before_purchase_is_refused(client, dispatcher):
    customer = CustomerFactory()
    client.force_login(dispatcher)
    response = client.post(
        reverse("customers:equipment_create", args=[customer.pk]),
        equipment_post(
            ProductModelFactory(), install_date="2026-01-01", purchase_date="2026-02-01"
        ),
    )
    assert response.status_code == 200
    assert not Equipment.objects.exists()


def test_each_unit_gets_an_unguessable_qr_token():
    a, b = EquipmentFactory(), EquipmentFactory()
    assert a.qr_token != b.qr_token
    assert len(a.qr_token) >= 22  # 128 bits in URL-safe base64


def test_equipment_page_shows_qr_code_and_png_is_an_image(client, dispatcher):
    unit = EquipmentFactory()
    client.force_login(dispatcher)
    page = client.get(reverse("customers:equipment_detail", args=[unit.pk])).content.decode()
    assert "<svg" in page
    assert f"/q/{unit.qr_token}/" in page
    png = client.get(reverse("customers:equipment_qr", args=[unit.pk]))
    assert png["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.size[0] == image.size[1] > 100
    label = client.get(reverse("customers:equipment_label", args=[unit.pk]))
    assert label.status_code == 200
    assert "<svg" in label.content.decode()


def test_public_qr_page_shows_unit_facts_but_not_the_customer(client):
    unit = EquipmentFactory(customer=CustomerFactory(name="秘密客户有限公司", phone="13800000000"))
    response = client.get(reverse("qr_landing", args=[unit.qr_token]))
    page = response.content.decode()
    assert response.status_code == 200
    assert unit.serial_no in page
    assert unit.product_model.name in page
    assert "秘密客户" not in page
    assert "13800000000" not in page


def test_unknown_qr_token_is_not_found(client):
    assert client.get(reverse("qr_landing", args=["nope-not-a-token"])).status_code == 404


@override_settings(PUBLIC_RATE_LIMIT="3/m")
def test_public_qr_page_is_rate_limited(client):
    from django.core.cache import cache

    cache.clear()
    unit = EquipmentFactory()
    url = reverse("qr_landing", args=[unit.qr_token])
    codes = [client.get(url).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_equipment_list_filters_by_warranty_status(client, dispatcher):
    today = timezone.localdate()
    expired = EquipmentFactory(warranty_end=today - timedelta(days=1))
    expiring = EquipmentFactory(warranty_end=today + timedelta(days=10))
    fine = EquipmentFactory(warranty_end=today + timedelta(days=400))
    client.force_login(dispatcher)
    url = reverse("customers:equipment_list")
    for status, unit in [("expired", expired), ("expiring", expiring), ("in", fine)]:
        assert list(client.get(url, {"warranty": status}).context["object_list"]) == [unit]


def test_equipment_list_search_by_serial(client, dispatcher):
    wanted = EquipmentFactory(serial_no="AC-9000-XYZ")
    EquipmentFactory(serial_no="WP-1")
    client.force_login(dispatcher)
    response = client.get(reverse("customers:equipment_list"), {"q": "9000-x"})
    assert list(response.context["object_list"]) == [wanted]


def test_customer_360_page_shows_equipment_warranty_and_agreement_days_left(client, dispatcher):
    today = timezone.localdate()
    customer = CustomerFactory()
    unit = EquipmentFactory(customer=customer, warranty_end=today - timedelta(days=3))
    agreement = ServiceAgreementFactory(
        customer=customer,
        start_date=today - timedelta(days=100),
        end_date=today + timedelta(days=12),
    )
    agreement.equipment.add(unit)
    client.force_login(dispatcher)
    page = client.get(
        reverse("customers:detail", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    html = page.content.decode()
    assert unit.serial_no in html
    assert "已过保" in html
    assert agreement.number in html
    assert "12" in html
    for contact in customer.contacts.all():
        assert contact.mobile in html


@pytest.mark.parametrize(
    ("url_name", "factory"),
    [("customers:list", CustomerFactory), ("customers:equipment_list", EquipmentFactory)],
)
def test_list_pages_use_the_same_number_of_queries_for_10_and_200_rows(
    client, dispatcher, url_name, factory
):
    client.force_login(dispatcher)
    counts = []
    for total in (10, 200):
        factory.create_batch(total - (factory._meta.model.objects.count()))
        counts.append(count_queries(client, reverse(url_name), {"page": 1}))
    assert counts[0] == counts[1], counts
