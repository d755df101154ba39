"""In a real browser: the entry page follows the unit's choice with its problem types (htmx under
the CSP); the service manager's queues page on a phone; the revisit queue's search on a phone."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tickets.models import State

from ..factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    ProblemTypeFactory,
    ProductLineFactory,
    ProductModelFactory,
    queued_tickets,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= 375")


def options(page):
    return page.locator("select[name=problem_type] option").all_inner_texts()


def test_choosing_the_unit_offers_its_problem_types(page, live_server, login, dispatcher):
    water, elevator = ProductLineFactory(name="净水器"), ProductLineFactory(name="电梯")
    ProblemTypeFactory(name="电梯困人", product_lines=[elevator])
    ProblemTypeFactory(name="滤芯到期", product_lines=[water])
    ProblemTypeFactory(name="无法启动")
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True)
    purifier = EquipmentFactory(customer=customer, product_model=ProductModelFactory(line=water))
    lift = EquipmentFactory(customer=customer, product_model=ProductModelFactory(line=elevator))

    login(page, live_server, dispatcher)
    page.goto(f"{live_server.url}/tickets/new/?customer={customer.pk}")
    assert {"电梯困人", "滤芯到期", "无法启动"} <= set(options(page))

    page.select_option("select[name=equipment]", str(purifier.pk))
    expect(page.locator("select[name=problem_type]")).not_to_contain_text("电梯困人")
    assert set(options(page)) - {options(page)[0]} == {"滤芯到期", "无法启动"}
    page.select_option("select[name=problem_type]", label="无法启动")

    # Another unit: its line's types; the general one chosen stays chosen.
    page.select_option("select[name=equipment]", str(lift.pk))
    expect(page.locator("select[name=problem_type]")).to_contain_text("电梯困人")
    assert "滤芯到期" not in options(page)
    expect(page.locator("select[name=problem_type] option:checked")).to_have_text("无法启动")


def test_the_manager_pages_the_verification_queue_on_a_phone(
    mobile_page, live_server, login, dispatcher, service_manager
):
    page = mobile_page
    size = settings.PAGE_SIZE
    queued_tickets(3, State.LOCKED, dispatcher)
    closed = queued_tickets(size + 1, State.CLOSED, dispatcher)

    login(page, live_server, service_manager)
    page.goto(f"{live_server.url}/tickets/manager/")
    expect(page.locator("#closed-count")).to_have_text(str(size + 1))
    assert no_horizontal_scroll(page), "manager queues, first page"

    page.locator("#verify-queue .pagination-bar a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"closed_page=2#verify-queue$"))
    row = page.locator(f"#verify-queue tr[data-ticket='{closed[size]}']")
    expect(row).to_be_visible()
    assert no_horizontal_scroll(page), "manager queues, second page"
    button = row.locator("button.btn-success").bounding_box()
    assert button["x"] + button["width"] <= 375  # 核销 on screen


def test_the_revisit_agent_searches_the_queue_on_a_phone(
    mobile_page, live_server, login, dispatcher, revisit_agent
):
    page = mobile_page
    queued_tickets(3, State.PROCESSED, dispatcher)
    (wanted,) = queued_tickets(1, State.PROCESSED, dispatcher, contact_phone="13977776666")

    login(page, live_server, revisit_agent)
    page.goto(f"{live_server.url}/tickets/revisits/")
    expect(page.locator(".revisit-card")).to_have_count(4)
    assert no_horizontal_scroll(page), "revisit queue"

    page.fill("input[name=q]", "13977776666")
    page.keyboard.press("Enter")
    expect(page.locator(".revisit-card")).to_have_count(1)
    expect(page.locator(".revisit-card")).to_contain_text(wanted)
    assert no_horizontal_scroll(page), "revisit queue, searched"
