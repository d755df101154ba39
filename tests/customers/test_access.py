"""customers.access: which customers, units and agreements a person sees (import jobs: through
their pages, in test_import_jobs.py)."""

import pytest
from django.http import Http404

from customers import access
from customers.models import Customer

from ..factories import CustomerFactory, EquipmentFactory, ServiceAgreementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return EquipmentFactory()


@pytest.mark.parametrize(
    ("lookup", "obj"),
    [
        (access.visible_customer, lambda unit: unit.customer),
        (access.visible_equipment, lambda unit: unit),
        (
            access.visible_agreement,
            lambda unit: ServiceAgreementFactory(customer=unit.customer),
        ),
    ],
)
def test_master_data_is_seen_by_those_who_may_view_it(dispatcher, engineer, unit, lookup, obj):
    wanted = obj(unit)
    assert lookup(dispatcher, wanted.pk) == wanted
    with pytest.raises(Http404):
        lookup(engineer, wanted.pk)  # engineers see products only
    with pytest.raises(Http404):
        lookup(dispatcher, wanted.pk + 1000)


def test_a_customer_lookup_can_add_joins(dispatcher):
    customer = CustomerFactory()
    found = access.visible_customer(
        dispatcher, customer.pk, Customer.objects.select_related("region")
    )
    assert found == customer
