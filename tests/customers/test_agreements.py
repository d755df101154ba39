from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from customers import services
from customers.models import ServiceAgreement
from customers.signals import agreement_terms_changed

from ..factories import CustomerFactory, EquipmentFactory, ServiceAgreementFactory

pytestmark = pytest.mark.django_db


def agreement_post(**overrides):
    data = {
        "number": "SA-2026-001",
        "name": "净水设备全保合同",
        "type": "maintenance",
        "charging_method": "annual_fee",
        "annual_fee": "12000",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "service_items": "季度保养\n滤芯更换",
        "terms": "",
        "targets-TOTAL_FORMS": "4",
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "4",
        "targets-MAX_NUM_FORMS": "4",
    }
    for i, (priority, minutes) in enumerate(
        [
            ("urgent", (30, 240, 480)),
            ("high", (60, 480, 960)),
            ("normal", (120, 1440, 2880)),
            ("low", (240, 2880, 5760)),
        ]
    ):
        data[f"targets-{i}-priority"] = priority
        data[f"targets-{i}-response_minutes"] = minutes[0]
        data[f"targets-{i}-arrival_minutes"] = minutes[1]
        data[f"targets-{i}-resolution_minutes"] = minutes[2]
    data.update(overrides)
    return data


def test_dispatcher_creates_agreement_with_targets_per_priority(client, dispatcher):
    customer = CustomerFactory()
    unit = EquipmentFactory(customer=customer)
    client.force_login(dispatcher)
    response = client.post(
        reverse("customers:agreement_create", args=[customer.pk]),
        agreement_post(equipment=[unit.pk]),
    )
    agreement = ServiceAgreement.objects.get()
    assert response.status_code == 302
    assert agreement.customer == customer
    assert list(agreement.equipment.all()) == [unit]
    assert agreement.target_for("urgent").arrival_minutes == 240
    assert agreement.targets.count() == 4


def test_agreement_that_ends_before_it_starts_is_refused(client, dispatcher):
    customer = CustomerFactory()
    client.force_login(dispatcher)
    response = client.post(
        reverse("customers:agreement_create", args=[customer.pk]),
        agreement_post(start_date="2026-06-01", end_date="2026-05-31"),
    )
    assert response.status_code == 200
    assert "协议的结束日期不能早于开始日期" in response.content.decode()
    assert not ServiceAgreement.objects.exists()


def test_database_also_refuses_an_agreement_ending_before_start():
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceAgreementFactory(
            start_date=date(2026, 6, 1), end_date=date(2026, 5, 1), targets=False
        )


def test_annual_fee_agreement_needs_the_fee(client, dispatcher):
    customer = CustomerFactory()
    client.force_login(dispatcher)
    response = client.post(
        reverse("customers:agreement_create", args=[customer.pk]), agreement_post(annual_fee="")
    )
    assert response.status_code == 200
    assert not ServiceAgreement.objects.exists()


def test_targets_out_of_order_are_refused_and_nothing_saved(client, dispatcher):
    customer = CustomerFactory()
    client.force_login(dispatcher)
    response = client.post(
        reverse("customers:agreement_create", args=[customer.pk]),
        agreement_post(**{"targets-0-arrival_minutes": "10"}),
    )
    assert response.status_code == 200
    assert not ServiceAgreement.objects.exists()


def test_a_missing_priority_is_refused(client, dispatcher):
    customer = CustomerFactory()
    client.force_login(dispatcher)
    response = client.post(
        reverse("customers:agreement_create", args=[customer.pk]),
        agreement_post(**{"targets-3-priority": "high"}),
    )
    assert response.status_code == 200
    assert not ServiceAgreement.objects.exists()


def test_only_one_default_policy_can_exist():
    ServiceAgreementFactory(customer=None, is_default=True, number="DEFAULT")
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceAgreementFactory(customer=None, is_default=True, number="DEFAULT-2")


def test_agreement_list_filters_by_charging_method(client, manager):
    annual = ServiceAgreementFactory(charging_method="annual_fee", annual_fee=100)
    ServiceAgreementFactory(charging_method="per_visit")
    client.force_login(manager)
    response = client.get(reverse("customers:agreement_list"), {"charging_method": "annual_fee"})
    assert list(response.context["object_list"]) == [annual]
    detail = client.get(reverse("customers:agreement_detail", args=[annual.pk]))
    assert detail.status_code == 200
    # Management reads agreements but does not edit them.
    assert client.get(reverse("customers:agreement_edit", args=[annual.pk])).status_code == 403


# save_agreement takes cleaned values: which edits change the terms the SLA clocks depend on.


def _values(agreement):
    data = {
        name: getattr(agreement, name)
        for name in ["number", "name", "type", "charging_method", "annual_fee", "start_date"]
        + ["end_date", "calendar", "service_items", "terms"]
    }
    data["equipment"] = set(agreement.equipment.all())
    targets = [
        {
            "priority": t.priority,
            "response_minutes": t.response_minutes,
            "arrival_minutes": t.arrival_minutes,
            "resolution_minutes": t.resolution_minutes,
        }
        for t in agreement.targets.all()
    ]
    return data, targets


@pytest.fixture
def terms_changes():
    sent = []

    def receiver(sender, agreement_id, actor_id, **kwargs):
        sent.append((agreement_id, actor_id))

    agreement_terms_changed.connect(receiver)
    yield sent
    agreement_terms_changed.disconnect(receiver)


@pytest.mark.parametrize(
    ("change", "changed"),
    [
        ("nothing", False),
        ("name", False),
        ("end_date", True),
        ("equipment", True),
        ("target", True),
    ],
)
def test_save_agreement_reports_changed_terms(dispatcher, terms_changes, change, changed):
    customer = CustomerFactory()
    agreement = ServiceAgreementFactory(
        customer=customer, equipment=[EquipmentFactory(customer=customer)]
    )
    data, targets = _values(agreement)
    if change == "name":
        data["name"] = "改名"
    if change == "end_date":
        data["end_date"] = date(2099, 12, 31)
    if change == "equipment":
        data["equipment"] = data["equipment"] | {EquipmentFactory(customer=customer)}
    if change == "target":
        targets[0]["arrival_minutes"] += 60
    services.save_agreement(agreement, data, targets, dispatcher)
    assert terms_changes == ([(agreement.pk, dispatcher.pk)] if changed else [])
    agreement.refresh_from_db()
    assert _values(agreement) == (data, targets)
