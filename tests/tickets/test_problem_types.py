"""Problem types per product line: the entry form offers a unit only its line's problem types
(and the general ones), refuses one that does not fit, and follows the unit's choice in the
page (htmx)."""

import re

import pytest
from django.urls import reverse

from tests.factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    ProblemTypeFactory,
    ProductLineFactory,
    ProductModelFactory,
)
from tickets.models import ProblemType, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    return {
        "water": ProductLineFactory(code="WP", name="净水器"),
        "elevator": ProductLineFactory(code="EL", name="电梯"),
        "industry": ProductLineFactory(code="IND", name="工业设备"),
    }


@pytest.fixture
def problems(lines):
    return {
        "trapped": ProblemTypeFactory(name="电梯困人", product_lines=[lines["elevator"]]),
        "filter": ProblemTypeFactory(name="滤芯到期", product_lines=[lines["water"]]),
        # Several lines, and every line.
        "alarm": ProblemTypeFactory(
            name="控制系统报警", product_lines=[lines["elevator"], lines["industry"]]
        ),
        "nostart": ProblemTypeFactory(name="无法启动"),
    }


@pytest.fixture
def customer():
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True)
    return customer


def unit_of(customer, line):
    return EquipmentFactory(customer=customer, product_model=ProductModelFactory(line=line))


def offered(html):
    """The names of the problem types the form's select box offers."""
    select = re.search(r'<select name="problem_type".*?</select>', html, re.S).group(0)
    return set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select))


def entry_url(customer, **params):
    query = "&".join(f"{k}={v}" for k, v in {"customer": customer.pk, **params}.items())
    return f"{reverse('tickets:create')}?{query}"


def post_entry(client, customer, unit, problem):
    return client.post(
        entry_url(customer),
        {
            "customer": customer.pk,
            "contact": customer.contacts.get().pk,
            "equipment": unit.pk if unit else "",
            "service_type": "repair",
            "problem_type": problem.pk,
            "priority": "normal",
            "channel": "phone",
            "description": "设备故障",
        },
    )


def test_a_water_purifier_is_not_offered_elevator_problems(
    dispatcher_client, customer, lines, problems
):
    unit = unit_of(customer, lines["water"])
    html = dispatcher_client.get(entry_url(customer, equipment=unit.pk)).content.decode()
    assert offered(html) == {"滤芯到期", "无法启动"}


def test_a_problem_type_of_several_lines_is_offered_for_each(
    dispatcher_client, customer, lines, problems
):
    for line in (lines["elevator"], lines["industry"]):
        unit = unit_of(customer, line)
        html = dispatcher_client.get(entry_url(customer, equipment=unit.pk)).content.decode()
        assert "控制系统报警" in offered(html)
        assert "无法启动" in offered(html)
        assert "滤芯到期" not in offered(html)


def test_without_a_unit_every_active_problem_type_is_offered(dispatcher_client, customer, problems):
    ProblemTypeFactory(name="停用的类型", active=False)
    html = dispatcher_client.get(entry_url(customer)).content.decode()
    assert offered(html) == {"电梯困人", "滤芯到期", "控制系统报警", "无法启动"}


def test_a_problem_type_that_does_not_fit_the_unit_is_refused(
    dispatcher_client, customer, lines, problems
):
    unit = unit_of(customer, lines["water"])
    response = post_entry(dispatcher_client, customer, unit, problems["trapped"])
    assert response.status_code == 200
    assert "“电梯困人”不是净水器设备的问题类型" in response.content.decode()
    assert not Ticket.objects.exists()
    problems["trapped"].refresh_from_db()
    assert problems["trapped"].ticket_count == 0


@pytest.mark.parametrize("problem", ["filter", "nostart"])
def test_a_problem_type_of_the_units_line_or_a_general_one_is_taken(
    dispatcher_client, customer, lines, problems, problem
):
    unit = unit_of(customer, lines["water"])
    response = post_entry(dispatcher_client, customer, unit, problems[problem])
    assert response.status_code == 302
    assert Ticket.objects.get().problem_type == problems[problem]


def test_without_a_unit_any_problem_type_is_taken(dispatcher_client, customer, problems):
    response = post_entry(dispatcher_client, customer, None, problems["trapped"])
    assert response.status_code == 302
    assert Ticket.objects.get().problem_type == problems["trapped"]


def test_choosing_the_unit_refreshes_the_problem_types_in_the_page(
    dispatcher_client, customer, lines, problems
):
    water, elevator = unit_of(customer, lines["water"]), unit_of(customer, lines["elevator"])
    page = dispatcher_client.get(entry_url(customer)).content.decode()
    # The unit's box asks for the problem types' box when it changes, with what the form holds.
    wrapper = re.search(r"<div[^>]*hx-get=[^>]*>", page).group(0)
    assert 'hx-target="#problem-type-field"' in wrapper
    assert "[name=equipment]" in wrapper and "[name=customer]" in wrapper
    assert 'id="problem-type-field"' in page

    fragment = dispatcher_client.get(
        entry_url(customer, equipment=elevator.pk, problem_type=problems["nostart"].pk),
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "<html" not in fragment and 'id="problem-type-field"' in fragment
    assert offered(fragment) == {"电梯困人", "控制系统报警", "无法启动"}
    assert f'<option value="{problems["nostart"].pk}" selected>' in fragment  # kept: it fits

    fragment = dispatcher_client.get(
        entry_url(customer, equipment=water.pk, problem_type=problems["trapped"].pk),
        headers={"HX-Request": "true"},
    ).content.decode()
    assert offered(fragment) == {"滤芯到期", "无法启动"}
    assert " selected>" not in fragment.split('name="problem_type"')[1]  # dropped: it does not


def test_another_customers_unit_in_the_refresh_offers_everything(
    dispatcher_client, customer, lines, problems
):
    stranger = EquipmentFactory(product_model=ProductModelFactory(line=lines["water"]))
    fragment = dispatcher_client.get(
        entry_url(customer, equipment=stranger.pk), headers={"HX-Request": "true"}
    ).content.decode()
    assert len(offered(fragment)) == 4


def test_the_admin_edits_a_problem_types_lines(admin_client, lines, problems):
    url = reverse("admin:tickets_problemtype_change", args=[problems["nostart"].pk])
    page = admin_client.get(url).content.decode()
    assert "selectfilter" in page  # filter_horizontal: two lists, chosen and not
    response = admin_client.post(
        url,
        {
            "code": problems["nostart"].code,
            "name": "无法启动",
            "product_lines": [lines["water"].pk, lines["elevator"].pk],
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert set(ProblemType.objects.get(name="无法启动").product_lines.all()) == {
        lines["water"],
        lines["elevator"],
    }


@pytest.mark.parametrize("garbage", ["abc", "-1", "\x00", "99999999999999999999", "１２"])
def test_a_garbage_problem_type_in_the_refresh_is_ignored(
    dispatcher_client, customer, lines, problems, garbage
):
    unit = unit_of(customer, lines["water"])
    response = dispatcher_client.get(
        reverse("tickets:create"),
        {"customer": customer.pk, "equipment": unit.pk, "problem_type": garbage},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert offered(response.content.decode()) == {"滤芯到期", "无法启动"}
