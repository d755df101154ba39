"""Every list and entry page, fed garbage in each GET parameter its forms offer: never a 500.

The parameters are read off each page's own GET forms (and `page`), so a filter added later is
fuzzed too. Values: hypothesis's text plus the ones that broke pages before (a NUL, letters
for an id, a number past any column, an impossible date, a huge page).
"""

import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import EquipmentFactory, enter_ticket

PAGES = [
    ("dispatcher", "tickets:list"),
    ("dispatcher", "tickets:create"),
    ("dispatcher", "tickets:intake_list"),
    ("revisit_agent", "tickets:revisit_queue"),
    ("service_manager", "tickets:manager_queues"),
    ("engineer", "mobile:jobs"),
    ("dispatcher", "customers:list"),
    ("dispatcher", "customers:equipment_list"),
    ("dispatcher", "customers:agreement_list"),
    ("dispatcher", "customers:plan_list"),
    ("engineer", "customers:plan_list"),
    ("dispatcher", "customers:product_list"),
    ("finance", "customers:exports"),
    ("administrator", "org:user_list"),
    ("administrator", "org:servicepoint_list"),
    ("administrator", "org:engineer_list"),
    ("service_manager", "org:calendar_list"),
    ("service_manager", "org:calendar_year"),
    ("dispatcher", "notifications:list"),
]
# Parameters a page reads that no GET form of it offers (links carry them).
EXTRA = {
    "tickets:create": ["customer", "equipment", "problem_type", "q", "intake"],
    "tickets:manager_queues": ["locked_page", "closed_page"],
    "mobile:jobs": ["tab"],
    "customers:plan_list": ["equipment"],
}
ARGS = {"org:calendar_year": ["cn-statutory"]}

NASTY = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "abc",
        "-1",
        "0",
        "99999999999999999999",
        "1e309",
        "2026-02-31",
        "31.12.2026",
        "%",
        "' OR 1=1 --",
        "１２３",
        "🙂",
        "x" * 5000,
    ]
)
VALUES = st.one_of(NASTY, st.text(max_size=40))


def offered_names(html):
    """The names of the inputs and selects of the page's GET forms."""
    names = {"page"}
    for form in re.findall(r"<form(?![^>]*method=\"post\")[^>]*>(.*?)</form>", html, re.S):
        names |= set(re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', form))
    return sorted(names - {"csrfmiddlewaretoken"})


@pytest.fixture
def some_rows(dispatcher):
    unit = EquipmentFactory()
    enter_ticket(dispatcher, customer=unit.customer, equipment=unit)


@pytest.mark.parametrize(("role", "name"), PAGES)
def test_no_parameter_value_makes_a_page_fail(role, name, request, client_for, some_rows):
    client = client_for(request.getfixturevalue(role))
    url = reverse(name, args=ARGS.get(name))
    page = client.get(url)
    assert page.status_code == 200
    names = sorted(set(offered_names(page.content.decode())) | set(EXTRA.get(name, [])))

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=3))
    def garbage(params):
        response = client.get(url, params)
        assert response.status_code in (200, 302, 404), (params, response.status_code)

    garbage()
