"""The calendar pages on a phone (375 px): the list and a year's month grids fit the width, and a
service manager marks a holiday range there."""

import re

import pytest
from playwright.sync_api import expect

from aftersales.models import BusinessCalendar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_service_manager_reads_and_edits_a_year_on_a_phone(
    mobile_page, live_server, login, service_manager
):
    page = mobile_page
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, service_manager)

    page.goto(f"{live_server.url}/org/calendars/")
    expect(page.locator("main")).to_contain_text("中国法定工作日")
    assert no_horizontal_scroll(page), "calendar list"

    page.goto(f"{live_server.url}/org/calendars/cn-statutory/?year=2027")
    new_year = page.locator("td[data-date='2027-01-01']")
    expect(new_year).to_have_attribute("data-kind", "holiday")
    expect(new_year).to_contain_text("休")
    assert no_horizontal_scroll(page), "year view"

    form = page.locator("#mark-days form")
    form.locator("select[name=kind]").select_option("holiday")
    form.locator("input[name=first]").fill("2027-12-30")
    form.locator("input[name=last]").fill("2027-12-31")
    form.locator("input[name=name]").fill("年终盘点")
    form.locator("button[value=add]").click()
    expect(page).to_have_url(re.compile(r"/org/calendars/cn-statutory/\?year=2027$"))
    expect(page.locator("td[data-date='2027-12-31']")).to_have_attribute("data-kind", "holiday")
    expect(page.locator("#year-days")).to_contain_text("年终盘点")
    assert no_horizontal_scroll(page), "year view after the edit"
    assert "2027-12-30" in BusinessCalendar.objects.get(code="cn-statutory").holidays
