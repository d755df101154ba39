"""A dispatcher's first day, in a real browser (Debian's Chromium driven by Playwright)."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer, Equipment

from ..factories import ProductModelFactory, RegionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_dispatcher_creates_customer_contact_and_unit_then_opens_its_qr_code(
    page, mobile_page, live_server, login, dispatcher
):
    region = RegionFactory(name="苏州")
    model = ProductModelFactory(name="商用净水器", code="WP-800", warranty_months=24)

    login(page, live_server, dispatcher)
    page.goto(f"{live_server.url}/customers/new/")
    page.fill("input[name=name]", "苏州恒通精密机械有限公司")
    page.select_option("select[name=kind]", "company")
    page.select_option("select[name=level]", "strategic")
    page.select_option("select[name=region]", str(region.pk))
    page.fill("input[name=phone]", "0512-62581234")
    page.fill("input[name=address]", "苏州工业园区星湖街 328 号")
    page.fill("input[name=contacts-0-name]", "周建国")
    page.fill("input[name=contacts-0-title]", "设备部经理")
    page.fill("input[name=contacts-0-mobile]", "139 1234 5678")
    page.check("input[name=contacts-0-is_primary]")
    page.locator("main form[method=post] [type=submit]").last.click()

    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="苏州恒通精密机械有限公司")
    assert page.url.endswith(f"/customers/{customer.pk}/")
    expect(page.locator("main")).to_contain_text("周建国")
    expect(page.locator("main")).to_contain_text("13912345678")

    # Add a unit from the customer's 360° page.
    page.locator(f"a[href$='/customers/{customer.pk}/equipment/new/']").first.click()
    page.select_option("select[name=product_model]", str(model.pk))
    page.fill("input[name=serial_no]", "WP800-2026-000777")
    page.fill("input[name=purchase_date]", "2026-05-01")
    page.fill("input[name=install_date]", "2026-05-03")
    page.fill("input[name=install_address]", "苏州工业园区星湖街 328 号 3 号车间")
    page.locator("main form[method=post] [type=submit]").last.click()

    expect(page).to_have_url(re.compile(r"/customers/equipment/\d+/$"))
    unit = Equipment.objects.get(serial_no="WP800-2026-000777")
    assert str(unit.warranty_end) == "2028-04-30"
    expect(page.locator("#qr svg")).to_be_visible()

    # The 360° page now shows the unit with its warranty.
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.locator("main")).to_contain_text("WP800-2026-000777")
    expect(page.locator("main")).to_contain_text("2028-04-30")

    # The QR code's address opens the public page; a customer opens it on a phone.
    page.goto(f"{live_server.url}/customers/equipment/{unit.pk}/")
    qr_url = page.locator(f"a[href*='/q/{unit.qr_token}/']").first.get_attribute("href")
    mobile_page.goto(qr_url if qr_url.startswith("http") else live_server.url + qr_url)
    expect(mobile_page.locator("body")).to_contain_text("WP800-2026-000777")
    expect(mobile_page.locator("body")).to_contain_text("商用净水器")
    expect(mobile_page.locator("body")).not_to_contain_text("恒通精密")
    assert no_horizontal_scroll(mobile_page)


def test_customer_pages_fit_a_phone_screen(mobile_page, live_server, login, dispatcher):
    from ..factories import ContactFactory, CustomerFactory, EquipmentFactory

    customer = CustomerFactory(name="重庆天盛物业管理有限公司")
    ContactFactory(customer=customer, is_primary=True)
    EquipmentFactory.create_batch(3, customer=customer)
    login(mobile_page, live_server, dispatcher)
    for path in ("/customers/", f"/customers/{customer.pk}/"):
        mobile_page.goto(live_server.url + path)
        expect(mobile_page.locator("main")).to_contain_text("重庆天盛物业")
        assert no_horizontal_scroll(mobile_page), path
