"""The whole closed loop in a real browser: entry → assignment → the engineer's visit on a phone
→ revisit → verification (核销) → the customer's view from the work order's QR code."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from aftersales.roles import Role
from tickets.models import State, Ticket

from ..factories import ContactFactory, CustomerFactory, EquipmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def accept_dialogs(page):
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def test_the_whole_loop(
    page,
    mobile_page,
    new_context,
    live_server,
    login,
    make_user,
    dispatcher,
    engineer,
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    customer = CustomerFactory(name="杭州明达食品有限公司")
    ContactFactory(customer=customer, name="王立新", mobile="13958001234", is_primary=True)
    unit = EquipmentFactory(customer=customer, serial_no="AC72-2026-004321")
    revisit = make_user(Role.REVISIT_AGENT)
    manager = make_user(Role.SERVICE_MANAGER)
    photo = tmp_path / "site.jpg"
    Image.new("RGB", (2400, 1800), (180, 90, 40)).save(photo, "JPEG")

    # 1. The dispatcher finds the caller, enters the request and assigns the engineer.
    accept_dialogs(page)
    login(page, live_server, dispatcher)
    page.goto(f"{live_server.url}/tickets/new/")
    page.fill("input[name=q]", "明达")
    page.keyboard.press("Enter")
    page.locator("#customer-results a", has_text="选择").first.click()
    expect(page.locator("#facts-units")).to_contain_text("AC72-2026-004321")
    page.select_option("select[name=equipment]", str(unit.pk))
    page.select_option("select[name=service_type]", "repair")  # chosen, never a default
    page.select_option("select[name=priority]", "high")
    page.fill("textarea[name=description]", "冷库空调不制冷，温度升到 12 度")
    page.locator("#ticket-form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    expect(page.locator("h1")).to_contain_text(ticket.number)
    page.select_option("form[data-action=assign] select[name=engineer]", str(engineer.pk))
    page.locator("form[data-action=assign] [type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.state, ticket.engineer) == (State.ASSIGNED, engineer)

    # 2. The engineer, on a 375 px phone: open the job, check in, record the visit, resolved.
    phone = accept_dialogs(mobile_page)
    login(phone, live_server, engineer)
    phone.goto(f"{live_server.url}/m/")
    phone.get_by_text(ticket.number).first.click()
    expect(phone.locator("a[href^='tel:']").first).to_be_visible()
    phone.locator("form[data-action=check_in] [type=submit]").click()
    expect(phone.locator("#visit-form")).to_be_visible()
    phone.fill("textarea[name=work_done]", "更换压缩机启动电容，试机制冷正常，库温降至 2 度")
    phone.fill("input[name=labour_hours]", "1.5")
    phone.fill("input[name=labour_fee]", "180")
    phone.fill("input[name=travel_fee]", "40")
    phone.set_input_files("input[name=photos]", str(photo))
    canvas = phone.locator("#signature-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + 30)
    phone.mouse.down()
    for step in range(1, 12):
        phone.mouse.move(box["x"] + 20 + step * 20, box["y"] + 30 + (step % 3) * 15)
    phone.mouse.up()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.locator("button[name=result][value=resolved]").click()
    expect(phone.locator(".alert-success")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.state == State.PROCESSED
    visit = ticket.visits.get()
    assert visit.signature and visit.photos.count() == 1
    assert max(Image.open(visit.photos.get().image.path).size) <= 1600

    # 3. The revisit agent calls the customer: satisfied, 5 points.
    agent_page = accept_dialogs(new_context().new_page())
    login(agent_page, live_server, revisit)
    agent_page.goto(f"{live_server.url}/tickets/revisits/")
    card = agent_page.locator(f"[data-ticket='{ticket.number}']")
    expect(card).to_contain_text("更换压缩机启动电容")
    card.locator("input[name=outcome][value=satisfied]").check()
    card.locator("select[name=score]").select_option("5")
    card.locator("input[name=comment]").fill("客户很满意")
    card.locator("[type=submit]").click()
    expect(agent_page.locator(".alert-success")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.state == State.CLOSED

    # 4. The service manager verifies the record.
    manager_page = accept_dialogs(new_context().new_page())
    login(manager_page, live_server, manager)
    manager_page.goto(f"{live_server.url}/tickets/manager/")
    row = manager_page.locator(f"#verify-queue tr[data-ticket='{ticket.number}']")
    row.locator("form[action$='/verify/'] [type=submit]").click()
    expect(manager_page.locator(".alert-success")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.state == State.VERIFIED

    # 5. The work order's QR link shows the customer the state and the report, without a login.
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/work-order/")
    expect(page.locator("#work-order svg")).to_be_visible()
    public_url = page.locator(".work-order-qr").get_attribute("title")
    customer_page = new_context().new_page()
    customer_page.goto(public_url)
    expect(customer_page.locator("h1")).to_contain_text("已核销")
    expect(customer_page.locator("#public-report")).to_contain_text("更换压缩机启动电容")
    expect(customer_page.locator("main")).not_to_contain_text("客户很满意")
