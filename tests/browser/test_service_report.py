"""The customer's service report on a phone (375 px): from the tracking link to the web version
(photos shown, nothing wider than the screen) and the PDF download."""

import io
import time
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from playwright.sync_api import expect

from tests.factories import CustomerFactory, ticket_in_state
from tickets import services
from tickets.models import State

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = "https://pan.baidu.com/s/1Qx7ZkVb2WmLrT9yHnPe4AoKcJdUf3Gs8"


def jpeg(i):
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (40 * i, 110, 180)).save(out, "JPEG")
    return ContentFile(out.getvalue(), name=f"photo{i}.jpg")


def signature():
    out = io.BytesIO()
    Image.new("RGB", (900, 300), (255, 255, 255)).save(out, "PNG")
    return ContentFile(out.getvalue(), name="signature.png")


def test_a_customer_reads_and_downloads_the_report_on_a_phone(
    mobile_page, live_server, dispatcher, engineer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    ticket = ticket_in_state(
        State.IN_SERVICE,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=CustomerFactory(name="深圳市华瑞恒通精密机械电子科技股份有限公司南山第一分公司"),
        address="广东省深圳市南山区粤海街道科技园社区科苑路 8 号讯美科技广场 3 号楼 12 层 1201 室",
        description=f"冷库空调不制冷，控制面板报警 E4-COMPRESSOR-OVERLOAD-PROTECTION。照片：{LINK}",
    )
    ticket = services.finish_visit(
        ticket,
        engineer,
        version=None,
        record={"work_done": f"更换压缩机启动电容，试机正常。视频：{LINK}", "labour_hours": 2},
        parts=[("压缩机启动电容（35μF，耐压 450V，CBB65 型）", Decimal("1"))],
        photos=[jpeg(i) for i in range(6)],
        signature=signature(),
        resolved=True,
    )
    page = mobile_page
    page.goto(f"{live_server.url}/t/{ticket.public_token}/")
    offer = page.locator("#service-report")
    expect(offer).to_be_visible()

    offer.locator("#service-report-web").click()
    expect(page.locator("#service-report")).to_contain_text(ticket.number)
    photos = page.locator(".report-photos img")
    expect(photos).to_have_count(6)
    # Every photo and the signature arrive (waited for: a busy machine serves them slowly).
    # (Polled from here: wait_for_function compiles its predicate in the page, which the
    # Content-Security-Policy forbids.)
    arrived = (
        "[...document.querySelectorAll('.report img')].every((i) => i.complete && i.naturalWidth)"
    )
    deadline = time.monotonic() + 15
    while not page.evaluate(arrived):
        assert time.monotonic() < deadline, "the report's photos did not arrive"
        page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(
        "[...document.querySelectorAll('.report *')]"
        ".every((e) => e.getBoundingClientRect().right <= window.innerWidth + 1)"
    ), "something reaches past the screen's edge"

    with page.expect_download() as download_info:
        page.locator("#report-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"服务报告-{ticket.number}.pdf"
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
