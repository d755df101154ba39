"""Query budgets (STYLE 24): the agreement list and the product list make the same number of
queries with a few rows as with many (agreements with targets and units, lines with models)."""

import pytest
from django.urls import reverse

from ..factories import (
    EquipmentFactory,
    ProductLineFactory,
    ProductModelFactory,
    ServiceAgreementFactory,
)
from ..queries import count_queries

pytestmark = pytest.mark.django_db


def agreements(n):
    for _i in range(n):
        units = EquipmentFactory.create_batch(2)
        ServiceAgreementFactory(customer=units[0].customer, equipment=units)


def test_agreement_list_budget(client, dispatcher):
    client.force_login(dispatcher)
    url = reverse("customers:agreement_list")
    agreements(2)
    few = count_queries(client, url)
    agreements(28)
    assert client.get(url).context["paginator"].count == 30
    assert count_queries(client, url) == few
    assert count_queries(client, url, {"q": "SA-T", "page": 2}) <= few + 1


def products(lines, models):
    for _i in range(lines):
        line = ProductLineFactory()
        for model in ProductModelFactory.create_batch(models, line=line):
            EquipmentFactory.create_batch(2, product_model=model)


def test_product_list_budget(client, engineer):
    client.force_login(engineer)
    url = reverse("customers:product_list")
    products(1, 2)
    few = count_queries(client, url)
    products(5, 6)
    assert client.get(url).content.decode().count('class="num"') >= 2 * 32
    assert count_queries(client, url) == few
