"""The customer's side in a real browser, on a 375 px phone: scan the unit's QR code, report the
fault with a photo, follow it while the dispatcher assigns an engineer in another browser, then
download the service report once the work is done, rate it 2, and find it on top of the revisit
queue as "needs a call"."""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from tickets import services
from tickets.models import State, Ticket, Visit

from ..factories import (
    ContactFactory,
    CustomerFactory,
    EquipmentFactory,
    _close_visit,
    ticket_in_state,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width} px wide"


def test_a_customer_reports_from_the_qr_code_and_follows_the_request(
    page,
    mobile_page,
    new_context,
    live_server,
    login,
    dispatcher,
    engineer,
    revisit_agent,
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    customer = CustomerFactory(name="杭州明达食品有限公司")
    ContactFactory(customer=customer, name="王立新", mobile="13958001234", is_primary=True)
    unit = EquipmentFactory(customer=customer, serial_no="AC72-2026-004321")
    photo = tmp_path / "fault.jpg"
    Image.new("RGB", (3000, 2000), (30, 90, 160)).save(photo, "JPEG")
    day = timezone.localdate() + timedelta(days=1)

    # 1. The customer scans the code: the unit, its owner masked, the report form.
    phone = mobile_page
    phone.goto(f"{live_server.url}/q/{unit.qr_token}/")
    expect(phone.locator("#unit-facts")).to_contain_text("AC72-2026-004321")
    expect(phone.locator("#unit-facts")).to_contain_text("杭州******公司")
    no_sideways_scroll(phone)
    phone.select_option("select[name=problem_type]", index=0)
    phone.fill("textarea[name=description]", "冷库空调不制冷，显示 E4")
    phone.set_input_files("input[name=photos]", str(photo))
    phone.fill("input[name=contact_name]", "王立新")
    phone.fill("input[name=mobile]", "139 5800 1234")
    phone.fill("input[name=requested_date]", day.isoformat())
    phone.select_option("select[name=requested_window]", "afternoon")
    phone.locator("#report-form [type=submit]").click()

    # 2. The tracking page: the request is waiting for an engineer.
    expect(phone).to_have_url(re.compile(r"/t/[\w-]+/$"))
    ticket = Ticket.objects.get()
    assert ticket.channel == "qr" and ticket.customer_photos.count() == 1
    expect(phone.locator("#request-number")).to_contain_text(ticket.number)
    expect(phone.locator("#request-number")).to_contain_text("待分配")
    expect(phone.locator("#public-progress")).to_contain_text("已收到报修")
    no_sideways_scroll(phone)
    tracking = phone.url

    # 3. The dispatcher, in another browser, sees the customer's photo and assigns.
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, dispatcher)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator("#customer-photos img")).to_have_count(1)
    page.select_option("form[data-action=assign] select[name=engineer]", str(engineer.pk))
    page.locator("form[data-action=assign] [type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.state == State.ASSIGNED

    # 4. The customer's page now names the engineer and the appointment window.
    phone.goto(tracking)
    expect(phone.locator("#request-number")).to_contain_text("已分配")
    expect(phone.locator(".portal")).to_contain_text(str(engineer))
    expect(phone.locator("#appointment")).to_contain_text(day.isoformat())
    expect(phone.locator("#appointment")).to_contain_text("下午")
    expect(phone.locator("#public-progress")).to_contain_text("已派工程师")
    no_sideways_scroll(phone)

    # 5. Scanning again offers to add to the open request instead of a second one.
    phone.goto(f"{live_server.url}/q/{unit.qr_token}/")
    expect(phone.locator("#open-request")).to_contain_text(ticket.number)
    no_sideways_scroll(phone)

    # 6. The engineer does the work (their phone pages have journeys of their own).
    waiting = ticket_in_state(State.PROCESSED, dispatcher=dispatcher, engineer=engineer)
    ticket = services.perform(ticket, "accept", engineer)
    ticket = services.check_in(ticket, engineer)
    Visit.objects.filter(ticket=ticket, result="").update(
        work_done="更换压缩机启动电容，试机正常", labour_hours="1.5", labour_fee="180"
    )
    ticket = services.perform(ticket, "resolve", engineer, then=_close_visit)
    assert ticket.state == State.PROCESSED

    # 7. The customer downloads the service report: a PDF with the request's number in it.
    phone.goto(tracking)
    expect(phone.locator("#public-progress")).to_contain_text("服务已完成")
    with phone.expect_download() as download_info:
        phone.locator("#service-report-pdf").click()
    with open(download_info.value.path(), "rb") as f:
        pdf = f.read()
    assert pdf.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert ticket.number in text

    # 8. … and rates the service 2.
    phone.locator("label[for=rating-2]").click()
    phone.locator("#rating-comment").fill("等了两天才修好")
    phone.locator("#rating button[type=submit]").click()
    expect(phone.locator("#rating")).to_contain_text("2")
    no_sideways_scroll(phone)

    # 9. The revisit agent finds it on top of the queue, to be called.
    agent = new_context().new_page()
    login(agent, live_server, revisit_agent)
    agent.goto(f"{live_server.url}/tickets/revisits/")
    cards = agent.locator("article.revisit-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_attribute("data-ticket", ticket.number)
    expect(cards.first).to_contain_text("需回电")
    expect(cards.nth(1)).to_have_attribute("data-ticket", waiting.number)
