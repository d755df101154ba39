"""In a real browser (htmx under the CSP): the dispatcher types a description and the knowledge
base's suggestions appear beside the entry form; the engineer on a phone (375 px) sees the
suggested article on the job page and marks it as solving the problem, and a repair template
fills the visit record."""

import pytest
from playwright.sync_api import expect

from knowledge.models import Article, RepairTemplate
from tickets.models import ServiceType, State

from ..factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    ProductLineFactory,
    ProductModelFactory,
    ticket_in_state,
)
from ..knowledge.suggest_data import article, resolved_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= 375")


@pytest.fixture
def line():
    return ProductLineFactory(code="HVAC", name="商用空调")


def test_suggestions_appear_while_the_dispatcher_types(
    page, live_server, login, dispatcher, engineer, service_manager, line
):
    known = article(service_manager, line, title="压缩机不启动的排查")
    past = resolved_ticket(dispatcher, engineer, line, "压缩机不启动，开机无反应")
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_primary=True)
    unit = EquipmentFactory(customer=customer, product_model=ProductModelFactory(line=line))

    login(page, live_server, dispatcher)
    page.goto(f"{live_server.url}/tickets/new/?customer={customer.pk}")
    panel = page.locator("#kb-suggest-results")
    expect(panel.locator(".kb-hint")).to_be_visible()  # nothing typed yet: a quiet hint

    page.select_option("#id_equipment", str(unit.pk))
    page.locator("#id_description").press_sequentially("压缩机不启动", delay=30)

    expect(panel.locator(f"[data-article='{known.pk}']")).to_be_visible()
    expect(panel.locator(f"[data-ticket='{past.pk}']")).to_contain_text(past.number)
    expect(panel.locator(f"[data-ticket='{past.pk}'] a")).to_have_attribute(
        "href", f"/tickets/{past.pk}/"
    )


def test_the_engineer_marks_a_suggested_article_helpful_on_the_phone(
    mobile_page, live_server, login, dispatcher, engineer, service_manager, line
):
    known = article(service_manager, line, title="压缩机不启动的排查")
    resolved_ticket(dispatcher, engineer, line, "压缩机不启动，开机无反应")
    RepairTemplate.objects.create(
        name="空调压缩机维修",
        service_type=ServiceType.REPAIR,
        product_line=line,
        steps="断电检查\n更换启动电容",
        parts="启动电容 × 1\n密封圈x2",
        labour_hours="1.5",
    )
    unit = EquipmentFactory(product_model=ProductModelFactory(line=line))
    ticket = ticket_in_state(
        State.IN_SERVICE,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        service_type=ServiceType.REPAIR,
        description="压缩机不启动",
    )
    page = mobile_page

    login(page, live_server, engineer)
    page.goto(f"{live_server.url}/m/jobs/{ticket.pk}/")
    suggested = page.locator(f"#kb-suggest-results [data-article='{known.pk}']")
    expect(suggested).to_be_visible()
    assert no_horizontal_scroll(page), "job page with suggestions"

    # The engineer reads the suggested article, then comes back to the job.
    suggested.locator(".kb-hit-title a").click()
    expect(page.locator("h1")).to_contain_text("压缩机不启动的排查")
    assert no_horizontal_scroll(page), "the article on the phone"
    page.go_back()
    expect(suggested).to_be_visible()

    suggested.locator("[data-feedback=yes]").click()
    expect(suggested.locator("[data-feedback=yes]")).to_have_attribute("aria-pressed", "true")
    expect(suggested.locator(".kb-counters")).to_have_attribute("data-helped", "1")
    known.refresh_from_db()
    assert (known.helped, known.failed, known.uses) == (1, 0, 1)
    assert page.url.endswith(f"/m/jobs/{ticket.pk}/")  # stayed on the job (htmx)

    # Changing one's mind moves the count.
    suggested.locator("[data-feedback=no]").click()
    expect(suggested.locator("[data-feedback=no]")).to_have_attribute("aria-pressed", "true")
    fresh = Article.objects.get(pk=known.pk)
    assert (fresh.helped, fresh.failed, fresh.uses) == (0, 1, 1)

    # The repair template fills the visit record.
    page.select_option("#repair-template", label="空调压缩机维修")
    expect(page.locator("textarea[name=work_done]")).to_have_value("断电检查\n更换启动电容")
    expect(page.locator("input[name=labour_hours]")).to_have_value("1.5")
    expect(page.locator("input[name=parts-0-name]")).to_have_value("启动电容")
    expect(page.locator("input[name=parts-1-name]")).to_have_value("密封圈")
    expect(page.locator("input[name=parts-1-quantity]")).to_have_value("2")
    assert no_horizontal_scroll(page), "visit form with a template"
