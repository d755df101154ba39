"""An export on a phone (375 px): ask on the import/export page, watch the job page move by
itself when the worker has written the file, download it."""

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from customers import exports, tasks
from customers.models import ExportJob

from ..factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= 375")


def test_dispatcher_asks_for_an_export_and_downloads_it_when_ready(
    mobile_page, live_server, login, dispatcher, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    # No worker in this test: the task is run below, as a worker would, while the page waits.
    monkeypatch.setattr(exports, "publish", lambda task, *args: True)
    CustomerFactory.create_batch(3)
    page = mobile_page
    login(page, live_server, dispatcher)

    page.goto(f"{live_server.url}/customers/transfer/")
    assert no_horizontal_scroll(page), "import/export page"
    page.locator("#export-card li").first.get_by_role("button", name="Excel").click()
    expect(page).to_have_url(re.compile(r"/customers/transfer/exports/\d+/$"))
    expect(page.locator("#export-progress")).to_be_visible()
    expect(page.locator("#export-job-state")).to_contain_text("排队中")
    assert no_horizontal_scroll(page), "job page, running"

    tasks.write_export_job(ExportJob.objects.get().pk)
    # The page polls its status and reloads itself once the file is written.
    expect(page.locator("#export-download")).to_be_visible(timeout=10_000)
    expect(page.locator("#export-job-state")).to_contain_text("已完成")
    assert no_horizontal_scroll(page), "job page, done"

    with page.expect_download() as download:
        page.locator("#export-download").click()
    assert re.fullmatch(r"customers-\d{8}-\d{4}\.xlsx", download.value.suggested_filename)
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    rows = list(book.active.values)
    assert rows[0][0] == "客户编码" and len(rows) == 4

    page.goto(f"{live_server.url}/customers/transfer/exports/")
    expect(page.locator("#export-jobs")).to_contain_text("已完成")
    assert no_horizontal_scroll(page), "exports page"
