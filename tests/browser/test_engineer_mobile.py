"""A field engineer's visit on a phone (375 px): open the job, check in, record, sign, resolve."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tickets.models import State, Ticket

from ..factories import EquipmentFactory, ticket_in_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= 375")


def photo_bytes():
    out = io.BytesIO()
    Image.new("RGB", (2400, 1800), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_engineer_checks_in_records_the_visit_and_reports_it_resolved(
    mobile_page, live_server, login, dispatcher, engineer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    unit = EquipmentFactory(serial_no="WP800-2026-000123")
    ticket = ticket_in_state(
        State.ASSIGNED,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        address="苏州工业园区星湖街 328 号 3 号车间",
        contact_name="周建国",
        contact_phone="13912345678",
        description="净水器出水量明显变小，滤芯报警灯常亮",
    )
    page = mobile_page
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 31.3162, "longitude": 120.7231})
    page.on("dialog", lambda dialog: dialog.accept())  # the "Resolved?" confirmation

    login(page, live_server, engineer)
    page.goto(f"{live_server.url}/m/")
    expect(page.locator("#jobs")).to_contain_text(ticket.number)
    assert no_horizontal_scroll(page), "job list"

    page.locator(f"[data-job='{ticket.pk}'] a.job-number").click()
    expect(page).to_have_url(re.compile(rf"/m/jobs/{ticket.pk}/$"))
    expect(page.locator("#call-contact")).to_have_attribute("href", "tel:13912345678")
    expect(page.locator("#map-link")).to_have_attribute("href", re.compile(r"uri\.amap\.com"))
    expect(page.locator("main")).to_contain_text("WP800-2026-000123")
    assert no_horizontal_scroll(page), "job page"

    # Check in: the phone's position is filled in by visit.js.
    check_in = page.locator("form[data-action=check_in]")
    expect(check_in.locator("[data-geo-lat]")).to_have_value(re.compile(r"^31\.3"))
    check_in.locator("button[type=submit]").click()
    expect(page.locator("#visit-form")).to_be_visible()
    assert no_horizontal_scroll(page), "visit form"

    form = page.locator("#visit-form")
    form.locator("textarea[name=work_done]").fill("更换 PP 棉滤芯和 RO 膜，冲洗管路，试机出水正常")
    form.locator("input[name=labour_hours]").fill("1.5")
    form.locator("input[name=labour_fee]").fill("150")
    form.locator("input[name=travel_fee]").fill("30")
    form.locator("input[name=parts-0-name]").fill("RO 膜 75G")
    form.locator("input[name=parts-0-quantity]").fill("1")
    form.locator("[data-parts-add]").click()
    expect(form.locator("input[name=parts-2-name]")).to_be_focused()
    form.locator("input[name=parts-2-name]").fill("PP 棉滤芯")
    form.locator("input[name=parts-2-quantity]").fill("2")
    form.locator("input[name=photos]").set_input_files(
        files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}]
    )

    # The customer signs with a finger; here the mouse draws two strokes on the canvas.
    canvas = form.locator("[data-signature-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for y in (0.35, 0.65):
        page.mouse.move(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * y)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(
                box["x"] + box["width"] * (0.15 + 0.07 * step),
                box["y"] + box["height"] * (y + (0.1 if step % 2 else -0.1)),
                steps=3,
            )
        page.mouse.up()
    expect(form.locator("input[name=signature]")).to_have_value(
        re.compile(r"^data:image/png;base64,")
    )
    assert no_horizontal_scroll(page), "visit form, filled"

    form.locator("button[name=result][value=resolved]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#visit-form")).to_have_count(0)

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.state == State.PROCESSED
    visit = ticket.visits.get()
    assert visit.result == "resolved"
    assert str(visit.latitude).startswith("31.316")
    assert visit.work_done.startswith("更换 PP 棉滤芯")
    assert [(p.name, str(p.quantity)) for p in visit.parts.all()] == [
        ("RO 膜 75G", "1.00"),
        ("PP 棉滤芯", "2.00"),
    ]
    assert visit.signature
    with Image.open(visit.signature.path) as signature:
        assert signature.format == "PNG"
        assert signature.getchannel("A").getbbox() is not None
    photo = visit.photos.get()
    with Image.open(photo.image.path) as image:
        assert image.format == "JPEG" and max(image.size) == 1600
    assert no_horizontal_scroll(page), "job page after the visit"
