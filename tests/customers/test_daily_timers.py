"""The customers app's daily timers: maintenance plans fall due once per planned date (the
tickets app turns each into a service request), renewal and warranty reminders go out once."""

from datetime import date

import pytest

from aftersales.models import BusinessCalendar
from aftersales.roles import Role
from customers import timers
from customers.models import MaintenancePlan
from tests.factories import CustomerFactory, EquipmentFactory, ServiceAgreementFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def statutory():
    return BusinessCalendar.objects.get(code="cn-statutory")


@pytest.fixture
def customer():
    return CustomerFactory()


def test_maintenance_plan_creates_each_ticket_once(customer):
    unit = EquipmentFactory(customer=customer)
    plan = MaintenancePlan.objects.create(
        name="季度保养",
        kind=MaintenancePlan.Kind.MAINTENANCE,
        equipment=unit,
        interval_months=3,
        next_date=date(2026, 11, 30),
        lead_days=7,
    )
    assert timers.daily(date(2026, 11, 22))["plan_work"] == 0  # not yet
    assert timers.daily(date(2026, 11, 23))["plan_work"] == 1
    assert timers.daily(date(2026, 11, 23))["plan_work"] == 0  # twice changes nothing
    ticket = Ticket.objects.get(plan=plan)
    assert (ticket.plan_date, ticket.requested_date, ticket.service_type) == (
        date(2026, 11, 30),
        date(2026, 11, 30),
        "maintenance",
    )
    assert ticket.log.get().actor is None
    plan.refresh_from_db()
    assert plan.next_date == date(2027, 2, 28)


def test_renewal_and_warranty_reminders_once(statutory, make_user, caplog):
    from tests.factories import ContactFactory

    dispatcher = make_user(Role.DISPATCHER)
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True, mobile="13900001111")
    agreement = ServiceAgreementFactory(
        customer=customer, start_date=date(2025, 12, 1), end_date=date(2026, 12, 10)
    )
    EquipmentFactory(customer=customer, warranty_end=date(2026, 12, 5))
    with caplog.at_level("INFO", logger="aftersales.sms"):
        first = timers.daily(date(2026, 11, 23))
        second = timers.daily(date(2026, 11, 24))
    assert first["renewals"] >= 1 and second["renewals"] >= 1
    assert dispatcher.notifications.filter(url=agreement.get_absolute_url()).count() == 1
    from aftersales.models import Delivery

    assert Delivery.objects.filter(channel="sms", target="13900001111").count() == 1
